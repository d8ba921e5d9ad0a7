package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"triage/internal/testcorpus"
)

func fileBytes(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestRunAddGrowsCase builds a case of two hosts by a run and an --add,
// and the same case by one run: the timelines and findings are the same,
// the manifest and the runs table keep both runs, and evidence already in
// the case is refused, leaving the case as it was, unless forced.
func TestRunAddGrowsCase(t *testing.T) {
	roots := demoCopies(t, 2)
	when := "2024-01-02T03:04:05Z"
	dir := t.TempDir()
	one, grown := filepath.Join(dir, "one"), filepath.Join(dir, "grown")
	ok := func(code int, stderr string) {
		t.Helper()
		if code != exitOK && code != exitNotClean {
			t.Fatalf("exit %d: %s", code, stderr)
		}
	}
	// The grown case is made with timeline.csv, and the add keeps it up to
	// date unasked.
	code, _, stderr := runCLI(t, "run", "--report-time", when, "--tz", "Europe/Berlin", "--timeline-csv", "--out", one,
		"--host", "first="+roots[0], "--host", "second="+roots[1])
	ok(code, stderr)
	code, _, stderr = runCLI(t, "run", "--report-time", when, "--tz", "Europe/Berlin", "--timeline-csv", "--out", grown, "--host", "first="+roots[0])
	ok(code, stderr)
	before := fileBytes(t, filepath.Join(grown, "manifest.json"))
	beforeDB := fileBytes(t, filepath.Join(grown, "timeline.db"))

	// The same root again, and a copy of it elsewhere: refused.
	for _, args := range [][]string{{roots[0]}, {"--host", "second=" + roots[1]}} {
		code, _, stderr = runCLI(t, append([]string{"run", "--report-time", when, "--out", grown, "--add"}, args...)...)
		if code != exitUsage || !strings.Contains(stderr, "is already in the case") || !strings.Contains(stderr, "triage: hint: ") {
			t.Errorf("--add %v: exit %d: %s", args, code, stderr)
		}
	}
	if !bytes.Equal(before, fileBytes(t, filepath.Join(grown, "manifest.json"))) ||
		!bytes.Equal(beforeDB, fileBytes(t, filepath.Join(grown, "timeline.db"))) {
		t.Fatal("a refused --add changed the case")
	}

	// Forced, the copy is added as a host of its own; --tz is the case's.
	code, _, stderr = runCLI(t, "run", "--report-time", when, "--out", grown, "--add", "--force-add", "--host", "second="+roots[1])
	ok(code, stderr)
	for _, name := range []string{"findings.csv", "timeline.csv"} {
		if !bytes.Equal(fileBytes(t, filepath.Join(one, name)), fileBytes(t, filepath.Join(grown, name))) {
			t.Errorf("%s of the grown case differs from the one-run case's", name)
		}
	}
	m := readManifest(t, grown)
	if len(m.Runs) != 2 || m.Runs[0].Kind != "run" || m.Runs[1].Kind != "add" || m.Runs[1].Status != "complete" ||
		m.Status != "complete" || m.TimeZone != "Europe/Berlin" {
		t.Errorf("manifest: status %s, tz %s, runs %+v", m.Status, m.TimeZone, m.Runs)
	}
	if mo := readManifest(t, one); len(m.Artifacts) != len(mo.Artifacts) || len(m.Hosts) != 2 || len(m.Evidence) != 2 {
		t.Errorf("manifest: %d artifacts (one run: %d), hosts %+v, evidence %v", len(m.Artifacts), len(mo.Artifacts), m.Hosts, m.Evidence)
	}
	db := openDB(t, grown)
	if n := count(t, db, `SELECT count(*) FROM runs WHERE status = 'complete'`); n != 2 {
		t.Errorf("%d complete runs, want 2", n)
	}
	if n := count(t, db, `SELECT count(*) FROM runs WHERE kind = 'add' AND tz = 'Europe/Berlin'`); n != 1 {
		t.Error("the --add's runs row does not have the case's time zone")
	}
	html := string(fileBytes(t, filepath.Join(grown, "report.html")))
	if !strings.Contains(html, `id="case-history"`) {
		t.Error("report.html has no case history")
	}
}

func TestRunAddUsage(t *testing.T) {
	roots := demoCopies(t, 1)
	empty := t.TempDir()
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--add", roots[0]}, "--add needs --out CASE"},
		{[]string{"--out", empty, "--add", "--force", roots[0]}, "give one of them"},
		{[]string{"--out", empty, "--force-add", roots[0]}, "--force-add goes with --add"},
		{[]string{"--out", empty, "--add", roots[0]}, "holds no triage case to add to"},
	} {
		code, _, stderr := runCLI(t, append([]string{"run"}, tt.args...)...)
		if code != exitUsage || !strings.Contains(stderr, tt.want) || !strings.Contains(stderr, "triage: hint: ") {
			t.Errorf("run %v: exit %d: %s", tt.args, code, stderr)
		}
	}
}

// TestRunAddInterrupted: an --add stopped half way leaves the case marked
// interrupted, in the runs table, the manifest and the report, and no
// further --add goes into it.
func TestRunAddInterrupted(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a process over the whole corpus")
	}
	corpus := testcorpus.Dir(t)
	roots := demoCopies(t, 2)
	out := filepath.Join(t.TempDir(), "case")
	if code, _, stderr := runCLI(t, "run", "--out", out, roots[0]); code != exitOK && code != exitNotClean {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	cmd := triageProcess(t, "run", "--out", out, "--add", corpus)
	interruptAfterParsing(t, cmd, 20)
	if code := cmd.ProcessState.ExitCode(); code != exitInterrupted {
		t.Fatalf("exit %d after SIGINT, want %d", code, exitInterrupted)
	}
	m := readManifest(t, out)
	if m.Status != "interrupted" || len(m.Runs) != 2 || m.Runs[1].Status != "interrupted" {
		t.Errorf("manifest status %s, runs %+v", m.Status, m.Runs)
	}
	db := openDB(t, out)
	if n := count(t, db, `SELECT count(*) FROM runs WHERE kind = 'add' AND status = 'interrupted'`); n != 1 {
		t.Errorf("%d interrupted --add runs, want 1", n)
	}
	db.Close()
	code, _, errText := runCLI(t, "run", "--out", out, "--add", roots[1])
	if code != exitUsage || !strings.Contains(errText, "did not complete") || !strings.Contains(errText, "--force") {
		t.Errorf("--add to an interrupted case: exit %d: %s", code, errText)
	}
	code, _, errText = runCLI(t, "report", out)
	if code != exitFail || !strings.Contains(errText, "INCOMPLETE") {
		t.Errorf("triage report on a case whose --add was interrupted: exit %d: %s", code, errText)
	}
}
