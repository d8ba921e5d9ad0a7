package main

import (
	"bytes"
	"encoding/json"
	"io"
	"math/rand/v2"
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
	for b.Loop() {
		if code := runDumpEVTX(files, io.Discard, io.Discard); code != exitOK {
			b.Fatalf("exit %d", code)
		}
	}
}

// TestAppendJSONString checks the hand-written encoder against
// encoding/json, which the dump's output was first written with.
func TestAppendJSONString(t *testing.T) {
	cases := []string{"", "plain", `quote " and \ backslash`, "<script>&amp;</script>",
		"\x00\x01\b\f\n\r\t\x1f\x7f", "caf\u00e9 \u2028 \u2029 \U0001F600", "bad \xff\xfe utf8 \xe2\x82",
		"S-1-5-21-1004336348-1177238915-682003330-512", "C:\\Windows\\System32\\cmd.exe"}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		b := make([]byte, rng.IntN(40))
		for i := range b {
			b[i] = byte(rng.IntN(256))
			if rng.IntN(2) == 0 {
				const tricky = "\"\\<>&\n\x00a\u2028"
				b[i] = tricky[rng.IntN(len(tricky))]
			}
		}
		cases = append(cases, string(b))
	}
	// Every byte value at every place of a word, among plain bytes.
	for c := range 256 {
		for at := range 17 {
			b := []byte("abcdefghijklmnopq")
			b[at] = byte(c)
			cases = append(cases, string(b))
		}
	}
	for _, s := range cases {
		want, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendJSONString(nil, s); !bytes.Equal(got, want) {
			t.Errorf("%q: got %s, want %s", s, got, want)
		}
	}
}
