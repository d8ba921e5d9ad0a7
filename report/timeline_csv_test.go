package report

import (
	"bytes"
	"context"
	csvpkg "encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"triage/timeline"
)

// TestAppendRowIsEncodingCSV: the timeline's own row encoder writes the
// bytes encoding/csv (through writeRow) writes for the same cells.
func TestAppendRowIsEncodingCSV(t *testing.T) {
	cells := []string{"", "plain", "a,b", `say "hi"`, "two\nlines", "cr\rlf\r\n", " leading", "\u00a0nbsp", `\.`, `\.x`,
		"=1+1", "-x", "@SUM", "\tTab", "nul\x00byte", "ünï", strings.Repeat("x", maxCell+5), "\"\n\r,"}
	var want bytes.Buffer
	cw := csvpkg.NewWriter(&want)
	cw.UseCRLF = true
	for _, c := range cells {
		writeRow(cw, c, "x")
		writeRow(cw, "x", c)
	}
	writeRow(cw, cells...)
	cw.Flush()
	var got []byte
	for _, c := range cells {
		got = appendRow(got, c, "x")
		got = appendRow(got, "x", c)
	}
	got = appendRow(got, cells...)
	if !bytes.Equal(got, want.Bytes()) {
		t.Errorf("appendRow:\n%q\nencoding/csv:\n%q", got, want.Bytes())
	}
}

// TestTimelineCSVPages: events sharing one time across several pages, and
// events before and after them, come out once each in (time, id) order.
func TestTimelineCSVPages(t *testing.T) {
	dir := t.TempDir()
	db, err := timeline.Create(filepath.Join(dir, "timeline.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	w, err := timeline.NewWriter(db)
	if err != nil {
		t.Fatal(err)
	}
	a := &timeline.Artifact{Host: "h", EvidenceRoot: "ev", Path: "Security.evtx", Kind: "evtx", SHA256: "ab", MD5: "cd", Status: "ok"}
	if _, err := w.AddArtifact(a); err != nil {
		t.Fatal(err)
	}
	base := time.Date(2024, 1, 1, 12, 0, 0, 0, time.UTC)
	same := 2*timelinePage + 10
	var events []timeline.Event
	add := func(ts time.Time, n int) {
		for i := 0; i < n; i++ {
			events = append(events, timeline.Event{TS: ts, Host: "h", ArtifactID: a.ID, RecordID: int64(len(events) + 1), Source: "evtx",
				Summary: fmt.Sprint(len(events) + 1)})
		}
	}
	add(base.Add(time.Hour), 3) // ids 1-3, latest
	add(base, same)             // one time over three pages
	add(time.Time{}, 2)         // no time: first
	add(base.Add(-time.Hour), 5)
	if err := w.AddEvents(events); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := WriteTimelineCSV(context.Background(), db, dir, time.UTC); err != nil {
		t.Fatal(err)
	}
	rows := readCSV(t, filepath.Join(dir, TimelineCSVName))[1:]
	if len(rows) != len(events) {
		t.Fatalf("%d rows, want %d", len(rows), len(events))
	}
	for i := 1; i < len(rows); i++ {
		p, r := rows[i-1], rows[i]
		pid, _ := strconv.Atoi(p[0])
		rid, _ := strconv.Atoi(r[0])
		if r[1] < p[1] || r[1] == p[1] && rid <= pid {
			t.Fatalf("row %d (%s, id %s) after (%s, id %s)", i, r[1], r[0], p[1], p[0])
		}
	}
}

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csvpkg.NewReader(strings.NewReader(strings.TrimPrefix(string(b), "\ufeff"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}
