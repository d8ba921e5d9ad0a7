package timeline

import (
	"path/filepath"
	"testing"
	"time"
)

func TestCreateOpen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "timeline.db")
	db, err := Create(path)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	if _, err := Create(path); err == nil {
		t.Fatal("Create over an existing database succeeded")
	}
	db, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`INSERT INTO events_fts(events_fts) VALUES('rebuild')`); err != nil {
		t.Fatalf("fts5 missing (build with -tags sqlite_fts5): %v", err)
	}
}

func TestFormatTime(t *testing.T) {
	ts := time.Date(2023, 1, 2, 3, 4, 5, 123456700, time.FixedZone("x", 3600))
	if got, want := FormatTime(ts), "2023-01-02T02:04:05.1234567Z"; got != want {
		t.Fatalf("FormatTime = %q, want %q", got, want)
	}
	back, err := ParseTime(FormatTime(ts))
	if err != nil || !back.Equal(ts) {
		t.Fatalf("ParseTime round trip: %v %v", back, err)
	}
}
