package main

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"triage/internal/testcorpus"
	"triage/parsers/evtx"
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

// TestDumpEVTX checks the command's contract: one JSON object per record
// with the documented keys, damage on stderr with its offset and exit 0, a
// file that is not EVTX named on stderr with exit 1, and usage errors 2.
func TestDumpEVTX(t *testing.T) {
	damaged := testcorpus.Dir(t, "evtx", "damaged")
	truncated := filepath.Join(damaged, "plaso-System2-truncated.evtx")
	notEVTX := filepath.Join(damaged, "not-evtx-16-bytes.evtx")

	var stdout, stderr bytes.Buffer
	if status := runDumpEVTX([]string{truncated}, &stdout, &stderr); status != exitOK {
		t.Fatalf("truncated file: status %d, want %d; stderr %s", status, exitOK, stderr.String())
	}
	if !regexp.MustCompile(`(?m)^triage: ` + regexp.QuoteMeta(truncated) + `: .* at offset 0x[0-9a-f]+`).MatchString(stderr.String()) {
		t.Errorf("stderr does not name the damage and its offset:\n%s", stderr.String())
	}
	f, err := evtx.Open(truncated)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var ids, numbers []uint64
	for rec := range f.Records() {
		if rec != nil {
			ids, numbers = append(ids, recordID(rec)), append(numbers, rec.ID)
		}
	}
	lines := strings.Split(strings.TrimSuffix(stdout.String(), "\n"), "\n")
	if len(lines) != len(ids) || len(ids) == 0 {
		t.Fatalf("%d lines for %d records", len(lines), len(ids))
	}
	timeRE := regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{7}Z$`)
	for i, line := range lines {
		var obj map[string]any
		if err := json.Unmarshal([]byte(line), &obj); err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		for _, k := range []string{"file", "record_id", "record_number", "time", "event_id", "provider", "channel", "computer", "user_sid", "level", "data", "recovered"} {
			if _, ok := obj[k]; !ok {
				t.Fatalf("line %d has no %q: %s", i+1, k, line)
			}
		}
		if obj["file"] != truncated || uint64(obj["record_id"].(float64)) != ids[i] || uint64(obj["record_number"].(float64)) != numbers[i] || !timeRE.MatchString(obj["time"].(string)) {
			t.Fatalf("line %d: %s", i+1, line)
		}
		if _, ok := obj["data"].(map[string]any); !ok {
			t.Fatalf("line %d: data is not an object", i+1)
		}
	}

	stdout.Reset()
	stderr.Reset()
	if status := runDumpEVTX([]string{"--xml", truncated}, &stdout, &stderr); status != exitOK {
		t.Fatalf("--xml: status %d", status)
	}
	if n := strings.Count(stdout.String(), "<Event xmlns="); n != len(ids) {
		t.Errorf("--xml printed %d events, want %d", n, len(ids))
	}

	stderr.Reset()
	if status := runDumpEVTX([]string{notEVTX}, io.Discard, &stderr); status != exitFail || !strings.HasPrefix(stderr.String(), "triage: "+notEVTX+": ") {
		t.Errorf("not EVTX: status %d, stderr %q", status, stderr.String())
	}
	if status := runDumpEVTX(nil, io.Discard, io.Discard); status != exitUsage {
		t.Errorf("no files: status %d, want %d", status, exitUsage)
	}
	if status := runDumpEVTX([]string{"--nosuchflag", truncated}, io.Discard, io.Discard); status != exitUsage {
		t.Errorf("bad flag: status %d, want %d", status, exitUsage)
	}
}
