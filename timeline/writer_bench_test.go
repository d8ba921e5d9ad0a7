package timeline

import (
	"io/fs"
	"path/filepath"
	"strings"
	"testing"

	"triage/internal/testcorpus"
	"triage/parsers/evtx"
)

// kapeEvents normalizes every event log record of the KAPE collection once,
// so the benchmarks below time the normalizing or the writing alone.
func kapeEvents(b testing.TB) []*evtx.Record {
	var recs []*evtx.Record
	root := testcorpus.Dir(b, "kape", "APTSIM-WIN10")
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".evtx") {
			return err
		}
		f, err := evtx.Open(p)
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		for rec := range f.Records() {
			if rec != nil {
				recs = append(recs, rec)
			}
		}
		return nil
	})
	return recs
}

// BenchmarkNormalizeKAPE times FromEVTX and the JSON encoding of the data
// column, the share of the ingest that runs on the parser goroutines.
func BenchmarkNormalizeKAPE(b *testing.B) {
	recs := kapeEvents(b)
	b.ReportAllocs()
	for b.Loop() {
		for _, rec := range recs {
			e := FromEVTX("host", 1, rec)
			e.Encode()
		}
	}
	b.ReportMetric(float64(len(recs)*b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkWriterKAPE times the single writer alone: inserting the KAPE
// events into a fresh database and closing it, which builds the indexes.
func BenchmarkWriterKAPE(b *testing.B) {
	recs := kapeEvents(b)
	events := make([]Event, len(recs))
	for i, rec := range recs {
		events[i] = FromEVTX("host", 1, rec)
		events[i].Encode()
	}
	b.ReportAllocs()
	for b.Loop() {
		db, err := Create(filepath.Join(b.TempDir(), "timeline.db"))
		if err != nil {
			b.Fatal(err)
		}
		w, err := NewWriter(db)
		if err != nil {
			b.Fatal(err)
		}
		a := Artifact{Host: "host", Path: "x.evtx", Kind: "evtx"}
		if _, err := w.AddArtifact(&a); err != nil {
			b.Fatal(err)
		}
		for i := 0; i < len(events); i += 256 {
			// In the batches the ingest's parsers hand over.
			if err := w.AddEvents(events[i:min(i+256, len(events))]); err != nil {
				b.Fatal(err)
			}
		}
		if err := w.FinishArtifact(&a); err != nil {
			b.Fatal(err)
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
		db.Close()
	}
	b.ReportMetric(float64(len(events)*b.N)/b.Elapsed().Seconds(), "events/s")
}
