package timeline

import (
	"path/filepath"
	"testing"
	"time"
)

// TestWriterAppends: a second Writer on a timeline with full-text indexes
// adds events with the indexes kept and only the new events put in the
// full-text index, which then finds the text of both writes.
func TestWriterAppends(t *testing.T) {
	path := filepath.Join(t.TempDir(), "timeline.db")
	db, err := Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	write := func(host, cmd string) {
		t.Helper()
		w, err := NewWriter(db)
		if err != nil {
			t.Fatal(err)
		}
		a := &Artifact{Host: host, EvidenceRoot: host, Path: "a.evtx", Kind: "evtx", Status: "ok"}
		if _, err := w.AddArtifact(a); err != nil {
			t.Fatal(err)
		}
		e := Event{TS: time.Unix(1, 0), Host: host, ArtifactID: a.ID, Source: "evtx", CommandLine: cmd, Summary: "s"}
		if err := w.AddEvent(&e); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	write("one", "alpha.exe")
	if err := RebuildFullText(db); err != nil {
		t.Fatal(err)
	}
	write("two", "bravo.exe")
	for _, word := range []string{"alpha", "bravo"} {
		var n int
		if err := db.QueryRow(`SELECT count(*) FROM events_fts WHERE events_fts MATCH ?`, word).Scan(&n); err != nil || n != 1 {
			t.Errorf("full-text search for %s: %d rows, %v", word, n, err)
		}
	}
	var n int
	db.QueryRow(`SELECT count(*) FROM events_fts`).Scan(&n)
	if n != 2 {
		t.Errorf("%d rows in events_fts, want 2", n)
	}
	if err := db.QueryRow(`INSERT INTO events_fts(events_fts) VALUES('integrity-check')`).Err(); err != nil {
		t.Errorf("events_fts integrity: %v", err)
	}
}
