package timeline

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fullTextCase writes a timeline of n events with random words, enough
// text that FTS5 flushes its pending terms to several segments, and script
// blocks to reassemble; with leave, without full-text indexes, for
// BuildFullText, else with them built in place.
func fullTextCase(t *testing.T, path string, n int, leave bool) *sql.DB {
	t.Helper()
	db, err := Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w, err := NewWriter(db)
	if err != nil {
		t.Fatal(err)
	}
	a := &Artifact{Host: "h", EvidenceRoot: "r", Path: "p", Kind: "evtx", SHA256: "00", MD5: "00"}
	if _, err := w.AddArtifact(a); err != nil {
		t.Fatal(err)
	}
	words := make([]string, 5000)
	for i := range words {
		words[i] = fmt.Sprintf("w%x", i*7919)
	}
	r := rand.New(rand.NewPCG(1, 2))
	text := func(k int) string {
		var b strings.Builder
		for range k {
			b.WriteString(words[r.IntN(len(words))])
			b.WriteByte(' ')
		}
		return b.String()
	}
	t0 := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	for i := range n {
		e := Event{TS: t0.Add(time.Duration(i) * time.Second), Host: "h", ArtifactID: a.ID, RecordID: int64(i), Source: "evtx",
			CommandLine: text(8), Summary: text(12)}
		if i%10 == 0 {
			e.EventID, e.Provider, e.ScriptBlockID = 4104, "Microsoft-Windows-PowerShell", fmt.Sprint(i/20)
			e.Data = map[string]any{"MessageNumber": fmt.Sprint(i/10%2 + 1), "MessageTotal": "2", "ScriptBlockText": text(30)}
		}
		if err := w.AddEvent(&e); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if !leave {
		if err := RebuildFullText(db); err != nil {
			t.Fatal(err)
		}
	}
	return db
}

// TestFullTextIsRebuild: the indexes built aside and copied in hold the
// same rows as the timeline's own rebuild, and pass FTS5's integrity check.
func TestFullTextIsRebuild(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	want := fullTextCase(t, filepath.Join(dir, "rebuilt.db"), 30000, false)
	defer want.Close()
	path := filepath.Join(dir, "aside.db")
	got := fullTextCase(t, path, 30000, true)
	defer got.Close()
	if err := Share(got); err != nil {
		t.Fatal(err)
	}
	aside := filepath.Join(dir, "fulltext.db")
	if err := BuildFullText(ctx, path, aside, nil); err != nil {
		t.Fatal(err)
	}
	if err := AddFullText(ctx, got, aside); err != nil {
		t.Fatal(err)
	}
	if err := Unshare(got); err != nil {
		t.Fatal(err)
	}
	segments := 0
	for _, ix := range fullTextIndexes {
		for _, shadow := range fullTextShadows {
			table := ix.table + "_" + shadow
			w, g := tableRows(t, want, table), tableRows(t, got, table)
			if len(w) != len(g) {
				t.Errorf("%s: %d rows, want %d", table, len(g), len(w))
				continue
			}
			for i := range w {
				if w[i] != g[i] {
					t.Errorf("%s: row %d differs", table, i)
					break
				}
			}
			if table == "events_fts_idx" {
				segments = len(w)
			}
		}
		if _, err := got.Exec(fmt.Sprintf(`INSERT INTO %s(%s) VALUES('integrity-check')`, ix.table, ix.table)); err != nil {
			t.Errorf("%s: %v", ix.table, err)
		}
	}
	if segments < 2 {
		t.Errorf("events_fts has %d index rows: too little text to flush more than once", segments)
	}
	var n int
	if err := got.QueryRow(`SELECT count(*) FROM events_fts WHERE events_fts MATCH ?`, "w0").Scan(&n); err != nil || n == 0 {
		t.Errorf("search: %d rows, %v", n, err)
	}
}

// tableRows are every row of table, each quoted by SQLite, in key order.
func tableRows(t *testing.T, db *sql.DB, table string) []string {
	t.Helper()
	rows, err := db.Query(fmt.Sprintf(`SELECT * FROM %s`, table))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%q", vals))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestFullTextOnlyWhenAsked: a new timeline has no FTS5 table, so that a
// search of it fails rather than finding nothing, and building its indexes
// makes fullTextIndexes' tables.
func TestFullTextOnlyWhenAsked(t *testing.T) {
	db, err := Create(filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	virtual := func() string {
		t.Helper()
		rows, err := db.Query(`SELECT sql FROM sqlite_master WHERE sql LIKE 'CREATE VIRTUAL TABLE%' ORDER BY rowid`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var got []string
		for rows.Next() {
			var sql string
			rows.Scan(&sql)
			got = append(got, sql)
		}
		return strings.Join(got, "\n")
	}
	if has, err := HasFullText(db); has || err != nil || virtual() != "" {
		t.Fatalf("a new timeline has full-text indexes (%v, %v): %s", has, err, virtual())
	}
	if err := db.QueryRow(`SELECT count(*) FROM events_fts WHERE events_fts MATCH 'x'`).Scan(new(int)); err == nil {
		t.Error("a search of a timeline without full-text indexes found nothing instead of failing")
	}
	if err := RebuildFullText(db); err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, ix := range fullTextIndexes {
		want = append(want, fmt.Sprintf("CREATE VIRTUAL TABLE %s USING fts5(%s, content='%s', content_rowid='id')", ix.table, ix.columns, ix.content))
	}
	if got := virtual(); got != strings.Join(want, "\n") {
		t.Errorf("FTS5 tables:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}
	if has, err := HasFullText(db); !has || err != nil {
		t.Errorf("HasFullText after RebuildFullText = %v, %v", has, err)
	}
}
