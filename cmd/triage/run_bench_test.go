package main

import (
	"io"
	"path/filepath"
	"testing"
	"time"
	"triage/internal/testcorpus"

	"triage/collectors"
	"triage/timeline"
)

// BenchmarkIngestKAPE measures the run's ingest stage end to end on the KAPE
// collection: collect, hash, parse in parallel, normalize and write every
// event into a fresh timeline.db, then reassemble the script blocks.
// Analyzers and report rendering are not part of it; the whole command is
// timed separately with /usr/bin/time (see the README).
func BenchmarkIngestKAPE(b *testing.B) {
	evidence := filepath.Join(testcorpus.Dir(b), "kape", "APTSIM-WIN10")
	tuneGC() // as triage run does
	log := &runLog{w: io.Discard, now: time.Now}
	events := 0
	start := time.Now()
	for i := 0; b.Loop(); i++ {
		ev, err := collectors.Open(evidence)
		if err != nil {
			b.Fatal(err)
		}
		db, err := timeline.Create(filepath.Join(b.TempDir(), "timeline.db"))
		if err != nil {
			b.Fatal(err)
		}
		w, err := timeline.NewWriter(db)
		if err != nil {
			b.Fatal(err)
		}
		rows, err := ingest(w, "WIN-C89CFTIHC0I", ev.Artifacts, log, func(int64, int) {})
		if err != nil {
			b.Fatal(err)
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
		for _, r := range rows {
			events += r.Records
		}
		db.Close()
		ev.Close()
	}
	b.ReportMetric(float64(events)/time.Since(start).Seconds(), "events/s")
	b.ReportMetric(float64(events)/float64(b.N), "events/op")
}
