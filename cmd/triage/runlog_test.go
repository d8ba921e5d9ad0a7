package main

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestRunLogEscapesNames: a newline in a file name cannot forge a line of
// run.log, an escape sequence in a folder name reaches neither run.log,
// stderr nor the console summary, and the manifest and the database keep
// the names byte-exact.
func TestRunLogEscapesNames(t *testing.T) {
	user := "mal\n2024-01-01T00:00:00Z finished: 0 artifacts readable\x1b[2J"
	root := filepath.Join(t.TempDir(), "host\x1b]0;owned\x07")
	history := filepath.Join(root, "C", "Users", user, "AppData", "Roaming", "Microsoft", "Windows", "PowerShell", "PSReadLine", "ConsoleHost_history.txt")
	if err := os.MkdirAll(filepath.Dir(history), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(history, []byte("whoami\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "out")
	code, stdout, stderr := runCLI(t, "run", "--out", out, root)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	log, err := os.ReadFile(filepath.Join(out, "run.log"))
	if err != nil {
		t.Fatal(err)
	}
	line := regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ `)
	for i, l := range strings.Split(strings.TrimSuffix(string(log), "\n"), "\n") {
		if !line.MatchString(l) || strings.HasPrefix(l, "2024-01-01T00:00:00Z") {
			t.Errorf("run.log line %d is not one of triage's: %q", i+1, l)
		}
	}
	if n := len(regexp.MustCompile(`(?m)^\S+ finished:`).FindAllString(string(log), -1)); n != 1 {
		t.Errorf("run.log says finished %d times:\n%s", n, log)
	}
	if !strings.Contains(string(log), `mal\x0a2024-01-01T00:00:00Z finished: 0 artifacts readable\x1b[2J`) {
		t.Errorf("run.log does not show the name escaped:\n%s", log)
	}
	for name, s := range map[string]string{"run.log": string(log), "stderr": stderr, "stdout": stdout} {
		if strings.ContainsAny(s, "\x1b\x07") {
			t.Errorf("%s carries a control character: %q", name, s)
		}
	}
	var m struct {
		Artifacts []struct{ Path string } `json:"artifacts"`
	}
	b, _ := os.ReadFile(filepath.Join(out, "manifest.json"))
	if err := json.Unmarshal(b, &m); err != nil || len(m.Artifacts) != 1 || !strings.Contains(m.Artifacts[0].Path, user) {
		t.Errorf("manifest artifacts %+v (%v), want the path with the name as on disk", m.Artifacts, err)
	}
	db, err := sql.Open("sqlite3", filepath.Join(out, "timeline.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var path string
	db.QueryRow(`SELECT path FROM artifacts`).Scan(&path)
	if !strings.Contains(path, user) {
		t.Errorf("artifacts.path %q, want the name as on disk", path)
	}
}

// TestConsolePrintsAboveTheBar: on a terminal, a log line that matters is
// printed above the progress bar (the bar cleared, the line, the bar
// again) and routine lines stay in run.log only.
func TestConsolePrintsAboveTheBar(t *testing.T) {
	var screen bytes.Buffer
	c := newConsole(&screen, true)
	log := &runLog{w: new(bytes.Buffer), console: c, now: time.Now}
	update, finish := c.startBar(100, "host")
	update(10, "host: 7 events")
	log.Printf("parsed %s (evtx): 7 events, status ok, 0 errors", "a.evtx")
	log.Printf("error: skipped %s: too large", "b.evtx")
	log.Printf("parsed %s (evtx): 3 events, status damaged, 2 errors", "c.evtx")
	update(10, "host: 9 events")
	log.Printf("finished: 1 artifacts readable, outputs in %s", "out")
	finish()
	s := screen.String()
	if strings.Contains(s, "parsed a.evtx") {
		t.Errorf("a routine line reached the terminal:\n%q", s)
	}
	i := strings.Index(s, "triage: error: skipped b.evtx: too large\n")
	if i < 0 {
		t.Fatalf("the error is not on the terminal:\n%q", s)
	}
	if before := s[:i]; !strings.HasSuffix(before, "\r") {
		t.Errorf("the bar was not cleared before the line: %q", before[max(0, len(before)-40):])
	}
	if after := s[i:]; !strings.Contains(after, "host: 7 events") {
		t.Errorf("the bar was not drawn again after the line: %q", after)
	}
	if !strings.Contains(s, "triage: parsed c.evtx (evtx): 3 events, status damaged, 2 errors\n") {
		t.Errorf("a damaged artifact is not on the terminal:\n%q", s)
	}
	if !strings.Contains(s, "triage: finished: 1 artifacts readable, outputs in out\n") {
		t.Errorf("where the outputs went is not on the terminal:\n%q", s)
	}
}

// TestConsoleOffTerminal: to a pipe or a file, every line and no bar.
func TestConsoleOffTerminal(t *testing.T) {
	var w bytes.Buffer
	c := newConsole(&w, false)
	log := &runLog{w: new(bytes.Buffer), console: c, now: time.Now}
	update, finish := c.startBar(100, "host")
	update(50, "host: 1 events")
	log.Printf("parsed a.evtx")
	log.Printf("error: b")
	finish()
	if got, want := w.String(), "triage: parsed a.evtx\ntriage: error: b\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// TestRunLogRemembersWriteErrors: run.log on a full disk is an error the
// run can report, not a silent loss of the audit trail.
func TestRunLogRemembersWriteErrors(t *testing.T) {
	full, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
	if err != nil {
		t.Skip(err)
	}
	defer full.Close()
	log := &runLog{w: full, now: time.Now}
	log.Printf("one")
	log.Printf("two")
	if log.Err() == nil {
		t.Error("no error after writing run.log to /dev/full")
	}
}
