package main

import (
	"database/sql"
	"path/filepath"
	"testing"

	"triage/ingest"
	"triage/timeline"
)

// TestRunFullTextWhenAsked: a run builds the full-text indexes only with
// --fulltext, and then over every event and script; an --add keeps a
// case's indexes up to date unasked, and gives a case without them its
// indexes with --fulltext, as report --fulltext does, hashing the timeline
// into the manifest again.
func TestRunFullTextWhenAsked(t *testing.T) {
	roots := demoCopies(t, 2)
	dir := t.TempDir()
	run := func(args ...string) {
		t.Helper()
		args = append([]string{"run", "--report-time", "2024-01-02T03:04:05Z"}, args...)
		if code, _, stderr := runCLI(t, args...); code != exitOK && code != exitNotClean {
			t.Fatalf("%v: exit %d: %s", args, code, stderr)
		}
	}
	open := func(out string) *sql.DB {
		t.Helper()
		db, err := timeline.Open(filepath.Join(out, "timeline.db"))
		if err != nil {
			t.Fatal(err)
		}
		return db
	}
	// indexed checks that the case's indexes hold every event and script
	// and find a command line's word.
	indexed := func(out string) {
		t.Helper()
		db := open(out)
		defer db.Close()
		for _, ix := range []struct{ fts, table string }{{"events_fts", "events"}, {"scripts_fts", "scripts"}} {
			if got, want := count(t, db, `SELECT count(*) FROM `+ix.fts+`_docsize`), count(t, db, `SELECT count(*) FROM `+ix.table); got != want || want == 0 {
				t.Errorf("%s: %s indexes %d rows of %d", out, ix.fts, got, want)
			}
			if _, err := db.Exec(`INSERT INTO ` + ix.fts + `(` + ix.fts + `) VALUES('integrity-check')`); err != nil {
				t.Errorf("%s: %s: %v", out, ix.fts, err)
			}
		}
		if n := count(t, db, `SELECT count(*) FROM events_fts WHERE events_fts MATCH 'powershell'`); n == 0 {
			t.Errorf("%s: a search for powershell found nothing", out)
		}
	}
	without := func(out string) {
		t.Helper()
		db := open(out)
		defer db.Close()
		var n int
		if err := db.QueryRow(`SELECT count(*) FROM events_fts WHERE events_fts MATCH 'powershell'`).Scan(&n); err == nil {
			t.Errorf("%s: a search of a case without full-text indexes gave %d rows instead of failing", out, n)
		}
	}

	plain, asked := filepath.Join(dir, "plain"), filepath.Join(dir, "asked")
	run("--out", plain, "--host", "first="+roots[0])
	without(plain)
	run("--fulltext", "--out", asked, "--host", "first="+roots[0])
	indexed(asked)

	run("--add", "--force-add", "--out", asked, "--host", "second="+roots[1])
	indexed(asked)
	run("--add", "--force-add", "--out", plain, "--host", "second="+roots[1])
	without(plain)
	run("--add", "--force-add", "--fulltext", "--out", plain, "--host", "third="+roots[1])
	indexed(plain)

	later := filepath.Join(dir, "later")
	run("--out", later, "--host", "first="+roots[0])
	if code, _, stderr := runCLI(t, "report", "--fulltext", later); code != exitOK && code != exitNotClean {
		t.Fatalf("report --fulltext: exit %d: %s", code, stderr)
	}
	indexed(later)
	sum, _, err := ingest.HashFile(filepath.Join(later, ingest.TimelineName))
	if err != nil {
		t.Fatal(err)
	}
	hashed := ""
	for _, o := range readManifest(t, later).Outputs {
		if o.Path == ingest.TimelineName {
			hashed = o.SHA256
		}
	}
	if hashed != sum {
		t.Errorf("the manifest gives timeline.db's SHA-256 as %q, the file's is %s", hashed, sum)
	}
}
