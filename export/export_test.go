package export

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"triage/timeline"
)

// hostile holds what evidence may put in any string: quotes, backslashes,
// control characters, HTML, invalid UTF-8, JavaScript's line separators.
const hostile = "a\"b\\c\x00\x1b[31m<script>&\u2028\xff\xfe end\r\n\t"

var t0 = time.Date(2022, 3, 10, 16, 33, 50, 89103100, time.UTC)

// buildTimeline writes a small case: two hosts, evtx and prefetch events
// with hostile strings, an event with no time, and two findings, one of
// them citing two records.
func buildTimeline(t testing.TB) (*sql.DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "timeline.db")
	db, err := timeline.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w, err := timeline.NewWriter(db)
	if err != nil {
		t.Fatal(err)
	}
	sec := &timeline.Artifact{Host: "WS01", EvidenceRoot: "r", Path: "C/Windows/System32/winevt/Logs/Security.evtx",
		Kind: "evtx", SHA256: strings.Repeat("ab", 32), MD5: "cd", Status: "ok"}
	pf := &timeline.Artifact{Host: "WS02", EvidenceRoot: "r", Path: "C/Windows/Prefetch/CMD.EXE-0BD30981.pf" + hostile,
		Kind: "prefetch", SHA256: strings.Repeat("01", 32), MD5: "cd", Status: "ok"}
	for _, a := range []*timeline.Artifact{sec, pf} {
		if _, err := w.AddArtifact(a); err != nil {
			t.Fatal(err)
		}
	}
	events := []timeline.Event{
		{TS: t0, Host: "WS01", ArtifactID: sec.ID, RecordID: 288, Source: "evtx", EventID: 4688, Level: 0,
			Channel: "Security", Provider: "Microsoft-Windows-Security-Auditing", Computer: "ws01.corp",
			User: `CORP\alice`, Process: `C:\Windows\System32\cmd.exe`, ParentProcess: `C:\Windows\explorer.exe`,
			CommandLine: `cmd.exe /c echo ` + hostile, Summary: "process start " + hostile,
			Data: map[string]any{"NewProcessName": `C:\Windows\System32\cmd.exe`, "Dotted.Name": "x", "": "empty key",
				"Count": 3, "Hostile": hostile}},
		{TS: t0.Add(time.Second), Host: "WS01", ArtifactID: sec.ID, RecordID: 289, Source: "evtx", EventID: 4104, Level: 3,
			Channel: "Microsoft-Windows-PowerShell/Operational", Provider: "Microsoft-Windows-PowerShell",
			User: "S-1-5-18", ScriptBlockID: "7e414308-a3fc-4fb0-87b2-5eb3f5f5a46b", Summary: "script block",
			Recovered: true, Data: map[string]any{"ScriptBlockText": "Write-Host 1"}},
		{TS: t0.Add(time.Hour), Host: "WS02", ArtifactID: pf.ID, RecordID: 0, Source: "prefetch",
			Process: `\VOLUME{01d834b54842fb73-1a484cb6}\WINDOWS\SYSTEM32\CMD.EXE`, Summary: "",
			Data: map[string]any{"executable": "CMD.EXE", "run_count": 7, "files": []string{`\VOLUME{1}\A.DLL`, hostile}}},
		{Host: "WS02", ArtifactID: pf.ID, RecordID: 1, Source: "prefetch", Summary: "run with no time"},
	}
	for i := range events {
		if err := w.AddEvent(&events[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	// Findings are the analyzers' to write, a later stage this package may
	// not import: the rows go in as the analyzers would leave them.
	for _, q := range []string{
		`INSERT INTO findings (id, analyzer, host, ts, ts_ns, technique_id, technique_name, tactic, related, severity,
		 confidence, title, rule, matched, decoded, score, features, incident_id) VALUES
		 (1, 't1059.003-cmd', 'WS01', '2022-03-10T16:33:50.0891031Z', 1646930030089103100, 'T1059.003',
		  'Command and Scripting Interpreter: Windows Command Shell', 'Execution', '["T1105"]', 'high', 'medium',
		  ?, 'why', 'cmd.exe /c', '', 70, '{"echo":1}', NULL),
		 (2, 't1059-interpreters', 'WS02', '2022-03-10T17:33:50.0891031Z', 1646933630089103100, 'T1059',
		  'Command and Scripting Interpreter', 'Execution', '[]', 'informational', 'low', 'no evidence rows',
		  'why', '', '', 0, 'not json', NULL)`,
		`INSERT INTO finding_evidence (finding_id, event_id, artifact_path, record_id, artifact_sha256) VALUES
		 (1, 1, 'C/Windows/System32/winevt/Logs/Security.evtx', 288, '` + strings.Repeat("ab", 32) + `'),
		 (1, 2, 'C/Windows/System32/winevt/Logs/Security.evtx', 289, '` + strings.Repeat("ab", 32) + `')`,
	} {
		var args []any
		if strings.Contains(q, "?") {
			args = []any{"cmd echo " + hostile}
		}
		if _, err := db.Exec(q, args...); err != nil {
			t.Fatal(err)
		}
	}
	return db, path
}

func exportLines(t *testing.T, db *sql.DB, o Options) ([][]byte, Stats) {
	t.Helper()
	var out bytes.Buffer
	st, err := Export(context.Background(), db, &out, o)
	if err != nil {
		t.Fatal(err)
	}
	if !utf8.Valid(out.Bytes()) {
		t.Fatalf("%s: output is not valid UTF-8", o.Format)
	}
	if out.Len() > 0 && !bytes.HasSuffix(out.Bytes(), []byte("\n")) {
		t.Fatalf("%s: output does not end in a newline", o.Format)
	}
	var lines [][]byte
	sc := bufio.NewScanner(&out)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		lines = append(lines, append([]byte(nil), sc.Bytes()...))
	}
	return lines, st
}

func decode(t *testing.T, line []byte) map[string]any {
	t.Helper()
	var m map[string]any
	d := json.NewDecoder(bytes.NewReader(line))
	d.UseNumber()
	if err := d.Decode(&m); err != nil {
		t.Fatalf("line does not parse: %v\n%s", err, line)
	}
	return m
}

func TestTimesketchLines(t *testing.T) {
	db, _ := buildTimeline(t)
	lines, st := exportLines(t, db, Options{Format: Timesketch})
	if st.Events != 4 || st.Findings != 2 || len(lines) != 6 {
		t.Fatalf("got %d events, %d findings, %d lines; want 4, 2, 6", st.Events, st.Findings, len(lines))
	}
	for i, line := range lines {
		m := decode(t, line)
		// Timesketch's importer requires these three.
		for _, k := range []string{"message", "datetime", "timestamp_desc"} {
			s, ok := m[k].(string)
			if !ok || s == "" {
				t.Errorf("line %d: %s is %v, want a non-empty string", i, k, m[k])
			}
		}
		dt, err := time.Parse(time.RFC3339Nano, m["datetime"].(string))
		if err != nil {
			t.Errorf("line %d: datetime: %v", i, err)
		}
		us, err := m["timestamp"].(json.Number).Int64()
		if err != nil || us != dt.UnixMicro() {
			t.Errorf("line %d: timestamp %v does not match datetime %v", i, m["timestamp"], dt)
		}
		for k, v := range m {
			switch v.(type) {
			case string, json.Number, bool:
			case []any:
				if k != "evidence" {
					t.Errorf("line %d: %s is a list", i, k)
				}
			default:
				t.Errorf("line %d: %s is %T; Timesketch attributes here are flat", i, k, v)
			}
		}
	}
	// The event with no time sorts first, at the epoch.
	noTime := decode(t, lines[0])
	if noTime["timestamp_desc"] != "No Time Recorded" || noTime["datetime"] != "1970-01-01T00:00:00.000000+00:00" {
		t.Errorf("event with no time: %v %v", noTime["timestamp_desc"], noTime["datetime"])
	}
	first := decode(t, lines[1])
	if first["datetime"] != "2022-03-10T16:33:50.089103+00:00" || first["command_line"] != "cmd.exe /c echo "+strings.ToValidUTF8(hostile, "\ufffd\ufffd") {
		t.Errorf("first event: datetime %v, command line %q", first["datetime"], first["command_line"])
	}
	if first["artifact_sha256"] != strings.Repeat("ab", 32) || first["record_number"] != json.Number("288") {
		t.Errorf("first event lacks its provenance: %v", first)
	}
	f := decode(t, lines[4])
	if f["data_type"] != "triage:finding" || len(f["evidence"].([]any)) != 2 || f["evidence_count"] != json.Number("2") {
		t.Errorf("finding: %v", f)
	}
}

// checkECS checks one document against ecsFields: every leaf is a field we
// declare, of its type, and the fields ECS requires are there.
func checkECS(t *testing.T, i int, doc map[string]any) {
	t.Helper()
	var walk func(prefix string, v any)
	walk = func(path string, v any) {
		if list, ok := v.([]any); ok {
			for _, e := range list {
				walk(path, e)
			}
			return
		}
		typ, declared := ecsFields[path]
		if obj, ok := v.(map[string]any); ok && !(declared && typ == ecsFlat) {
			for k, c := range obj {
				if path == "" {
					walk(k, c)
				} else {
					walk(path+"."+k, c)
				}
			}
			return
		}
		if !declared {
			t.Errorf("line %d: %s is not a declared field", i, path)
			return
		}
		switch typ {
		case ecsKeyword, ecsText:
			if _, ok := v.(string); !ok {
				t.Errorf("line %d: %s is %T, want a string", i, path, v)
			}
		case ecsDate:
			s, _ := v.(string)
			if _, err := time.Parse(time.RFC3339Nano, s); err != nil {
				t.Errorf("line %d: %s: %v", i, path, err)
			}
		case ecsLong:
			n, ok := v.(json.Number)
			if _, err := n.Int64(); !ok || err != nil {
				t.Errorf("line %d: %s is %v, want an integer", i, path, v)
			}
		case ecsFloat:
			n, ok := v.(json.Number)
			if _, err := n.Float64(); !ok || err != nil {
				t.Errorf("line %d: %s is %v, want a number", i, path, v)
			}
		case ecsBoolean:
			if _, ok := v.(bool); !ok {
				t.Errorf("line %d: %s is %v, want a boolean", i, path, v)
			}
		case ecsFlat:
			obj, ok := v.(map[string]any)
			if !ok {
				t.Errorf("line %d: %s is %T, want an object", i, path, v)
			}
			for k, s := range obj {
				if _, ok := s.(string); !ok || k == "" || strings.Contains(k, ".") {
					t.Errorf("line %d: %s.%q is %T; want a dotless non-empty name and a string", i, path, k, s)
				}
			}
		}
	}
	walk("", doc)
	for _, k := range []string{"@timestamp", "ecs", "event", "host"} {
		if doc[k] == nil {
			t.Errorf("line %d: no %s", i, k)
		}
	}
}

func TestECSDocuments(t *testing.T) {
	db, _ := buildTimeline(t)
	lines, _ := exportLines(t, db, Options{Format: ECS, BulkIndex: "triage-case-1"})
	if len(lines) != 12 {
		t.Fatalf("%d lines, want 12: an action line before each of 6 documents", len(lines))
	}
	var docs []map[string]any
	for i := 0; i < len(lines); i += 2 {
		action := decode(t, lines[i])
		idx, _ := action["index"].(map[string]any)
		if len(action) != 1 || idx["_index"] != "triage-case-1" {
			t.Errorf("line %d is %s, want an index action", i, lines[i])
		}
		doc := decode(t, lines[i+1])
		checkECS(t, i+1, doc)
		docs = append(docs, doc)
	}
	get := func(doc map[string]any, path string) any {
		var v any = doc
		for _, p := range strings.Split(path, ".") {
			m, _ := v.(map[string]any)
			v = m[p]
		}
		return v
	}
	want := map[string]any{
		"event.code": "4688", "event.provider": "Microsoft-Windows-Security-Auditing", "host.name": "WS01",
		"process.executable": `C:\Windows\System32\cmd.exe`, "process.name": "cmd.exe",
		"process.parent.executable": `C:\Windows\explorer.exe`, "user.name": "alice", "user.domain": "CORP",
		"winlog.channel": "Security", "winlog.record_id": "288", "winlog.event_data.Dotted_Name": "x",
		"winlog.event_data._": "empty key", "winlog.event_data.Count": "3",
		"triage.artifact.sha256": strings.Repeat("ab", 32), "triage.record_id": json.Number("288"),
		"log.file.path": "C/Windows/System32/winevt/Logs/Security.evtx", "log.level": "information",
	}
	for path, v := range want {
		if got := get(docs[1], path); got != v {
			t.Errorf("first event: %s = %#v, want %#v", path, got, v)
		}
	}
	if get(docs[2], "user.id") != "S-1-5-18" || get(docs[2], "powershell.file.script_block_id") == nil {
		t.Errorf("script block event: %v", docs[2])
	}
	if get(docs[3], "triage.data.files") == nil || get(docs[3], "winlog") != nil || get(docs[3], "event.category") == nil {
		t.Errorf("prefetch event: %v", docs[3])
	}
	if get(docs[0], "@timestamp") != zeroTime || get(docs[0], "event.code") != nil || get(docs[0], "triage.no_time") != true {
		t.Errorf("prefetch event with no time: %v", docs[0])
	}
	if get(docs[4], "event.kind") != "alert" || get(docs[4], "rule.id") != "t1059.003-cmd" ||
		len(get(docs[4], "triage.evidence").([]any)) != 2 {
		t.Errorf("finding: %v", docs[4])
	}
}

func TestJSONLColumns(t *testing.T) {
	db, _ := buildTimeline(t)
	lines, _ := exportLines(t, db, Options{Format: JSONL})
	// Every line has every column of its type, each of the column's type.
	kinds := map[string]map[string]string{
		"event": {"id": "n", "ts": "s", "ts_ns": "n", "host": "s", "artifact_path": "s", "artifact_kind": "s",
			"artifact_sha256": "s", "record_id": "n", "source": "s", "event_id": "n", "channel": "s", "provider": "s",
			"computer": "s", "user": "s", "level": "n", "process": "s", "parent_process": "s", "command_line": "s",
			"script_block_id": "s", "recovered": "b", "summary": "s", "data": "o"},
		"finding": {"id": "n", "analyzer": "s", "host": "s", "ts": "s", "ts_ns": "n", "technique_id": "s",
			"technique_name": "s", "tactic": "s", "related": "a", "severity": "s", "confidence": "s", "title": "s",
			"rule": "s", "matched": "s", "decoded": "s", "score": "n", "features": "os", "incident_id": "n",
			"evidence": "a", "evidence_count": "n"},
	}
	for i, line := range lines {
		m := decode(t, line)
		want, ok := kinds[m["type"].(string)]
		if !ok || len(m) != len(want)+1 {
			t.Errorf("line %d: type %v with %d fields", i, m["type"], len(m))
			continue
		}
		for k, typ := range want {
			var got string
			switch m[k].(type) {
			case string:
				got = "s"
			case json.Number:
				got = "n"
			case bool:
				got = "b"
			case map[string]any:
				got = "o"
			case []any:
				got = "a"
			}
			if got == "" || !strings.Contains(typ, got) {
				t.Errorf("line %d: %s is %T, want %s", i, k, m[k], typ)
			}
		}
	}
	first := decode(t, lines[1])
	data, _ := first["data"].(map[string]any)
	if first["type"] != "event" || data["Hostile"] != strings.ToValidUTF8(hostile, "\ufffd\ufffd") || data["Count"] != json.Number("3") {
		t.Errorf("first event: %v", first)
	}
	f := decode(t, lines[5])
	if f["type"] != "finding" || f["evidence_count"] != json.Number("0") || f["features"] != "not json" {
		t.Errorf("finding without evidence, its features not JSON: %v", f)
	}
}

func TestFilters(t *testing.T) {
	db, _ := buildTimeline(t)
	for _, tc := range []struct {
		o                Options
		events, findings int64
	}{
		{Options{Host: "WS01"}, 2, 1},
		{Options{Since: t0.Add(time.Minute)}, 1, 1},
		{Options{Until: t0.Add(time.Second)}, 2, 1}, // the event with no time is at the epoch
		{Options{Host: "WS02", Since: t0.Add(2 * time.Hour)}, 0, 0},
	} {
		for _, f := range Formats {
			tc.o.Format = f
			_, st := exportLines(t, db, tc.o)
			if st.Events != tc.events || st.Findings != tc.findings {
				t.Errorf("%+v: %d events, %d findings; want %d, %d", tc.o, st.Events, st.Findings, tc.events, tc.findings)
			}
		}
	}
}

func TestExportIsDeterministicAndReadOnly(t *testing.T) {
	_, path := buildTimeline(t)
	db, err := timeline.OpenReadOnly(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`DELETE FROM events`); err == nil {
		t.Error("a read-only timeline took a write")
	}
	for _, f := range Formats {
		a, _ := exportLines(t, db, Options{Format: f})
		b, _ := exportLines(t, db, Options{Format: f})
		if !bytes.Equal(bytes.Join(a, nil), bytes.Join(b, nil)) {
			t.Errorf("%s: two exports differ", f)
		}
	}
}

func TestBadOptions(t *testing.T) {
	db, _ := buildTimeline(t)
	for _, o := range []Options{
		{Format: "csv"},
		{Format: JSONL, BulkIndex: "x"},
		{Format: ECS, BulkIndex: "Upper"},
		{Format: ECS, BulkIndex: "_under"},
		{Format: ECS, BulkIndex: "a b"},
	} {
		if _, err := Export(context.Background(), db, &bytes.Buffer{}, o); err == nil {
			t.Errorf("%+v: no error", o)
		}
	}
}

func TestECSMapping(t *testing.T) {
	for _, p := range []string{"opensearch", "elasticsearch"} {
		b, err := ECSMapping(p)
		if err != nil || !json.Valid(b) {
			t.Fatalf("%s: %v", p, err)
		}
		if !bytes.Contains(b, []byte(map[string]string{"opensearch": "flat_object", "elasticsearch": "flattened"}[p])) {
			t.Errorf("%s: no flattened type", p)
		}
	}
	if _, err := ECSMapping("splunk"); err == nil {
		t.Error("an unknown platform gave a mapping")
	}
}

func TestIsJSONAgreesWithEncodingJSON(t *testing.T) {
	for _, s := range []string{`{}`, `{"a":"b"}`, `{"a":"b","c":"d\"\\\/\b\f\n\r\t\u00e9"}`, `{"a":1}`, `{"a":"b",}`,
		`{"a":"b"`, `{"a" :"b"}`, `{"a":"\x"}`, `{"a":"\u12"}`, "{\"a\":\"\x01\"}", `{"a":"b"}}`, `{"a"}`, `{,}`,
		`{"a":"b""c":"d"}`, `{"a":["x"]}`, `[]`, `{"a":"b"} `, `{"\u00zz":""}`} {
		if got, want := isJSON([]byte(s), s[0]), json.Valid([]byte(s)); got != want {
			t.Errorf("isJSON(%q) = %v, json.Valid %v", s, got, want)
		}
	}
}

func FuzzIsJSON(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":"b"}`, `{"a":1,"b":[1,{"c":null}]}`, `{"a":"\u00e9\n"}`, `{"a":"b",}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) == 0 {
			return
		}
		want := json.Valid(b) && utf8.Valid(b) && b[0] == '{'
		if got := isJSON(b, '{'); got != want {
			t.Fatalf("isJSON(%q) = %v, want %v", b, got, want)
		}
		if want {
			// Every member the walker finds re-encodes to an object that parses.
			out := stringObject(nil, b)
			if !json.Valid(out) || !utf8.Valid(out) {
				t.Fatalf("stringObject(%q) = %q, not JSON", b, out)
			}
		}
	})
}

// FuzzValidJSON checks validJSON against encoding/json.Valid on any bytes.
func FuzzValidJSON(f *testing.F) {
	for _, s := range []string{`{}`, `[]`, ` [1, -0.5e+3, "a\u00e9", true, false, null, {"a": [{}]}] `, `{"a":}`, `[1,]`,
		`01`, `-`, `1.`, `1e`, `"\x01"`, `{"a" 1}`, `[[[[]]]]`, `nul`, `{"a":"b"}x`, "\"\xff\""} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := validJSON(b), json.Valid(b); got != want {
			t.Fatalf("validJSON(%q) = %v, json.Valid says %v", b, got, want)
		}
	})
}

func TestValidJSONDepth(t *testing.T) {
	for _, n := range []int{maxDepth - 1, maxDepth, maxDepth + 1} {
		b := []byte(strings.Repeat("[", n) + strings.Repeat("]", n))
		if got, want := validJSON(b), json.Valid(b); got != want {
			t.Errorf("depth %d: validJSON %v, json.Valid %v", n, got, want)
		}
	}
}
