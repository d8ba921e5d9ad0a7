package timeline

import (
	"crypto/sha256"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestRowInserterMatchesDriver writes the same events through rowInserter
// and through the driver's statement and expects identical rows, values and
// storage types alike; it also fails if the writer cannot reach the SQLite
// handle, so a driver upgrade that hides it is noticed rather than slowing
// the ingest silently.
func TestRowInserterMatchesDriver(t *testing.T) {
	ts := time.Date(2023, 1, 2, 3, 4, 5, 123456700, time.UTC)
	events := []Event{
		{TS: ts, Host: "h", RecordID: 1, Source: "evtx", EventID: 4688, Channel: "Security", Provider: "p",
			Computer: "c", User: `D\u`, Level: 4, Process: `C:\x.exe`, ParentProcess: `C:\y.exe`,
			CommandLine: "x.exe \"a\" 'b' \x00nul", ScriptBlockID: "{id}", Recovered: true, Summary: "s",
			Data: map[string]any{"k": "v", "n": 1}},
		{Host: "h", RecordID: -1 << 62, Source: "history", Summary: "bad utf-8 \xff\xfe, 日本", EventID: 65535},
		{TS: time.Unix(0, 1).UTC(), Host: "", Source: "", Summary: "", Data: map[string]any{}},
		{TS: ts, Host: "h", Source: "script", Summary: "big", Data: map[string]any{"content": strings.Repeat("x", 3<<20)}},
	}
	dump := func(fast bool) string {
		db, err := Create(filepath.Join(t.TempDir(), "timeline.db"))
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		w, err := NewWriter(db)
		if err != nil {
			t.Fatal(err)
		}
		if w.rows == nil {
			t.Fatal("the writer cannot reach the driver's SQLite handle; events go through the slower driver path")
		}
		if !fast {
			w.conn.Raw(func(any) error { w.rows.close(); return nil })
			w.rows = nil
		}
		a := Artifact{Host: "h", Path: "p", Kind: "evtx"}
		if _, err := w.AddArtifact(&a); err != nil {
			t.Fatal(err)
		}
		for i := range events {
			e := events[i]
			e.ArtifactID = a.ID
			if err := w.AddEvent(&e); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.AddEvents(append([]Event(nil), events...)); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		return dumpEvents(t, db)
	}
	if fast, slow := dump(true), dump(false); fast != slow {
		t.Errorf("rowInserter wrote\n%.2000s\nthe driver wrote\n%.2000s", fast, slow)
	}
}

// dumpEvents renders every events row with each value's storage type.
func dumpEvents(t *testing.T, db *sql.DB) string {
	rows, err := db.Query(`SELECT * FROM events ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var b strings.Builder
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		for i, v := range vals {
			if s, ok := v.(string); ok && len(s) > 100 {
				v = fmt.Sprintf("%.100s… (%d bytes, sha-256 %x)", s, len(s), sha256.Sum256([]byte(s)))
			}
			fmt.Fprintf(&b, "%s=%T:%v ", cols[i], v, v)
		}
		b.WriteString("\n")
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	var types string
	if err := db.QueryRow(`SELECT group_concat(typeof(ts)||typeof(ts_ns)||typeof(recovered)||typeof(data)||typeof(user), ',') FROM events`).Scan(&types); err != nil {
		t.Fatal(err)
	}
	return b.String() + types
}

// TestBuildIndexesEarly: indexes built before the last events are added
// must hold those events too, and the tables must be the same as when
// Close builds the indexes.
func TestBuildIndexesEarly(t *testing.T) {
	ts := time.Date(2023, 1, 2, 3, 4, 5, 0, time.UTC)
	write := func(early bool) (*sql.DB, string) {
		db, err := Create(filepath.Join(t.TempDir(), "timeline.db"))
		if err != nil {
			t.Fatal(err)
		}
		w, err := NewWriter(db)
		if err != nil {
			t.Fatal(err)
		}
		a := Artifact{Host: "h", Path: "p", Kind: "evtx"}
		if _, err := w.AddArtifact(&a); err != nil {
			t.Fatal(err)
		}
		for i := range 1000 {
			if early && i == 900 {
				if err := w.BuildIndexes(); err != nil {
					t.Fatal(err)
				}
			}
			e := Event{TS: ts.Add(time.Duration(i%37) * time.Minute), Host: []string{"h", "g"}[i%2], ArtifactID: a.ID,
				RecordID: int64(i), Source: "evtx", EventID: i % 7, Process: []string{"", `C:\a.exe`, `C:\b.exe`}[i%3], Summary: "s"}
			if err := w.AddEvent(&e); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		return db, dumpEvents(t, db)
	}
	late, lateDump := write(false)
	defer late.Close()
	early, earlyDump := write(true)
	defer early.Close()
	if earlyDump != lateDump {
		t.Error("events differ when the indexes are built early")
	}
	var check string
	if err := early.QueryRow(`PRAGMA integrity_check`).Scan(&check); err != nil || check != "ok" {
		t.Fatalf("integrity_check: %q %v", check, err)
	}
	for _, q := range []string{
		`SELECT group_concat(id) FROM events INDEXED BY events_ts WHERE ts_ns > 0`,
		`SELECT group_concat(id) FROM events INDEXED BY events_host_ts WHERE host = 'g'`,
		`SELECT group_concat(id) FROM events INDEXED BY events_event_id WHERE source = 'evtx' AND event_id = 3`,
		`SELECT group_concat(id) FROM events INDEXED BY events_process WHERE process = 'C:\b.exe'`,
		`SELECT group_concat(id) FROM events INDEXED BY events_artifact WHERE artifact_id = 1 AND record_id > 950`,
	} {
		var got, want string
		if err := early.QueryRow(q).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if err := late.QueryRow(q).Scan(&want); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("%s: built early %.80s…, at Close %.80s…", q, got, want)
		}
	}
}
