package timeline

import (
	"math/rand/v2"
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
	if err := RebuildFullText(db); err != nil {
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

// TestFormatTimeMatchesTimeFormat: the direct formatting must give what time.Format does.
func TestFormatTimeMatchesTimeFormat(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	times := []time.Time{
		time.Date(1601, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC),
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(30828, 9, 14, 2, 48, 5, 477580700, time.UTC),
		time.Date(0, 1, 1, 0, 0, 0, 1, time.UTC), time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2023, 1, 2, 3, 4, 5, 123456789, time.FixedZone("x", 5*3600+1800)),
	}
	for range 100000 {
		times = append(times, time.Unix(r.Int64N(253402300800+11644473600)-11644473600, r.Int64N(1e9)))
	}
	for _, tm := range times {
		if got, want := FormatTime(tm), tm.UTC().Format(TimeLayout); got != want {
			t.Fatalf("FormatTime(%v) = %s, want %s", tm, got, want)
		}
		if got, want := AppendTime([]byte("x"), tm), "x"+tm.UTC().Format(TimeLayout); string(got) != want {
			t.Fatalf("AppendTime(%v) = %s, want %s", tm, got, want)
		}
	}
}
