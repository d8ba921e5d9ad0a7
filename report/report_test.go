package report

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	csvpkg "encoding/csv"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"triage/timeline"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

const (
	xss1 = `<script>alert(1)</script>`
	xss2 = `"><img src=x onerror=alert(1)>`
	xlsx = `=HYPERLINK("http://x")`
)

var reportTime = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)

// hostileTimeline holds a batch file, a history line and a script block
// that carry markup and a spreadsheet formula, and findings quoting them.
func hostileTimeline(t *testing.T) *sql.DB {
	t.Helper()
	db, err := timeline.Create(filepath.Join(t.TempDir(), "timeline.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Exec(`INSERT INTO runs (tool_version, tool_commit, go_version, command_line, case_id, examiner, evidence, started_ts, finished_ts, status)
		VALUES ('test', 'abc', 'go', '["triage","run"]', ?, 'examiner', '["ev"]', '2024-01-02T03:04:05.0000000Z', '2024-01-02T03:04:06.0000000Z', 'complete')`, xss1); err != nil {
		t.Fatal(err)
	}
	w, err := timeline.NewWriter(db)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.AddSkipped(timeline.Skipped{Host: "host1", EvidenceRoot: "ev", Path: "C/" + xss1 + ".dat", Size: 12,
		Reason: "not-artifact", Detail: xss2}); err != nil {
		t.Fatal(err)
	}
	ts := time.Date(2024, 1, 1, 22, 30, 0, 0, time.UTC)
	hostile := xss1 + "\n" + xss2 + "\n" + xlsx
	add := func(path, kind string, events ...timeline.Event) {
		a := &timeline.Artifact{Host: "host1", EvidenceRoot: "ev", Path: path, Kind: kind, SHA256: strings.Repeat("ab", 32), MD5: strings.Repeat("cd", 16), Status: "ok"}
		if _, err := w.AddArtifact(a); err != nil {
			t.Fatal(err)
		}
		for _, e := range events {
			e.ArtifactID, e.Host, e.TS = a.ID, "host1", ts
			if err := w.AddEvent(&e); err != nil {
				t.Fatal(err)
			}
			a.Records++
		}
		a.Status = "ok"
		if err := w.FinishArtifact(a); err != nil {
			t.Fatal(err)
		}
	}
	add("C/Users/Public/"+xss2+".bat", "batch", timeline.Event{Source: "batch", Process: `C:\Users\Public\x.bat`, Summary: xss1, Data: map[string]any{"content": hostile}})
	add("C/Users/bob/ConsoleHost_history.txt", "history", timeline.Event{Source: "history", RecordID: 1, CommandLine: xlsx, Summary: xss2})
	add("C/Windows/System32/winevt/Logs/PowerShell.evtx", "evtx", timeline.Event{Source: "evtx", EventID: 4104, RecordID: 7,
		Provider: "Microsoft-Windows-PowerShell", ScriptBlockID: "sb1", Summary: "script",
		Data: map[string]any{"ScriptBlockText": hostile, "MessageNumber": "1", "MessageTotal": "2", "ScriptBlockId": "sb1"}},
		timeline.Event{Source: "evtx", EventID: 1, RecordID: 8, Provider: "Microsoft-Windows-Sysmon", Process: `C:\Windows\System32\cmd.exe`, CommandLine: xlsx, Summary: "cmd"},
		timeline.Event{Source: "evtx", EventID: 400, RecordID: 9, Provider: "PowerShell", Summary: "engine",
			Data: map[string]any{"HostId": "h1", "HostName": "ServerRemoteHost", "HostApplication": xss1, "EngineVersion": "5.1"}})
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := timeline.BuildPowerShellSessions(context.Background(), db); err != nil {
		t.Fatal(err)
	}
	for i, matched := range []string{hostile, xlsx, xss2} {
		res, err := db.Exec(`INSERT INTO findings (analyzer, host, ts, ts_ns, technique_id, technique_name, tactic, related, severity,
			confidence, title, rule, matched, decoded, score, features) VALUES ('a', 'host1', ?, ?, 'T1059.003', 'Windows Command Shell',
			'Execution', '["T1105"]', 'high', 'high', ?, ?, ?, ?, 50, '{"carets":3}')`,
			timeline.FormatTime(ts), ts.UnixNano(), "title "+xss1, "rule "+xss2, matched, xlsx)
		if err != nil {
			t.Fatal(err)
		}
		id, _ := res.LastInsertId()
		db.Exec(`INSERT INTO finding_evidence (finding_id, event_id, artifact_path, record_id, artifact_sha256)
			SELECT ?, e.id, a.path, e.record_id, a.sha256 FROM events e JOIN artifacts a ON a.id = e.artifact_id WHERE e.id = ?`, id, i+1)
	}
	// One incident holds the findings, so its evidence chain shows the
	// hostile summaries too.
	if _, err := db.Exec(`INSERT INTO incidents (id, host, first_ts, last_ts, severity, title, links) VALUES (1, 'host1', ?, ?, 'high', ?, '["file:x.bat"]')`,
		timeline.FormatTime(ts), timeline.FormatTime(ts), "incident "+xss2); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE findings SET incident_id = 1`); err != nil {
		t.Fatal(err)
	}
	return db
}

func render(t *testing.T, db *sql.DB) string {
	t.Helper()
	dir := t.TempDir()
	if _, err := Render(db, Options{OutDir: dir, ReportTime: reportTime, TimelineCSV: true}); err != nil {
		t.Fatal(err)
	}
	return dir
}

func read(t *testing.T, path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestHostileContentIsInert(t *testing.T) {
	dir := render(t, hostileTimeline(t))
	html := read(t, filepath.Join(dir, "report.html"))
	for _, raw := range []string{xss1, `<img src=x`, `onerror=alert(1)>`} {
		if strings.Contains(html, raw) {
			t.Errorf("report.html holds %q unescaped", raw)
		}
	}
	if !strings.Contains(html, "&lt;script&gt;alert(1)&lt;/script&gt;") || !strings.Contains(html, "&lt;img src=x onerror=alert(1)&gt;") {
		t.Error("the hostile text is not shown escaped")
	}
	if strings.Count(html, "<script") != 0 {
		t.Error("report.html contains a script element")
	}
	if !strings.Contains(html, `content="default-src 'none'; style-src 'unsafe-inline'; img-src data:"`) {
		t.Error("no Content-Security-Policy")
	}
	for _, name := range []string{"findings.csv", "timeline.csv"} {
		csv := read(t, filepath.Join(dir, name))
		if !strings.Contains(csv, `'=HYPERLINK`) {
			t.Errorf("%s: formula not neutralized", name)
		}
		records, err := csvpkg.NewReader(strings.NewReader(strings.TrimPrefix(csv, "\ufeff"))).ReadAll()
		if err != nil {
			t.Fatalf("%s: not RFC 4180: %v", name, err)
		}
		for _, rec := range records {
			for _, cell := range rec {
				if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
					t.Errorf("%s: cell %q starts a formula", name, cell)
				}
			}
		}
	}
	scripts, _ := filepath.Glob(filepath.Join(dir, "scripts", "*"))
	if len(scripts) != 1 || !strings.HasSuffix(scripts[0], ".txt") {
		t.Errorf("scripts written: %v", scripts)
	}
}

func TestDeterministicAndGolden(t *testing.T) {
	db := hostileTimeline(t)
	a, b := render(t, db), render(t, db)
	for _, name := range []string{"report.html", "findings.csv", "timeline.csv"} {
		x, y := read(t, filepath.Join(a, name)), read(t, filepath.Join(b, name))
		if x != y {
			t.Errorf("%s differs between two renders", name)
		}
		golden := filepath.Join("testdata", name+".golden")
		if *update {
			os.WriteFile(golden, []byte(x), 0o644)
			continue
		}
		if want := read(t, golden); x != want {
			t.Errorf("%s differs from %s (run go test ./report -update after checking the change)", name, golden)
		}
	}
}

// TestChromiumRendersReport loads the report in a real headless browser:
// no console errors, and the findings section is there. The screenshot is
// kept in $TRIAGE_SCREENSHOT_DIR when set, else in the test's temp folder.
func TestChromiumRendersReport(t *testing.T) {
	browser, err := findChromium()
	if err != nil {
		t.Skip("chromium is not installed here (.ci/run installs it): ", err)
	}
	dir := render(t, hostileTimeline(t))
	shots := os.Getenv("TRIAGE_SCREENSHOT_DIR")
	if shots == "" {
		shots = t.TempDir()
	}
	page := "file://" + filepath.Join(dir, "report.html")
	args := append(append([]string{}, chromiumFlags...), "--user-data-dir="+t.TempDir(), "--enable-logging=stderr", "--v=0")
	dom, err := exec.Command(browser, append(args, "--dump-dom", page)...).Output()
	if err != nil {
		t.Fatalf("chromium --dump-dom: %v", err)
	}
	if !bytes.Contains(dom, []byte(`<section id="findings">`)) || !bytes.Contains(dom, []byte("title &lt;script&gt;")) {
		t.Error("the findings section is not in the rendered page")
	}
	cmd := exec.Command(browser, append(args, "--window-size=1280,2400", "--screenshot="+filepath.Join(shots, "report.png"), page)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium --screenshot: %v: %s", err, stderr.String())
	}
	for _, line := range strings.Split(stderr.String(), "\n") {
		if strings.Contains(line, "CONSOLE") || strings.Contains(line, "Uncaught") || strings.Contains(line, "Refused to") {
			t.Errorf("browser console: %s", line)
		}
	}
	if st, err := os.Stat(filepath.Join(shots, "report.png")); err != nil || st.Size() < 10000 {
		t.Errorf("screenshot missing or empty: %v", err)
	}
}

// TestPDFTimeout: a chromium that never finishes is stopped after
// PDFTimeout, with its helper processes, and the render fails saying so,
// leaving no report.pdf.
func TestPDFTimeout(t *testing.T) {
	bin := t.TempDir()
	// A stand-in that starts a helper and then hangs, as a browser stuck
	// on a large page does.
	script := "#!/bin/sh\nsleep 60 &\nsleep 60\n"
	if err := os.WriteFile(filepath.Join(bin, "chromium"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	saved := chromiumNames
	chromiumNames = []string{"chromium"}
	defer func() { chromiumNames = saved }()
	dir := t.TempDir()
	start := time.Now()
	_, err := Render(hostileTimeline(t), Options{OutDir: dir, ReportTime: reportTime, PDF: true, PDFTimeout: time.Second})
	if err == nil || !strings.Contains(err.Error(), "did not print report.pdf within 1s") {
		t.Fatalf("err %v", err)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("render took %v with a 1s PDF timeout", d)
	}
	if _, err := os.Stat(filepath.Join(dir, "report.pdf")); err == nil {
		t.Error("report.pdf exists after the timeout")
	}
	if entries, _ := filepath.Glob(filepath.Join(dir, ".chromium-*")); len(entries) != 0 {
		t.Errorf("chromium's profile left behind: %v", entries)
	}
}

func TestPDFWithoutChromium(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	if err := CheckPDF(); err != ErrNoChromium {
		t.Errorf("CheckPDF: %v", err)
	}
	_, err := Render(hostileTimeline(t), Options{OutDir: t.TempDir(), ReportTime: reportTime, PDF: true})
	if err != ErrNoChromium {
		t.Errorf("Render: %v", err)
	}
}

// TestBanners: an incomplete run, a changed artifact and a run that is not
// clean are each stated at the top of the report.
func TestBanners(t *testing.T) {
	db := hostileTimeline(t)
	if _, err := db.Exec(`UPDATE runs SET status='interrupted', status_detail='stopped by a signal', not_clean='["3 files could not be examined (3 unreadable)"]'`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE artifacts SET integrity_error='CHANGED DURING THE RUN: sha256 a before, b after' WHERE kind='history'`); err != nil {
		t.Fatal(err)
	}
	html := read(t, filepath.Join(render(t, db), "report.html"))
	head, _, _ := strings.Cut(html, "</header>")
	for _, want := range []string{"INCOMPLETE RUN: interrupted", "stopped by a signal", "INTEGRITY ERROR: 1 artifacts changed",
		"ConsoleHost_history.txt", "3 files could not be examined"} {
		if !strings.Contains(head, want) {
			t.Errorf("the top of the report lacks %q", want)
		}
	}
}

// TestScriptFilesBounded: past maxScriptFiles distinct texts, scripts/
// holds the first in the report's order, a text repeated counts once, and
// the report says how many more texts there are.
func TestScriptFilesBounded(t *testing.T) {
	db, err := timeline.Create(filepath.Join(t.TempDir(), "timeline.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	const extra = 5
	for i := 0; i < maxScriptFiles+extra; i++ {
		text := fmt.Sprintf("Write-Output %d", i)
		sum := sha256.Sum256([]byte(text))
		// Block ids sort in reverse of i, so the order is the report's, not the ids'.
		if _, err := tx.Exec(`INSERT INTO scripts (host, script_block_id, first_ts, last_ts, parts_expected, parts_found, sha256, text)
			VALUES ('h', ?, '2024-01-01T00:00:00.0000000Z', '2024-01-01T00:00:00.0000000Z', 1, 1, ?, ?)`,
			fmt.Sprintf("b%06d", maxScriptFiles+extra-i), hex.EncodeToString(sum[:]), text); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := tx.Exec(`INSERT INTO scripts (host, script_block_id, first_ts, last_ts, parts_expected, parts_found, sha256, text)
		SELECT host, 'a-copy', first_ts, last_ts, parts_expected, parts_found, sha256, text FROM scripts WHERE script_block_id = 'b000001'`); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	written, err := Render(db, Options{OutDir: dir, ReportTime: reportTime})
	if err != nil {
		t.Fatal(err)
	}
	files, err := os.ReadDir(filepath.Join(dir, "scripts"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != maxScriptFiles {
		t.Errorf("scripts/ holds %d files, want %d", len(files), maxScriptFiles)
	}
	n := 0
	for _, w := range written {
		if strings.HasPrefix(w, "scripts/") {
			n++
		}
	}
	if n != maxScriptFiles {
		t.Errorf("Render lists %d scripts, want %d", n, maxScriptFiles)
	}
	// The last block in the report's order is i = 0's.
	first := sha256.Sum256([]byte("Write-Output 0"))
	if _, err := os.Stat(filepath.Join(dir, "scripts", hex.EncodeToString(first[:])+".txt")); err == nil {
		t.Error("the script last in the report's order was saved")
	}
	if html := read(t, filepath.Join(dir, "report.html")); !strings.Contains(html, fmt.Sprintf("(%d more texts are not saved as files)", extra)) {
		t.Error("the report does not say how many texts are not saved")
	}
}
