package evtx

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"triage/internal/testcorpus"
)

// TestEncodedMatchesRecords checks, on every corpus EVTX file, that Encoded
// yields the same records, damage reports and Stats as Records, in the
// same order, with its reused Record and string arena rendering the same
// fields.
func TestEncodedMatchesRecords(t *testing.T) {
	var files []string
	filepath.WalkDir(testcorpus.Dir(t, "evtx"), func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.EqualFold(filepath.Ext(path), ".evtx") {
			files = append(files, path)
		}
		return nil
	})
	if len(files) == 0 {
		t.Fatal("no EVTX files in the corpus")
	}
	line := func(b []byte, rec *Record) []byte {
		return fmt.Appendf(b, "%d %d %d %v %v %+v %q %q\n", rec.ID, rec.Chunk, rec.Offset, rec.Recovered,
			rec.Time(), rec.System, rec.Data, rec.DataKind)
	}
	for _, path := range files {
		f, err := Open(path)
		if err != nil {
			continue
		}
		var want, got strings.Builder
		for rec, err := range f.Records() {
			if err != nil {
				fmt.Fprintf(&want, "error %v\n", err)
				continue
			}
			want.Write(line(nil, rec))
		}
		wantStats := f.Stats()
		for b, err := range f.Encoded(line) {
			if err != nil {
				fmt.Fprintf(&got, "error %v\n", err)
				continue
			}
			got.Write(b)
		}
		if got.String() != want.String() {
			t.Errorf("%s: Encoded differs from Records", filepath.Base(path))
		}
		if f.Stats() != wantStats {
			t.Errorf("%s: stats %+v, want %+v", filepath.Base(path), f.Stats(), wantStats)
		}
		f.Close()
	}
}
