package report

import (
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"triage/timeline"
)

const hostileHost = `../<img src=x onerror=alert(1)>`

// splitTimeline holds five hosts, one named with markup and a path, each
// with a finding; WS01's finding cites 60 records.
func splitTimeline(t *testing.T) *sql.DB {
	t.Helper()
	db, _ := splitTimelineSpans(t)
	return db
}

// splitTimelineSpans is splitTimeline, with the spans its Writer kept.
func splitTimelineSpans(t *testing.T) (*sql.DB, *timeline.EventSpans) {
	t.Helper()
	db, w := newWriter(t)
	ts := time.Date(2024, 1, 1, 9, 0, 0, 0, time.UTC)
	hosts := []string{"WS01", "WS02", "WS03", "WS04", hostileHost}
	for h, host := range hosts {
		a := &timeline.Artifact{Host: host, EvidenceRoot: "r", Path: "Security.evtx", Kind: "evtx",
			SHA256: strings.Repeat(fmt.Sprintf("%02x", h+1), 32), MD5: "cd", Status: "ok"}
		if _, err := w.AddArtifact(a); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 60; i++ {
			e := timeline.Event{TS: ts.Add(time.Duration(i) * time.Second), Host: host, ArtifactID: a.ID, RecordID: int64(i + 1),
				Source: "evtx", EventID: 4688, Provider: timeline.ProviderSecurity, Summary: "start " + host,
				Process: `C:\Windows\System32\cmd.exe`, CommandLine: "cmd /c echo " + host}
			if err := w.AddEvent(&e); err != nil {
				t.Fatal(err)
			}
		}
	}
	spans := w.Spans()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	for _, host := range hosts {
		res, err := db.Exec(`INSERT INTO findings (analyzer, host, ts, ts_ns, technique_id, technique_name, tactic, severity,
			confidence, title, rule) VALUES ('a', ?, ?, ?, 'T1059.003', 'Windows Command Shell', 'Execution', 'high', 'high', ?, 'rule')`,
			host, timeline.FormatTime(ts), ts.UnixNano(), "finding on "+host)
		if err != nil {
			t.Fatal(err)
		}
		id, _ := res.LastInsertId()
		cited := 1
		if host == "WS01" {
			cited = 60
		}
		if _, err := db.Exec(`INSERT INTO finding_evidence (finding_id, event_id, artifact_path, record_id, artifact_sha256)
			SELECT ?, e.id, a.path, e.record_id, a.sha256 FROM events e JOIN artifacts a ON a.id = e.artifact_id
			WHERE e.host = ? ORDER BY e.id LIMIT ?`, id, host, cited); err != nil {
			t.Fatal(err)
		}
	}
	return db, spans
}

// TestGivenIsRead: the pages given the spans a run kept and what Prepare
// read beside the analyzers are those that read them from the timeline,
// split by host or not.
func TestGivenIsRead(t *testing.T) {
	split, spans := splitTimelineSpans(t)
	for _, c := range []struct {
		name  string
		db    *sql.DB
		dated map[string]timeline.Span
	}{{"split", split, spans.Dated}, {"one page", hostileTimeline(t), nil}} {
		read, given := t.TempDir(), t.TempDir()
		opts := Options{OutDir: read, ReportTime: reportTime, Location: time.FixedZone("x", 3600)}
		want, err := Render(c.db, opts)
		if err != nil {
			t.Fatal(err)
		}
		opts.OutDir, opts.Dated = given, c.dated
		if opts.Prepared, err = Prepare(c.db, opts); err != nil {
			t.Fatal(err)
		}
		got, err := Render(c.db, opts)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Fatalf("%s: written %v, want %v", c.name, got, want)
		}
		for _, name := range want {
			a, _ := os.ReadFile(filepath.Join(read, name))
			b, _ := os.ReadFile(filepath.Join(given, name))
			if string(a) != string(b) {
				t.Errorf("%s: %s differs", c.name, name)
			}
		}
	}
}

func TestCaseOfManyHostsIsSplitByHost(t *testing.T) {
	db := splitTimeline(t)
	dirs := []string{t.TempDir(), t.TempDir()}
	var written []string
	for _, dir := range dirs {
		var err error
		if written, err = Render(db, Options{OutDir: dir, ReportTime: reportTime}); err != nil {
			t.Fatal(err)
		}
	}
	main := read(t, filepath.Join(dirs[0], "report.html"))
	if !strings.Contains(main, `<section id="hosts">`) || strings.Contains(main, `<section id="findings">`) ||
		strings.Contains(main, `<section id="manifest">`) {
		t.Error("the case report lists findings or artifacts instead of linking the host pages")
	}
	if strings.Contains(main, "<img") {
		t.Error("a host name's markup reached the case report unescaped")
	}
	safe := regexp.MustCompile(`^hosts/[A-Za-z0-9_][A-Za-z0-9._-]*\.html$`)
	pages := 0
	for _, name := range written {
		if !strings.HasPrefix(name, "hosts/") {
			continue
		}
		pages++
		if !safe.MatchString(name) {
			t.Errorf("page name %q is not a plain file name under hosts/", name)
		}
		if !strings.Contains(main, `href="`+name+`"`) {
			t.Errorf("the case report does not link %s", name)
		}
		a, b := read(t, filepath.Join(dirs[0], name)), read(t, filepath.Join(dirs[1], name))
		if a != b {
			t.Errorf("%s differs between two renders", name)
		}
		if strings.Contains(a, "<img") {
			t.Errorf("%s shows a host name's markup unescaped", name)
		}
	}
	if pages != 5 {
		t.Errorf("%d host pages written, want 5: %v", pages, written)
	}
	if main != read(t, filepath.Join(dirs[1], "report.html")) {
		t.Error("report.html differs between two renders")
	}
	ws01 := read(t, filepath.Join(dirs[0], "hosts", "WS01.html"))
	if !strings.Contains(ws01, "finding on WS01") || strings.Contains(ws01, "finding on WS02") {
		t.Error("WS01's page does not hold exactly WS01's findings")
	}
	if !strings.Contains(ws01, "10 more records, the first 50") || !strings.Contains(ws01, `id="sha256-`+strings.Repeat("01", 32)+`"`) {
		t.Error("WS01's page does not cut the records at 50 with a count, or lacks its manifest row")
	}
	csv := read(t, filepath.Join(dirs[0], "findings.csv"))
	if strings.Count(csv, "\n") != 6 || !strings.Contains(csv, " 58 59 60,") {
		t.Errorf("findings.csv: %d lines", strings.Count(csv, "\n"))
	}
	if _, err := os.Stat(filepath.Join(dirs[0], "hosts", "WS05.html")); err == nil {
		t.Error("a page for a host that does not exist")
	}
}

func TestHostPageNamesNeverCollide(t *testing.T) {
	hosts := []string{"", ".", "..", "WS01", "ws01", "a/b", "a_b", strings.Repeat("x", 100), "é"}
	names := hostPageNames(hosts)
	seen := map[string]string{}
	for _, h := range hosts {
		n := strings.ToLower(names[h])
		if prev, ok := seen[n]; ok {
			t.Errorf("%q and %q share page %s", prev, h, names[h])
		}
		seen[n] = h
		if !regexp.MustCompile(`^hosts/[A-Za-z0-9_-][A-Za-z0-9._-]*\.html$`).MatchString(names[h]) {
			t.Errorf("%q: page %q", h, names[h])
		}
	}
}

func TestStaleHostPagesAreRemoved(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "hosts"), 0o755)
	stale := filepath.Join(dir, "hosts", "GONE.html")
	if err := os.WriteFile(stale, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	written, err := Render(splitTimeline(t), Options{OutDir: dir, ReportTime: reportTime})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); err == nil {
		t.Errorf("a host page of an earlier render is left beside %v", written)
	}
	if _, err := os.Stat(filepath.Join(dir, "hosts", "WS01.html")); err != nil {
		t.Error("the render's own page was removed:", err)
	}
}

// newWriter is a new timeline and its Writer; the timeline is closed when
// the test ends.
func newWriter(t *testing.T) (*sql.DB, *timeline.Writer) {
	t.Helper()
	db, err := timeline.Create(filepath.Join(t.TempDir(), "timeline.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	w, err := timeline.NewWriter(db)
	if err != nil {
		t.Fatal(err)
	}
	return db, w
}

// TestHostChartsFromTheCasePage wants each host page's charts, counted by
// the case page's one read, as the host page's own read counts them.
func TestHostChartsFromTheCasePage(t *testing.T) {
	db, w := newWriter(t)
	start := time.Date(2024, 3, 1, 22, 0, 0, 0, time.UTC)
	images := []string{`C:\Windows\System32\cmd.exe`, `C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe`, `C:\Windows\System32\mshta.exe`}
	var hosts []string
	for h := 0; h < 6; h++ {
		host := fmt.Sprintf("WS%02d", h)
		hosts = append(hosts, host)
		a := &timeline.Artifact{Host: host, EvidenceRoot: "r", Path: "Security.evtx", Kind: "evtx", SHA256: "ab", MD5: "cd", Status: "ok"}
		if _, err := w.AddArtifact(a); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 7*(h+1); i++ {
			// Hosts differ in count, image and span (one to several days);
			// a Sysmon 1 a second after a 4688 is the same run.
			ts := start.Add(time.Duration(i*(h+1)) * 37 * time.Minute)
			e := timeline.Event{TS: ts, Host: host, ArtifactID: a.ID, RecordID: int64(2*i + 1), Source: "evtx", EventID: 4688,
				Provider: timeline.ProviderSecurity, Summary: "s", Process: images[(i+h)%len(images)]}
			if err := w.AddEvent(&e); err != nil {
				t.Fatal(err)
			}
			if i%3 == 0 {
				e.TS, e.RecordID, e.EventID, e.Provider, e.Channel = ts.Add(time.Second), int64(2*i+2), 1, timeline.ProviderSysmon, "Microsoft-Windows-Sysmon/Operational"
				if err := w.AddEvent(&e); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	opts := Options{OutDir: t.TempDir(), ReportTime: reportTime, Location: time.FixedZone("X", 5*3600+1800)}
	if _, err := Render(db, opts); err != nil {
		t.Fatal(err)
	}
	names := hostPageNames(hosts)
	own := t.TempDir()
	own0 := opts
	own0.OutDir = own
	if err := os.MkdirAll(filepath.Join(own, "hosts"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, host := range hosts {
		if err := writeHostPage(db, own0, host, names[host]); err != nil {
			t.Fatal(err)
		}
		shared, alone := read(t, filepath.Join(opts.OutDir, names[host])), read(t, filepath.Join(own, names[host]))
		if shared != alone {
			t.Errorf("%s: the page from the case page's count differs from its own", host)
		}
		if !strings.Contains(alone, "<svg") {
			t.Errorf("%s: no chart", host)
		}
	}
}

// TestPageTimeRangeByIndex: the first and last event a page states, read
// through the time indexes, are min(ts) and max(ts) of its events dated
// after 1970, for the case and for each host.
func TestPageTimeRangeByIndex(t *testing.T) {
	db, w := newWriter(t)
	times := map[string][]time.Time{
		"A": {time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC), time.Unix(0, 0), time.Date(2024, 1, 1, 0, 0, 0, 1099, time.UTC),
			time.Date(2024, 1, 1, 0, 0, 0, 1001, time.UTC), time.Date(2021, 5, 1, 0, 0, 0, 0, time.UTC)},
		"B": {time.Date(2262, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2019, 7, 1, 0, 0, 0, 50, time.UTC), {}},
		"C": {{}},
	}
	for _, host := range []string{"A", "B", "C"} {
		a := &timeline.Artifact{Host: host, EvidenceRoot: "r", Path: "x.evtx", Kind: "evtx", SHA256: "ab", MD5: "cd", Status: "ok"}
		if _, err := w.AddArtifact(a); err != nil {
			t.Fatal(err)
		}
		for i, ts := range times[host] {
			if err := w.AddEvent(&timeline.Event{TS: ts, Host: host, ArtifactID: a.ID, RecordID: int64(i + 1), Source: "evtx", EventID: 1, Summary: "s"}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	for _, host := range []string{"", "A", "B", "C"} {
		d, err := loadPage(db, Options{Location: time.UTC}, host, false)
		if err != nil {
			t.Fatal(err)
		}
		q, args := (&data{host: host}).scoped(`SELECT coalesce(min(ts),''), coalesce(max(ts),'') FROM events WHERE ts_ns > 0`)
		var first, last string
		if err := db.QueryRow(q, args...).Scan(&first, &last); err != nil {
			t.Fatal(err)
		}
		if d.First != first || d.Last != last {
			t.Errorf("host %q: %q to %q, want %q to %q", host, d.First, d.Last, first, last)
		}
	}
}
