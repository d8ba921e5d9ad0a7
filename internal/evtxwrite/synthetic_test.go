package evtxwrite_test

import (
	"os"
	"path/filepath"
	"testing"

	"triage/internal/evtxwrite"
	"triage/parsers/evtx"
)

// TestSynthetic: a synthetic log reads back whole, every record in order.
func TestSynthetic(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.evtx")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	n, err := evtxwrite.WriteSynthetic(f, 2<<20)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	r, err := evtx.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	next := uint64(1)
	for rec, err := range r.Records() {
		if err != nil {
			t.Fatal(err)
		}
		if rec.ID != next || rec.System.EventRecordID != next {
			t.Fatalf("record %d after %d", rec.ID, next-1)
		}
		next++
	}
	if int(next-1) != n || n < 2000 {
		t.Errorf("read %d of %d events", next-1, n)
	}
}

// BenchmarkReadSynthetic reads a 64 MiB synthetic log with parsers/evtx:
// a parser benchmark that needs no corpus.
func BenchmarkReadSynthetic(b *testing.B) {
	path := filepath.Join(b.TempDir(), "s.evtx")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := evtxwrite.WriteSynthetic(f, 64<<20); err != nil {
		b.Fatal(err)
	}
	f.Close()
	st, _ := os.Stat(path)
	b.SetBytes(st.Size())
	b.ResetTimer()
	for range b.N {
		r, err := evtx.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		for _, err := range r.Records() {
			if err != nil {
				b.Fatal(err)
			}
		}
		r.Close()
	}
}
