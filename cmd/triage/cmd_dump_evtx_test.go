package main

import (
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"triage/internal/testcorpus"
	"triage/parsers/evtx"
	"triage/timeline"
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

// TestAppendJSONString checks the fast path against timeline's encoder on
// every byte at every position of a word, and on random strings.
func TestAppendJSONString(t *testing.T) {
	check := func(s string) {
		t.Helper()
		if got, want := appendJSONString(nil, s), timeline.AppendJSONString(nil, s); string(got) != string(want) {
			t.Fatalf("%q: got %s, want %s", s, got, want)
		}
	}
	for c := 0; c < 256; c++ {
		for pos := 0; pos < 17; pos++ {
			b := []byte("abcdefghijklmnopq")
			b[pos] = byte(c)
			check(string(b[:pos+1]))
			check(string(b))
		}
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for range 10000 {
		b := make([]byte, rng.IntN(40))
		for i := range b {
			b[i] = byte(0x20 + rng.IntN(0x60))
			if rng.IntN(50) == 0 {
				b[i] = byte(rng.IntN(256))
			}
		}
		check(string(b))
	}
}

// TestAppendTime checks the fixed-layout formatter against time's.
func TestAppendTime(t *testing.T) {
	times := []time.Time{{}, time.Date(1601, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC),
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(60056, 5, 28, 5, 36, 10, 955161500, time.UTC), time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC)}
	rng := rand.New(rand.NewPCG(5, 6))
	for range 10000 {
		times = append(times, time.Unix(rng.Int64N(1<<35)-1<<34, rng.Int64N(1e9)).UTC())
	}
	for _, tm := range times {
		if got, want := appendTime(nil, tm), tm.AppendFormat(nil, evtx.TimeLayout); string(got) != string(want) {
			t.Fatalf("%v: got %s, want %s", tm, got, want)
		}
	}
}
