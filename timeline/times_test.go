package timeline

import (
	"strings"
	"testing"
	"time"

	"triage/parsers/evtx"
	"triage/parsers/prefetch"
)

// fromFILETIME converts as the parsers do: 100 ns since 1601-01-01 UTC.
func fromFILETIME(ft uint64) time.Time {
	const epochDelta = 116444736000000000
	return time.Unix(int64(ft/1e7)-epochDelta/1e7, int64(ft%1e7)*100).UTC()
}

var (
	year30828 = fromFILETIME(0x7fffffffffffffff) // the largest FILETIME Windows accepts
	year1601  = fromFILETIME(1)
	year2024  = time.Date(2024, 3, 5, 10, 0, 0, 0, time.UTC)
)

func TestPlaceable(t *testing.T) {
	for _, tt := range []struct {
		t    time.Time
		want bool
	}{
		{time.Time{}, true}, {year2024, true}, {year30828, false}, {year1601, false},
		{time.Date(1678, 1, 1, 0, 0, 0, 0, time.UTC), true}, {time.Date(2262, 1, 1, 0, 0, 0, 0, time.UTC), true},
		{time.Date(1677, 1, 1, 0, 0, 0, 0, time.UTC), false}, {time.Date(2263, 1, 1, 0, 0, 0, 0, time.UTC), false},
		{time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), false},
	} {
		if got := Placeable(tt.t); got != tt.want {
			t.Errorf("Placeable(%v) = %v, want %v", tt.t, got, tt.want)
		}
	}
}

// impossibleEvents are one event of each normalizer with a time no clock
// wrote (year 30828 or 1601), one with no time (a zero FILETIME) and one
// in 2024.
func impossibleEvents() []Event {
	rec := func(id uint64, ts time.Time) *evtx.Record {
		return &evtx.Record{ID: id, System: evtx.System{Provider: providerSysmon, EventID: 1, TimeCreated: ts},
			Data: []evtx.Field{{Name: "Image", Value: `C:\Windows\System32\cmd.exe`}, {Name: "CommandLine", Value: "cmd"}}}
	}
	pf := &prefetch.File{Version: 30, Executable: "CMD.EXE", RunCount: 2, LastRuns: []time.Time{year30828, year2024}}
	events := []Event{
		FromEVTX("h", 1, rec(1, year30828)),
		FromEVTX("h", 1, rec(2, year1601)),
		FromEVTX("h", 1, rec(3, fromFILETIME(0).Add(0))), // 1601-01-01 exactly
		FromEVTX("h", 1, rec(4, time.Time{})),            // a zero FILETIME: no time
		FromEVTX("h", 1, rec(5, year2024)),
		FromHistoryLine("h", 1, `C:\Users\u\ConsoleHost_history.txt`, year1601, 1, "whoami"),
		FromTextFile("h", 1, "batch", `C:\x.bat`, year30828, "ascii", "echo", 1),
	}
	return append(events, FromPrefetch("h", 1, pf)...)
}

func TestImpossibleTimesAreSetAside(t *testing.T) {
	events := impossibleEvents()
	wantRaw := []string{
		"30828-09-14T02:48:05.4775807Z", "1601-01-01T00:00:00.0000001Z", "1601-01-01T00:00:00.0000000Z", "", "",
		"1601-01-01T00:00:00.0000001Z", "30828-09-14T02:48:05.4775807Z", "30828-09-14T02:48:05.4775807Z", "",
	}
	if len(events) != len(wantRaw) {
		t.Fatalf("%d events, want %d", len(events), len(wantRaw))
	}
	for i, e := range events {
		if err := e.Encode(); err != nil {
			t.Fatal(err)
		}
		want := wantRaw[i]
		hasRaw := strings.Contains(e.data, `"`+RawTimeKey+`":"`+want+`"`)
		switch {
		case want == "" && strings.Contains(e.data, RawTimeKey):
			t.Errorf("event %d (%s): data %s has %s", i, e.Source, e.data, RawTimeKey)
		case want != "" && !hasRaw:
			t.Errorf("event %d (%s): data %s lacks %s %s", i, e.Source, e.data, RawTimeKey, want)
		case want != "" && (!e.TS.IsZero() || e.ts != ""):
			t.Errorf("event %d (%s): time %v (%q) kept", i, e.Source, e.TS, e.ts)
		case want != "" && !strings.Contains(e.Summary, want+" is outside 1677–2262"):
			t.Errorf("event %d (%s): summary %q does not say the time was set aside", i, e.Source, e.Summary)
		}
	}
}

// TestImpossibleTimesKeepRangesRight: stored, the events leave ts and
// ts_ns as for an event without time, so the time range that the console
// summary (ts != ”) and the report (ts_ns > 0) take is 2024's alone.
func TestImpossibleTimesKeepRangesRight(t *testing.T) {
	a := Artifact{Host: "h", Path: "x.evtx", Kind: "evtx"}
	db, w := newTestWriter(t, &a)
	events := impossibleEvents()
	for i := range events {
		events[i].ArtifactID = a.ID
	}
	if err := w.AddEvents(events); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`SELECT min(ts) || ' ' || max(ts) FROM events WHERE ts != ''`,
		`SELECT min(ts) || ' ' || max(ts) FROM events WHERE ts_ns > 0`,
	} {
		var got string
		if err := db.QueryRow(q).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if want := "2024-03-05T10:00:00.0000000Z 2024-03-05T10:00:00.0000000Z"; got != want {
			t.Errorf("%s: %s, want %s", q, got, want)
		}
	}
	var wrapped, marked int
	db.QueryRow(`SELECT count(*) FROM events WHERE ts = '' AND ts_ns != 0 OR ts != '' AND ts_ns <= 0`).Scan(&wrapped)
	db.QueryRow(`SELECT count(*) FROM events WHERE json_extract(data, '$.` + RawTimeKey + `') IS NOT NULL`).Scan(&marked)
	if wrapped != 0 || marked != 6 {
		t.Errorf("%d events with a ts_ns that disagrees with ts, %d marked with %s; want 0 and 6", wrapped, marked, RawTimeKey)
	}
}

// TestImpossibleTimeLeavesScriptRangeAlone: a script block part whose
// time was set aside does not blank the script's first time.
func TestImpossibleTimeLeavesScriptRangeAlone(t *testing.T) {
	a := Artifact{Host: "h", Path: "ps.evtx", Kind: "evtx"}
	db, w := newTestWriter(t, &a)
	part := func(id uint64, n string, ts time.Time) Event {
		return FromEVTX("h", a.ID, &evtx.Record{ID: id, System: evtx.System{Provider: providerPowerShell, EventID: 4104, TimeCreated: ts},
			Data: []evtx.Field{{Name: "MessageNumber", Value: n}, {Name: "MessageTotal", Value: "2"},
				{Name: "ScriptBlockText", Value: "part" + n}, {Name: "ScriptBlockId", Value: "{b}"}}})
	}
	if err := w.AddEvents([]Event{part(1, "1", year2024), part(2, "2", year30828)}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	var first, last string
	if err := db.QueryRow(`SELECT first_ts, last_ts FROM scripts`).Scan(&first, &last); err != nil {
		t.Fatal(err)
	}
	if want := "2024-03-05T10:00:00.0000000Z"; first != want || last != want {
		t.Errorf("script time range %q to %q, want %s for both", first, last, want)
	}
}

// TestRawTimeKeyWinsOverARecordField: a record whose EventData names a
// field raw_time cannot pass its own value off as the recorded time.
func TestRawTimeKeyWinsOverARecordField(t *testing.T) {
	rec := &evtx.Record{System: evtx.System{Provider: "P", EventID: 1, TimeCreated: year30828},
		Data: []evtx.Field{{Name: "a", Value: "1"}, {Name: RawTimeKey, Value: "2024-01-01T00:00:00Z"}, {Name: "z", Value: "2"}}}
	e := FromEVTX("h", 1, rec)
	if err := e.Encode(); err != nil {
		t.Fatal(err)
	}
	if want := `{"a":"1","raw_time":"30828-09-14T02:48:05.4775807Z","z":"2"}`; e.data != want {
		t.Errorf("data %s, want %s", e.data, want)
	}
}
