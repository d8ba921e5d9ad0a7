package main

import (
	"archive/zip"
	"bufio"
	"bytes"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"triage/ingest"
	"triage/internal/testcorpus"
	"triage/parsers/evtx"
	"triage/timeline"
)

func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := dispatch(args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// treeState maps every file below root to its SHA-256, size and mtime.
func treeState(t *testing.T, root string) map[string]string {
	out := map[string]string{}
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		info, _ := d.Info()
		sum := sha256.Sum256(b)
		out[p] = hex.EncodeToString(sum[:]) + " " + info.ModTime().String()
		return nil
	})
	return out
}

func readManifest(t *testing.T, dir string) ingest.Manifest {
	b, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m ingest.Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func openDB(t *testing.T, dir string) *sql.DB {
	db, err := timeline.Open(filepath.Join(dir, "timeline.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func count(t *testing.T, db *sql.DB, query string, args ...any) int {
	var n int
	if err := db.QueryRow(query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

func TestRunKAPE(t *testing.T) {
	evidence := filepath.Join(testcorpus.Dir(t), "kape", "APTSIM-WIN10")
	before := treeState(t, evidence)
	out := filepath.Join(t.TempDir(), "x")
	code, stdout, stderr := runCLI(t, "run", "--out", out, evidence)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, name := range []string{"timeline.db", "manifest.json", "run.log"} {
		if _, err := os.Stat(filepath.Join(out, name)); err != nil {
			t.Error(err)
		}
	}
	if !strings.Contains(stdout, "WIN-C89CFTIHC0I") {
		t.Errorf("summary names no host:\n%s", stdout)
	}
	// The host's time range, from its first and last event log record.
	if !strings.Contains(stdout, "2022-03-10T16:33:50Z") || !strings.Contains(stdout, "2022-03-10T21:42:44Z") {
		t.Errorf("summary gives no time range for the host:\n%s", stdout)
	}
	// The evidence is byte-identical and untouched afterwards.
	after := treeState(t, evidence)
	if len(after) != len(before) {
		t.Fatalf("evidence tree has %d files, had %d", len(after), len(before))
	}
	for p, s := range before {
		if after[p] != s {
			t.Errorf("%s changed", p)
		}
	}
	// evtx events in the DB are exactly the records the parser yields.
	want := 0
	filepath.WalkDir(evidence, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".evtx") {
			return err
		}
		f, err := evtx.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		for rec := range f.Records() {
			if rec != nil {
				want++
			}
		}
		f.Close()
		return nil
	})
	db := openDB(t, out)
	if got := count(t, db, `SELECT count(*) FROM events WHERE source='evtx'`); got != want || want < 32000 {
		t.Errorf("%d evtx events in the DB, the parser yields %d", got, want)
	}
	// The manifest's hashes are the evidence's.
	m := readManifest(t, out)
	if len(m.Artifacts) != 94+191 {
		t.Errorf("%d artifacts in the manifest", len(m.Artifacts))
	}
	for _, a := range m.Artifacts {
		if a.IntegrityError != "" {
			t.Errorf("%s: %s", a.Path, a.IntegrityError)
		}
		b, err := os.ReadFile(filepath.Join(evidence, filepath.FromSlash(a.Path)))
		if err != nil {
			t.Fatal(err)
		}
		if sum := sha256.Sum256(b); hex.EncodeToString(sum[:]) != a.SHA256 {
			t.Errorf("%s: manifest sha256 %s differs from the file's", a.Path, a.SHA256)
		}
	}
	if count(t, db, `SELECT count(*) FROM artifacts WHERE sha256 = '' OR md5 = ''`) != 0 {
		t.Error("artifacts without hashes")
	}
}

func TestRunRefusesOutInsideEvidence(t *testing.T) {
	evidence := t.TempDir()
	os.WriteFile(filepath.Join(evidence, "a.bat"), []byte("dir\n"), 0o644)
	code, _, stderr := runCLI(t, "run", "--out", filepath.Join(evidence, "case"), evidence)
	if code != exitUsage || !strings.Contains(stderr, "inside the evidence") {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(evidence, "case")); err == nil {
		t.Fatal("the refused run wrote into the evidence")
	}
	// A second run into the same --out needs --force.
	out := filepath.Join(t.TempDir(), "x")
	if code, _, stderr := runCLI(t, "run", "--out", out, evidence); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if code, _, _ := runCLI(t, "run", "--out", out, evidence); code != exitUsage {
		t.Fatalf("rerun into a used --out: exit %d", code)
	}
	if code, _, stderr := runCLI(t, "run", "--force", "--out", out, evidence); code != exitOK {
		t.Fatalf("--force: exit %d: %s", code, stderr)
	}
}

func TestRunHostileHistoryAndUnreadableFile(t *testing.T) {
	evidence := t.TempDir()
	hostile := "<script>alert(1)</script>\n\"><img src=x onerror=alert(1)>\n=HYPERLINK(\"http://x\")\n\x00\x1b[31m\n"
	hist := filepath.Join(evidence, "C/Users/mallory/AppData/Roaming/Microsoft/Windows/PowerShell/PSReadLine/ConsoleHost_history.txt")
	os.MkdirAll(filepath.Dir(hist), 0o755)
	os.WriteFile(hist, []byte(strings.ReplaceAll(hostile, "\x00", "")), 0o644)
	logs := filepath.Join(evidence, "C/Windows/System32/winevt/Logs")
	os.MkdirAll(logs, 0o755)
	os.WriteFile(filepath.Join(logs, "Broken.evtx"), []byte("ElfFile\x00 but nothing else"), 0o644)
	os.Symlink("/nonexistent", filepath.Join(logs, "Gone.evtx"))
	out := filepath.Join(t.TempDir(), "x")
	code, _, stderr := runCLI(t, "run", "--out", out, evidence)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	db := openDB(t, out)
	var lines []string
	rows, _ := db.Query(`SELECT command_line FROM events WHERE source='history' ORDER BY record_id`)
	for rows.Next() {
		var s string
		rows.Scan(&s)
		lines = append(lines, s)
	}
	rows.Close()
	if len(lines) != 4 || lines[0] != "<script>alert(1)</script>" || lines[2] != `=HYPERLINK("http://x")` {
		t.Errorf("history lines stored as %q", lines)
	}
	if got := count(t, db, `SELECT count(*) FROM events WHERE source='history' AND user='mallory'`); got != 4 {
		t.Errorf("%d history events attributed to mallory", got)
	}
	var status, errs string
	db.QueryRow(`SELECT status, error_list FROM artifacts WHERE path LIKE '%Broken.evtx'`).Scan(&status, &errs)
	if status != "failed" || !strings.Contains(errs, "evtx") {
		t.Errorf("broken log: status %q errors %s", status, errs)
	}
	log, _ := os.ReadFile(filepath.Join(out, "run.log"))
	if !strings.Contains(string(log), "Gone.evtx: symlink: symbolic link, not followed") {
		t.Errorf("run.log does not list the link:\n%s", log)
	}
	// The link is in the skipped table, the manifest and the report.
	const gone = "C/Windows/System32/winevt/Logs/Gone.evtx"
	if n := count(t, db, `SELECT count(*) FROM skipped WHERE path=? AND reason='symlink' AND size=-1`, gone); n != 1 {
		t.Errorf("%d skipped rows for the link", n)
	}
	m := readManifest(t, out)
	if len(m.Skipped) != 1 || m.Skipped[0].Path != gone || m.Skipped[0].Reason != "symlink" || m.SkippedByReason["symlink"] != 1 {
		t.Errorf("manifest skipped %+v, by reason %v", m.Skipped, m.SkippedByReason)
	}
	html, _ := os.ReadFile(filepath.Join(out, "report.html"))
	if i := strings.Index(string(html), `<section id="not-examined">`); i < 0 || !strings.Contains(string(html[i:]), gone) {
		t.Error("report.html has no Not examined section listing the link")
	}
}

func TestRunNothingReadable(t *testing.T) {
	evidence := t.TempDir()
	os.WriteFile(filepath.Join(evidence, "x.evtx"), []byte("not an event log"), 0o644)
	if code, _, _ := runCLI(t, "run", "--out", filepath.Join(t.TempDir(), "x"), evidence); code != exitFail {
		t.Fatalf("exit %d, want %d", code, exitFail)
	}
}

// TestRunReassemblesScriptBlocks checks the 4104 reassembly on the APT
// simulator's PowerShell log: 140 fragments, of which 137 belong to the two
// multi-part blocks (125 and 12 parts), all present.
func TestRunReassemblesScriptBlocks(t *testing.T) {
	out := filepath.Join(t.TempDir(), "x")
	if code, _, stderr := runCLI(t, "run", "--out", out, filepath.Join(testcorpus.Dir(t), "evtx", "powershell")); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	db := openDB(t, out)
	if got := count(t, db, `SELECT count(*) FROM events WHERE event_id=4104`); got != 140 {
		t.Errorf("%d 4104 events", got)
	}
	if got := count(t, db, `SELECT sum(parts_found) FROM scripts WHERE parts_expected > 1`); got != 137 {
		t.Errorf("%d parts in multi-part blocks, want 137", got)
	}
	if got := count(t, db, `SELECT count(*) FROM scripts WHERE parts_found != parts_expected OR missing_parts != '[]'`); got != 0 {
		t.Errorf("%d blocks with missing parts", got)
	}
	var text, sum string
	db.QueryRow(`SELECT text, sha256 FROM scripts WHERE parts_expected = 12`).Scan(&text, &sum)
	h := sha256.Sum256([]byte(text))
	if len(text) < 100000 || hex.EncodeToString(h[:]) != sum {
		t.Errorf("12-part block: %d bytes, hash %s", len(text), sum)
	}
}

// TestRunWholeCorpus runs over every artifact in the corpus as one root:
// damaged files are listed, nothing aborts.
func TestRunWholeCorpus(t *testing.T) {
	out := filepath.Join(t.TempDir(), "x")
	code, _, stderr := runCLI(t, "run", "--out", out, testcorpus.Dir(t))
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	m := readManifest(t, out)
	status := map[string]string{}
	for _, a := range m.Artifacts {
		status[filepath.Base(a.Path)] = a.Status
	}
	for name, want := range map[string]string{
		"not-evtx-16-bytes.evtx":                    "failed",
		"notAPrefetch.pf":                           "failed",
		"sample_with_a_bad_chunk_magic.evtx":        "damaged",
		"plaso-System2-truncated.evtx":              "damaged",
		"Security_with_size_t.evtx":                 "ok",
		"T1059.003-t1059.003_cmd.cmd":               "ok",
		"AM_DELTA_PATCH_1.443.990.0.EX-7037CF86.pf": "ok",
	} {
		if status[name] != want {
			t.Errorf("%s: status %q, want %q", name, status[name], want)
		}
	}
	db := openDB(t, out)
	if got := count(t, db, `SELECT count(*) FROM artifacts WHERE kind='batch'`); got != 11 {
		t.Errorf("%d batch files", got)
	}
}

func TestReportRerendersIdentically(t *testing.T) {
	out := filepath.Join(t.TempDir(), "x")
	evidence := filepath.Join(testcorpus.Dir(t), "evtx", "attack", "TA0002-Execution", "T1059.001-PowerShell")
	if code, _, stderr := runCLI(t, "run", "--report-time", "2024-01-02T03:04:05Z", "--out", out, evidence); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	first, _ := os.ReadFile(filepath.Join(out, "report.html"))
	manifest1, _ := os.ReadFile(filepath.Join(out, "manifest.json"))
	if code, _, stderr := runCLI(t, "report", "--report-time", "2024-01-02T03:04:05Z", out); code != exitOK {
		t.Fatalf("report: exit %d: %s", code, stderr)
	}
	second, _ := os.ReadFile(filepath.Join(out, "report.html"))
	manifest2, _ := os.ReadFile(filepath.Join(out, "manifest.json"))
	if !bytes.Equal(first, second) || !bytes.Equal(manifest1, manifest2) {
		t.Error("triage report changed report.html or manifest.json for the same timeline and report time")
	}
}

// TestRunTwiceIsByteIdentical runs twice over the same evidence with a fixed
// --report-time: the report, the CSVs and the manifest must be identical.
func TestRunTwiceIsByteIdentical(t *testing.T) {
	evidence := filepath.Join(testcorpus.Dir(t), "evtx", "attack", "TA0002-Execution")
	out := filepath.Join(t.TempDir(), "x")
	names := []string{"report.html", "findings.csv", "timeline.csv", "manifest.json", "timeline.db"}
	first := map[string][]byte{}
	for i := 0; i < 2; i++ {
		// The same flags both times: --force only lets the second run reuse --out.
		if code, _, stderr := runCLI(t, "run", "--force", "--timeline-csv", "--report-time", "2024-01-02T03:04:05Z", "--out", out, evidence); code != exitOK {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		for _, name := range names {
			b, _ := os.ReadFile(filepath.Join(out, name))
			if i == 0 {
				first[name] = b
			} else if len(b) == 0 || !bytes.Equal(first[name], b) {
				t.Errorf("%s differs between two runs", name)
			}
		}
	}
}

// TestHelperProcess is not a test: run by triageProcess with
// TRIAGE_HELPER_PROCESS set, it is the triage command, so that tests can
// signal a real process without building the binary.
func TestHelperProcess(t *testing.T) {
	if os.Getenv("TRIAGE_HELPER_PROCESS") != "1" {
		return
	}
	args := os.Args
	for i, a := range args {
		if a == "--" {
			args = args[i+1:]
			break
		}
	}
	os.Exit(dispatch(args, os.Stdout, os.Stderr))
}

// triageProcess is a triage command run in a process of its own.
func triageProcess(t *testing.T, args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], append([]string{"-test.run=^TestHelperProcess$", "--"}, args...)...)
	cmd.Env = append(os.Environ(), "TRIAGE_HELPER_PROCESS=1")
	return cmd
}

func TestRunMissingEvidenceRoot(t *testing.T) {
	out := filepath.Join(t.TempDir(), "x")
	code, _, stderr := runCLI(t, "run", "--out", out, filepath.Join(t.TempDir(), "no-such-folder"))
	if code != exitFail || !strings.Contains(stderr, "no-such-folder") || !strings.Contains(stderr, "triage: hint:") {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("a run on a missing root created --out")
	}
}

// TestRunNotExaminedIsNotClean: a zip entry that cannot be examined (it
// declares 2 GiB) is listed in the skipped table, the manifest and the
// report, and the run exits exitNotClean.
func TestRunNotExaminedIsNotClean(t *testing.T) {
	dir := t.TempDir()
	zipPath := filepath.Join(dir, "host.zip")
	f, _ := os.Create(zipPath)
	zw := zip.NewWriter(f)
	w, _ := zw.Create("C/Windows/a.bat")
	w.Write([]byte("dir\r\n"))
	big := "C/Windows/Temp/huge.bat"
	rw, err := zw.CreateRaw(&zip.FileHeader{Name: big, Method: zip.Store, CRC32: 0, CompressedSize64: 5, UncompressedSize64: 5 << 30})
	if err != nil {
		t.Fatal(err)
	}
	rw.Write([]byte("echo\n"))
	zw.Close()
	f.Close()
	out := filepath.Join(t.TempDir(), "x")
	code, _, stderr := runCLI(t, "run", "--report-time", "2024-01-02T03:04:05Z", "--out", out, zipPath)
	if code != exitNotClean || !strings.Contains(stderr, "not clean") {
		t.Fatalf("exit %d, want %d: %s", code, exitNotClean, stderr)
	}
	db := openDB(t, out)
	var reason string
	db.QueryRow(`SELECT reason FROM skipped WHERE path=?`, big).Scan(&reason)
	if reason == "" || reason == "not-artifact" {
		t.Errorf("skipped reason %q for the entry", reason)
	}
	m := readManifest(t, out)
	found := false
	for _, s := range m.Skipped {
		found = found || s.Path == big && s.Reason == reason
	}
	if !found || m.SkippedByReason[reason] != 1 || len(m.NotClean) == 0 || m.Status != "complete" {
		t.Errorf("manifest: skipped %+v, by reason %v, not clean %q, status %s", m.Skipped, m.SkippedByReason, m.NotClean, m.Status)
	}
	html, _ := os.ReadFile(filepath.Join(out, "report.html"))
	head, _, _ := strings.Cut(string(html), "</header>")
	if !strings.Contains(head, `id="not-clean"`) || !strings.Contains(head, "could not be examined") {
		t.Error("report.html does not say at its top that files could not be examined")
	}
	if !strings.Contains(string(html), big) {
		t.Error("report.html does not list the entry")
	}
	// triage report says the same through its exit status.
	if code, _, stderr := runCLI(t, "report", "--report-time", "2024-01-02T03:04:05Z", out); code != exitNotClean {
		t.Errorf("triage report: exit %d: %s", code, stderr)
	}
}

// TestRunEvidenceChangedDuringRun changes an artifact between its parsing
// and the second hashing: the integrity error is at the top of the report,
// in the artifacts table and the manifest, and in the exit status.
func TestRunEvidenceChangedDuringRun(t *testing.T) {
	evidence := t.TempDir()
	bat := filepath.Join(evidence, "run.bat")
	os.WriteFile(bat, []byte("whoami\r\n"), 0o644)
	os.WriteFile(filepath.Join(evidence, "other.bat"), []byte("dir\r\n"), 0o644)
	beforeRehash = func() {
		if err := os.WriteFile(bat, []byte("whoami /all\r\n"), 0o644); err != nil {
			t.Error(err)
		}
	}
	defer func() { beforeRehash = nil }()
	out := filepath.Join(t.TempDir(), "x")
	code, _, stderr := runCLI(t, "run", "--out", out, evidence)
	if code != exitNotClean || !strings.Contains(stderr, "INTEGRITY") {
		t.Fatalf("exit %d, want %d: %s", code, exitNotClean, stderr)
	}
	db := openDB(t, out)
	var problem string
	db.QueryRow(`SELECT integrity_error FROM artifacts WHERE path='run.bat'`).Scan(&problem)
	if !strings.Contains(problem, "CHANGED DURING THE RUN") {
		t.Errorf("artifacts.integrity_error %q", problem)
	}
	if n := count(t, db, `SELECT count(*) FROM artifacts WHERE integrity_error != ''`); n != 1 {
		t.Errorf("%d artifacts with an integrity error, want 1", n)
	}
	m := readManifest(t, out)
	for _, a := range m.Artifacts {
		if (a.Path == "run.bat") != (a.IntegrityError != "") {
			t.Errorf("manifest: %s: integrity error %q", a.Path, a.IntegrityError)
		}
	}
	html, _ := os.ReadFile(filepath.Join(out, "report.html"))
	head, _, _ := strings.Cut(string(html), "</header>")
	if !strings.Contains(head, "INTEGRITY ERROR") || !strings.Contains(head, "run.bat") {
		t.Error("report.html does not state the integrity error at its top")
	}
}

// TestRunEvidenceChangedInEarlierRoot: the first of two roots is hashed
// again while the second is ingested, and a change to it is still found.
func TestRunEvidenceChangedInEarlierRoot(t *testing.T) {
	first, second := filepath.Join(t.TempDir(), "first"), filepath.Join(t.TempDir(), "second")
	for _, d := range []string{first, second} {
		os.MkdirAll(d, 0o755)
		os.WriteFile(filepath.Join(d, "run.bat"), []byte("whoami\r\n"), 0o644)
	}
	changed := filepath.Join(first, "run.bat")
	beforeRehash = func() {
		if err := os.WriteFile(changed, []byte("whoami /all\r\n"), 0o644); err != nil {
			t.Error(err)
		}
	}
	defer func() { beforeRehash = nil }()
	out := filepath.Join(t.TempDir(), "x")
	code, _, stderr := runCLI(t, "run", "--out", out, "--host", "one="+first, "--host", "two="+second, first, second)
	if code != exitNotClean || !strings.Contains(stderr, "INTEGRITY") {
		t.Fatalf("exit %d, want %d: %s", code, exitNotClean, stderr)
	}
	db := openDB(t, out)
	if n := count(t, db, `SELECT count(*) FROM artifacts WHERE integrity_error LIKE '%CHANGED DURING THE RUN%' AND host='one'`); n != 1 {
		t.Errorf("%d artifacts of the first root with an integrity error, want 1", n)
	}
	if n := count(t, db, `SELECT count(*) FROM artifacts WHERE integrity_error != ''`); n != 1 {
		t.Errorf("%d artifacts with an integrity error, want 1", n)
	}
}

// TestRunRefusesForeignOut: --out that holds anything but a previous run
// is refused, with --force too, and left as it was.
func TestRunRefusesForeignOut(t *testing.T) {
	evidence := t.TempDir()
	os.WriteFile(filepath.Join(evidence, "a.bat"), []byte("dir\n"), 0o644)
	out := t.TempDir()
	notes := filepath.Join(out, "notes.txt")
	os.WriteFile(notes, []byte("case notes"), 0o644)
	for _, force := range []bool{false, true} {
		args := []string{"run", "--out", out, evidence}
		if force {
			args = append([]string{"run", "--force"}, args[1:]...)
		}
		code, _, stderr := runCLI(t, args...)
		if code != exitUsage || !strings.Contains(stderr, "not a triage run") || !strings.Contains(stderr, "triage: hint:") {
			t.Errorf("--force %v: exit %d: %s", force, code, stderr)
		}
	}
	entries, _ := os.ReadDir(out)
	if b, _ := os.ReadFile(notes); string(b) != "case notes" || len(entries) != 1 {
		t.Errorf("the refused runs changed --out: %d entries", len(entries))
	}
}

// TestRunLockedOut: a run into an --out another run holds fails clearly,
// with --force too, and does not touch that run's files.
func TestRunLockedOut(t *testing.T) {
	evidence := t.TempDir()
	os.WriteFile(filepath.Join(evidence, "a.bat"), []byte("dir\n"), 0o644)
	out := filepath.Join(t.TempDir(), "x")
	held, err := ingest.OpenOut(out, false)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	partial := held.Path(ingest.PartialTimelineName)
	os.WriteFile(partial, []byte("being written"), 0o644)
	code, _, stderr := runCLI(t, "run", "--force", "--out", out, evidence)
	if code != exitFail || !strings.Contains(stderr, "another triage run") {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if b, err := os.ReadFile(partial); err != nil || string(b) != "being written" {
		t.Errorf("the refused run touched the holder's files: %q %v", b, err)
	}
}

// TestRunConcurrentForce starts two runs with --force on the same --out at
// once: one completes, the other fails saying the folder is in use.
func TestRunConcurrentForce(t *testing.T) {
	if testing.Short() {
		t.Skip("runs two processes over the KAPE collection")
	}
	evidence := testcorpus.Dir(t, "kape", "APTSIM-WIN10")
	out := filepath.Join(t.TempDir(), "x")
	var cmds []*exec.Cmd
	var errs []*bytes.Buffer
	for range 2 {
		cmd := triageProcess(t, "run", "--force", "--out", out, evidence)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds, errs = append(cmds, cmd), append(errs, &stderr)
	}
	codes := map[int]int{}
	for i, cmd := range cmds {
		cmd.Wait()
		code := cmd.ProcessState.ExitCode()
		codes[code]++
		if code == exitFail && !strings.Contains(errs[i].String(), "another triage run") {
			t.Errorf("run %d failed without saying why: %s", i, errs[i])
		}
	}
	if codes[exitOK] != 1 || codes[exitFail] != 1 {
		t.Errorf("exit statuses %v, want one %d and one %d", codes, exitOK, exitFail)
	}
	if m := readManifest(t, out); m.Status != "complete" {
		t.Errorf("manifest status %s", m.Status)
	}
}

// TestRunInterrupted sends SIGINT to a run half way: it exits 130, the
// timeline and the manifest say interrupted, and triage report on the run
// says so at the top of the report and in its exit status.
func TestRunInterrupted(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a process over the whole corpus")
	}
	out := filepath.Join(t.TempDir(), "x")
	cmd := triageProcess(t, "run", "--report-time", "2024-01-02T03:04:05Z", "--out", out, testcorpus.Dir(t))
	parsed := interruptAfterParsing(t, cmd, 20)
	if code := cmd.ProcessState.ExitCode(); code != exitInterrupted {
		t.Fatalf("exit %d after SIGINT, want %d (%d artifacts parsed)", code, exitInterrupted, parsed)
	}
	m := readManifest(t, out)
	if m.Status != "interrupted" || m.FinishedUTC == "" {
		t.Errorf("manifest status %q, finished %q", m.Status, m.FinishedUTC)
	}
	db := openDB(t, out)
	var status string
	db.QueryRow(`SELECT status FROM runs`).Scan(&status)
	if status != "interrupted" {
		t.Errorf("runs.status %q", status)
	}
	if n := count(t, db, `SELECT count(*) FROM artifacts`); n < 20 || n != len(m.Artifacts) {
		t.Errorf("%d artifacts in the timeline, %d in the manifest", n, len(m.Artifacts))
	}
	db.Close()
	code, _, errText := runCLI(t, "report", "--report-time", "2024-01-02T03:04:05Z", out)
	if code != exitFail || !strings.Contains(errText, "INCOMPLETE") {
		t.Errorf("triage report on an interrupted run: exit %d: %s", code, errText)
	}
	html, _ := os.ReadFile(filepath.Join(out, "report.html"))
	head, _, _ := strings.Cut(string(html), "</header>")
	if !strings.Contains(head, "INCOMPLETE RUN: interrupted") {
		t.Error("report.html of an interrupted run has no banner at its top")
	}
}

// TestRunFullDisk runs into an --out on a tmpfs too small for the
// timeline: the run fails, and what it leaves is visibly incomplete: no
// timeline.db, report or CSV under their final names, and a manifest that
// is whole and does not say complete.
func TestRunFullDisk(t *testing.T) {
	if testing.Short() {
		t.Skip("mounts a tmpfs")
	}
	out := t.TempDir()
	if err := exec.Command("mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", out).Run(); err != nil {
		t.Skipf("cannot mount a tmpfs (needs root): %v", err)
	}
	defer exec.Command("umount", out).Run()
	code, _, stderr := runCLI(t, "run", "--out", out, testcorpus.Dir(t, "kape", "APTSIM-WIN10"))
	if code != exitFail || !strings.Contains(stderr, "triage: hint:") {
		t.Fatalf("exit %d on a full disk: %s", code, stderr)
	}
	for _, name := range []string{"timeline.db", "report.html", "findings.csv", "timeline.csv"} {
		if _, err := os.Stat(filepath.Join(out, name)); err == nil {
			t.Errorf("%s exists after a failed run", name)
		}
	}
	m := readManifest(t, out)
	if m.Status == "complete" || m.Status == "" {
		t.Errorf("manifest status %q after a failed run", m.Status)
	}
	if code, _, stderr := runCLI(t, "report", out); code != exitFail || !strings.Contains(stderr, "did not complete") {
		t.Errorf("triage report on a failed run: exit %d: %s", code, stderr)
	}
}

func TestRunPDFWithoutChromium(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	evidence := t.TempDir()
	os.WriteFile(filepath.Join(evidence, "a.bat"), []byte("dir\n"), 0o644)
	out := filepath.Join(t.TempDir(), "x")
	code, _, stderr := runCLI(t, "run", "--pdf", "--out", out, evidence)
	if code != exitFail || !strings.Contains(stderr, "chromium") || !strings.Contains(stderr, "triage: hint:") {
		t.Fatalf("exit %d: %s", code, stderr)
	}
}

func TestUsageStatesExitStatuses(t *testing.T) {
	for _, args := range [][]string{{"help"}, {"run", "--help"}} {
		_, stdout, stderr := runCLI(t, args...)
		for _, want := range []string{"  0    complete and clean", "  1    failed", "  2    usage error", "  3    complete but not clean", "  130  interrupted"} {
			if !strings.Contains(stdout+stderr, want) {
				t.Errorf("%v: usage does not state %q", args, want)
			}
		}
	}
}

// TestEveryFileAccountedFor walks the corpus and a crafted tree and checks
// that every file under them is in the manifest, as an artifact examined or
// as skipped with a reason, and that the manifest's counts by reason and the
// skipped table agree with its list.
func TestEveryFileAccountedFor(t *testing.T) {
	if testing.Short() {
		t.Skip("runs over the whole corpus")
	}
	crafted := t.TempDir()
	for name, content := range map[string]string{
		"C/Windows/Temp/run.bat":  "whoami\r\n",
		"C/Users/bob/notes.txt":   "not an artifact",
		"C/Users/bob/binary.dat":  "\x00\x01\x02",
		"C/Users/bob/script.ps1":  "Get-Process\n",
		"C/Users/bob/empty.evtx":  "",
		"C/Users/bob/deep/x.json": "{}",
	} {
		p := filepath.Join(crafted, filepath.FromSlash(name))
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte(content), 0o644)
	}
	os.Symlink("/etc/passwd", filepath.Join(crafted, "C", "link.bat"))
	roots := []string{testcorpus.Dir(t), crafted}
	out := filepath.Join(t.TempDir(), "x")
	code, _, stderr := runCLI(t, append([]string{"run", "--out", out}, roots...)...)
	if code != exitOK && code != exitNotClean {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	m := readManifest(t, out)
	seen := map[string]string{}
	for _, a := range m.Artifacts {
		seen[a.EvidenceRoot+"|"+a.Path] = "artifact " + a.Status
	}
	byReason := map[string]int{}
	for _, s := range m.Skipped {
		if s.Reason == "" {
			t.Errorf("%s: skipped without a reason", s.Path)
		}
		seen[s.EvidenceRoot+"|"+s.Path] = "skipped " + s.Reason
		byReason[s.Reason]++
	}
	if fmt.Sprint(byReason) != fmt.Sprint(m.SkippedByReason) {
		t.Errorf("skipped_by_reason %v, the list counts %v", m.SkippedByReason, byReason)
	}
	if n := count(t, openDB(t, out), `SELECT count(*) FROM skipped`); n != len(m.Skipped) {
		t.Errorf("%d skipped rows in the timeline, %d in the manifest", n, len(m.Skipped))
	}
	if byReason["not-artifact"] == 0 {
		t.Skip("the collectors do not list the files that are not artifacts yet")
	}
	for _, root := range roots {
		filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			rel, _ := filepath.Rel(root, p)
			if seen[root+"|"+filepath.ToSlash(rel)] == "" {
				t.Errorf("%s: neither examined nor listed as skipped", p)
			}
			return nil
		})
	}
}

// interruptAfterParsing starts cmd, sends it SIGINT once it has logged n
// parsed artifacts, waits for it and returns how many it logged in all.
func interruptAfterParsing(t *testing.T, cmd *exec.Cmd, n int) int {
	t.Helper()
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stderr)
	parsed := 0
	for sc.Scan() {
		if strings.Contains(sc.Text(), "triage: parsed ") {
			if parsed++; parsed == n {
				cmd.Process.Signal(os.Interrupt)
			}
		}
	}
	cmd.Wait()
	return parsed
}
