package evtx

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// FuzzReader feeds arbitrary bytes through the whole reader: header, chunk
// walk, slack carving, BinXml, substitution and XML rendering. It is seeded
// with the first chunk of every damaged corpus file and of the attack logs.
func FuzzReader(f *testing.F) {
	dir := corpusDir(f)
	for _, sub := range []string{"evtx/damaged", "evtx/powershell"} {
		paths, _ := filepath.Glob(filepath.Join(dir, sub, "*.evtx"))
		for _, p := range paths {
			b, err := os.ReadFile(p)
			if err != nil {
				f.Fatal(err)
			}
			if len(b) > fileHeaderSize+chunkSize {
				b = b[:fileHeaderSize+chunkSize]
			}
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := NewReader(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			return
		}
		r.SetWorkers(1)
		for rec := range r.Records() {
			if rec != nil {
				_ = rec.XML()
			}
		}
	})
}
