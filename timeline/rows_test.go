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

// TestRowInserterMatchesDriver writes the same events through the Writer's
// multi-row statements and through database/sql with a hand-written INSERT
// and expects identical rows, values and storage types alike, for a batch
// that fills whole statements and one that leaves a remainder.
func TestRowInserterMatchesDriver(t *testing.T) {
	ts := time.Date(2023, 1, 2, 3, 4, 5, 123456700, time.UTC)
	sample := []Event{
		{TS: ts, Host: "h", RecordID: 1, Source: "evtx", EventID: 4688, Channel: "Security", Provider: "p",
			Computer: "c", User: `D\u`, Level: 4, Process: `C:\x.exe`, ParentProcess: `C:\y.exe`,
			CommandLine: "x.exe \"a\" 'b' \x00nul", ScriptBlockID: "{id}", Recovered: true, Summary: "s",
			Data: map[string]any{"k": "v", "n": 1}},
		{Host: "h", RecordID: -1 << 62, Source: "history", Summary: "bad utf-8 \xff\xfe, 日本", EventID: 65535},
		{TS: time.Unix(0, 1).UTC(), Host: "", Source: "", Summary: "", Data: map[string]any{}},
		{TS: ts, Host: "h", Source: "script", Summary: "big", Data: map[string]any{"content": strings.Repeat("x", 3<<20)}},
	}
	var events []Event
	for i := 0; len(events) < rowsPerInsert*2+5; i++ {
		e := sample[i%len(sample)]
		e.RecordID += int64(i)
		events = append(events, e)
	}
	dump := func(viaWriter bool) string {
		a := Artifact{Host: "h", Path: "p", Kind: "evtx"}
		db, w := newTestWriter(t, &a)
		batch := append([]Event(nil), events...)
		for i := range batch {
			batch[i].ArtifactID = a.ID
		}
		if viaWriter {
			if err := w.AddEvent(&batch[0]); err != nil {
				t.Fatal(err)
			}
			if err := w.AddEvents(batch); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if !viaWriter {
			for _, e := range append(batch[:1:1], batch...) {
				e.Encode()
				recovered := 0
				if e.Recovered {
					recovered = 1
				}
				_, err := db.Exec(`INSERT INTO events (ts, ts_ns, host, artifact_id, record_id, source, event_id,
					channel, provider, computer, user, level, process, parent_process, command_line, script_block_id,
					recovered, summary, data) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
					e.ts, UnixNano(e.TS), e.Host, e.ArtifactID, e.RecordID, e.Source, e.EventID, e.Channel, e.Provider,
					e.Computer, e.User, e.Level, e.Process, e.ParentProcess, e.CommandLine, e.ScriptBlockID,
					recovered, e.Summary, e.data)
				if err != nil {
					t.Fatal(err)
				}
			}
		}
		return dumpEvents(t, db)
	}
	if fast, slow := dump(true), dump(false); fast != slow {
		t.Errorf("rowInserter wrote\n%.2000s\nthe driver wrote\n%.2000s", fast, slow)
	}
}

// TestEventColumnsMatchSchema: the column table names every events column
// but id, in the schema's order, with the schema's type.
func TestEventColumnsMatchSchema(t *testing.T) {
	db, err := Create(filepath.Join(t.TempDir(), "timeline.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT name, type FROM pragma_table_info('events') WHERE name != 'id' ORDER BY cid`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var want []string
	for rows.Next() {
		var name, typ string
		rows.Scan(&name, &typ)
		want = append(want, name+" "+typ)
	}
	var got []string
	for _, c := range eventColumns {
		typ := "TEXT"
		if c.int != nil {
			typ = "INTEGER"
		}
		if (c.int == nil) == (c.text == nil) {
			t.Errorf("column %s: want exactly one of text and int", c.name)
		}
		got = append(got, c.name+" "+typ)
	}
	if strings.Join(got, ", ") != strings.Join(want, ", ") {
		t.Errorf("eventColumns\n%s\nschema\n%s", strings.Join(got, ", "), strings.Join(want, ", "))
	}
	if k := columnKinds(eventColumns); len(k) != len(eventColumns) || strings.Trim(k, "it") != "" {
		t.Errorf("kinds %q", k)
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
		a := Artifact{Host: "h", Path: "p", Kind: "evtx"}
		db, w := newTestWriter(t, &a)
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
