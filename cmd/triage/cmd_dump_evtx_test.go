package main

import (
	"io"
	"os"
	"path/filepath"
	"testing"
	"triage/internal/testcorpus"
)

// benchEVTXFiles are the logs scripts/bench-evtx.sh compares by default.
func benchEVTXFiles(tb testing.TB) ([]string, int64) {
	dir := testcorpus.Dir(tb)
	logs := filepath.Join(dir, "kape", "APTSIM-WIN10", "C", "Windows", "System32", "winevt", "Logs")
	files := []string{
		filepath.Join(dir, "evtx", "powershell", "Microsoft-Windows-Sysmon%4Operational.evtx"),
		filepath.Join(dir, "evtx", "powershell", "Microsoft-Windows-PowerShell%4Operational.evtx"),
		filepath.Join(logs, "Security.evtx"),
		filepath.Join(logs, "System.evtx"),
	}
	var size int64
	for _, f := range files {
		st, err := os.Stat(f)
		if err != nil {
			tb.Fatal(err)
		}
		size += st.Size()
	}
	return files, size
}

// BenchmarkDumpEVTX runs `triage dump evtx` on the bench script's files.
func BenchmarkDumpEVTX(b *testing.B) {
	files, size := benchEVTXFiles(b)
	b.SetBytes(size)
	b.ReportAllocs()
	// CPU time is the figure to compare on a shared machine: wall time
	// moves with whatever else runs beside the benchmark.
	cpuStart := cpuTime()
	for b.Loop() {
		if code := runDumpEVTX(files, io.Discard, io.Discard); code != exitOK {
			b.Fatalf("exit %d", code)
		}
	}
	if cpu := cpuTime() - cpuStart; cpu > 0 {
		b.ReportMetric(float64(cpu.Microseconds())/1000/float64(b.N), "cpu-ms/op")
	}
}
