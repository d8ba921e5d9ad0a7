package main

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"triage/analyzers"
	"triage/timeline"
)

const demoReportTime = "2026-03-12T09:00:00Z"

// runDemoIn runs `triage demo` with a fixed report time into dir.
func runDemoIn(t *testing.T, dir string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if code := dispatch([]string{"demo", "--out", dir, "--report-time", demoReportTime}, &stdout, &stderr); code != exitOK {
		t.Fatalf("triage demo: exit %d\n%s", code, stderr.String())
	}
	if want := "report: " + filepath.Join(dir, "case", "report.html") + "\n"; !strings.HasSuffix(stdout.String(), want) {
		t.Errorf("stdout does not end with %q:\n%s", want, stdout.String())
	}
}

func readTree(t *testing.T, root string) map[string][]byte {
	out := map[string][]byte{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(root, p)
		out[rel] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestDemoDeterministic runs the demo twice into the same folder and
// compares every file: the evidence, the timeline, the manifest and the
// report must be byte-identical.
func TestDemoDeterministic(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "demo")
	runDemoIn(t, dir)
	first := readTree(t, dir)
	if err := os.Rename(dir, filepath.Join(parent, "first")); err != nil {
		t.Fatal(err)
	}
	runDemoIn(t, dir)
	second := readTree(t, dir)
	for name, b := range first {
		if !bytes.Equal(b, second[name]) {
			t.Errorf("%s differs between two runs", name)
		}
	}
	if len(first) != len(second) {
		t.Errorf("%d files, then %d", len(first), len(second))
	}
	for _, name := range []string{"report.html", "manifest.json", "timeline.db", "findings.csv"} {
		if first[filepath.Join("case", name)] == nil {
			t.Errorf("no %s", name)
		}
	}
}

// TestDemoPipeline checks every stage on the demo evidence, so that a clone
// without the shared corpus still tests them end to end: every artifact
// collected and parsed without error, events of every source in the
// timeline, the findings of every analyzer as in the golden file (each line
// justified there; the ordinary activity gives none), and the report
// showing every analyzer's technique and findings.
func TestDemoPipeline(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "demo")
	runDemoIn(t, dir)
	db, err := timeline.Open(filepath.Join(dir, "case", "timeline.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	scalar := func(query string, args ...any) int {
		var n int
		if err := db.QueryRow(query, args...).Scan(&n); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		return n
	}
	if n := scalar(`SELECT count(*) FROM artifacts WHERE status != 'ok' OR errors != 0`); n != 0 {
		t.Errorf("%d artifacts not parsed cleanly", n)
	}
	for kind, want := range map[string]int{"evtx": 5, "prefetch": 21, "history": 2, "batch": 2, "script": 2} {
		if n := scalar(`SELECT count(*) FROM artifacts WHERE kind = ?`, kind); n != want {
			t.Errorf("%d %s artifacts, want %d", n, kind, want)
		}
		if n := scalar(`SELECT count(*) FROM events WHERE source = ?`, kind); n == 0 {
			t.Errorf("no %s events in the timeline", kind)
		}
	}
	if n := scalar(`SELECT count(*) FROM scripts`); n == 0 {
		t.Error("no reassembled script block")
	}
	if n := scalar(`SELECT count(*) FROM scripts WHERE text LIKE '%AmsiUtils%schtasks.exe%'`); n != 1 {
		t.Errorf("the three-part block reassembled %d times, want once", n)
	}

	rows, err := db.Query(`SELECT severity || ' | ' || technique_id || ' | ' || title FROM findings ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		var s string
		rows.Scan(&s)
		got = append(got, s)
	}
	rows.Close()
	golden, err := os.ReadFile(filepath.Join("..", "..", "internal", "demo", "testdata", "findings.golden"))
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, line := range strings.Split(strings.TrimSpace(string(golden)), "\n") {
		if strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndex(line, " | ")
		if i < 0 || strings.TrimSpace(line[i+3:]) == "" {
			t.Errorf("golden line without a justification: %q", line)
			continue
		}
		want = append(want, line[:i])
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("findings differ from internal/demo/testdata/findings.golden; review and justify each change:\n%s", strings.Join(got, "\n"))
	}
	// Ordinary activity stays quiet: nothing cites the administrator's
	// session, the drive-mapping script or the Office apps alice uses.
	quiet := `SELECT count(*) FROM finding_evidence fe JOIN events e ON e.id = fe.event_id
		WHERE e.user LIKE '%itadmin%' OR e.command_line LIKE '%gpupdate%' OR e.command_line LIKE '%ipconfig%'
		OR e.process LIKE '%map-drives%' OR e.process LIKE '%EXCEL.EXE' OR e.process LIKE '%OUTLOOK.EXE'`
	if n := scalar(quiet); n != 0 {
		t.Errorf("%d findings cite ordinary activity", n)
	}

	report, err := os.ReadFile(filepath.Join(dir, "case", "report.html"))
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range analyzers.Registry() {
		m := a.Meta()
		if n := scalar(`SELECT count(*) FROM findings WHERE analyzer = ?`, m.ID); n == 0 {
			t.Errorf("analyzer %s: no finding on the demo", m.ID)
		}
		if !bytes.Contains(report, []byte(m.Technique.ID)) {
			t.Errorf("report does not show %s", m.Technique.ID)
		}
	}
	for _, title := range []string{"cmd.exe started by winword.exe (Office)", "PowerShell -EncodedCommand: download",
		"cscript.exe ran a script from a user-writable folder", "Batch file update.bat: download"} {
		if !bytes.Contains(report, []byte(title)) {
			t.Errorf("report lacks the finding %q", title)
		}
	}
}

// TestDemoRefusesExisting: a second demo into the same folder needs --force.
func TestDemoRefusesExisting(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "demo")
	runDemoIn(t, dir)
	var stdout, stderr bytes.Buffer
	if code := dispatch([]string{"demo", "--out", dir}, &stdout, &stderr); code != exitUsage || !strings.Contains(stderr.String(), "triage: hint:") {
		t.Errorf("second demo: exit %d, stderr %q", code, stderr.String())
	}
	if code := dispatch([]string{"demo", "--out", dir, "--force", "--report-time", demoReportTime}, &stdout, &stderr); code != exitOK {
		t.Errorf("demo --force: exit %d, stderr %q", code, stderr.String())
	}
}
