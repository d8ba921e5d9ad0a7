package evtx

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"
	"triage/internal/testcorpus"
)

// FuzzReader feeds arbitrary bytes through the whole reader: header, chunk
// walk, slack carving, BinXml, substitution and XML rendering. It is seeded
// with the first chunk of every damaged corpus file and of the attack logs.
func FuzzReader(f *testing.F) {
	dir := testcorpus.Dir(f)
	for _, sub := range []string{"evtx/damaged", "evtx/powershell"} {
		paths, _ := filepath.Glob(filepath.Join(dir, sub, "*.evtx"))
		for _, p := range paths {
			b, err := os.ReadFile(p)
			if err != nil {
				f.Fatal(err)
			}
			// The file header and the start of the first chunk hold the
			// structures worth mutating; small inputs keep executions fast.
			if len(b) > fileHeaderSize+16384 {
				b = b[:fileHeaderSize+16384]
			}
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > fileHeaderSize+2*chunkSize {
			return
		}
		r, err := NewReader(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			return
		}
		r.SetWorkers(1)
		start := time.Now()
		for rec := range r.Records() {
			if rec != nil {
				_ = rec.XML()
			}
		}
		// A parser that slows to a crawl on crafted input is a hang in the
		// field; fail so the fuzzer keeps the input. The bound is loose
		// because two cores are shared with other fuzzers and builds.
		if d := time.Since(start); d > 10*time.Second {
			t.Fatalf("%d bytes took %v", len(data), d)
		}
	})
}
