package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"triage/ingest"
	"triage/internal/demo"
)

// demoCopies writes the demo evidence under n folders named host01…: n
// copies of one host, whose logs all name the same computer.
func demoCopies(t *testing.T, n int) []string {
	t.Helper()
	dir := t.TempDir()
	var roots []string
	for i := 1; i <= n; i++ {
		root := filepath.Join(dir, "evidence", "host0"+string(rune('0'+i)))
		if err := demo.Write(root); err != nil {
			t.Fatal(err)
		}
		roots = append(roots, root)
	}
	return roots
}

// TestRunCopiesOfOneHostStayApart: three copies of one collection, whose
// logs name one computer, become three hosts named by their folders, and
// the manifest, the hosts table and the report say why.
func TestRunCopiesOfOneHostStayApart(t *testing.T) {
	roots := demoCopies(t, 3)
	out := filepath.Join(t.TempDir(), "case")
	args := append([]string{"run", "--report-time", "2024-01-02T03:04:05Z", "--out", out}, roots...)
	if code, _, stderr := runCLI(t, args...); code != exitOK && code != exitNotClean {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	m := readManifest(t, out)
	if len(m.Hosts) != 3 {
		t.Fatalf("manifest hosts %+v", m.Hosts)
	}
	for i, h := range m.Hosts {
		want := filepath.Base(roots[i])
		if h.Name != want || h.Source != ingest.NamedByFolder || h.Computer == "" ||
			!strings.Contains(h.Detail, "is named by 3 evidence roots") {
			t.Errorf("host %d: %+v, want %s named by its folder", i, h, want)
		}
	}
	db := openDB(t, out)
	if n := count(t, db, `SELECT count(DISTINCT host) FROM events`); n != 3 {
		t.Errorf("events of %d hosts, want 3", n)
	}
	if n := count(t, db, `SELECT count(*) FROM hosts WHERE name_source = 'folder'`); n != 3 {
		t.Errorf("%d hosts rows named by folder, want 3", n)
	}
	per := count(t, db, `SELECT count(*) FROM events WHERE host = 'host01'`)
	if per == 0 || count(t, db, `SELECT count(*) FROM events`) != 3*per {
		t.Errorf("the copies' events are not split evenly: %d of host01", per)
	}
	html, _ := os.ReadFile(filepath.Join(out, "report.html"))
	if !strings.Contains(string(html), "folder: Computer ") {
		t.Error("report.html does not say where the host names came from")
	}
}

// TestRunHostFlagNamesRoots: --host NAME=PATH names one root and makes it
// evidence; --host NAME names the others, which then share the name as the
// examiner asked.
func TestRunHostFlagNamesRoots(t *testing.T) {
	roots := demoCopies(t, 3)
	out := filepath.Join(t.TempDir(), "case")
	code, _, stderr := runCLI(t, "run", "--out", out, "--host", "web="+roots[0], "--host", "rest", roots[1], roots[2])
	if code != exitOK && code != exitNotClean {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	m := readManifest(t, out)
	got := map[string]string{}
	for _, h := range m.Hosts {
		if h.Source != ingest.NamedByFlag {
			t.Errorf("host %+v not named by --host", h)
		}
		got[h.EvidenceRoot] = h.Name
	}
	if got[roots[0]] != "web" || got[roots[1]] != "rest" || got[roots[2]] != "rest" {
		t.Errorf("hosts %v", got)
	}
	if len(m.Evidence) != 3 || m.Evidence[2] != roots[0] {
		t.Errorf("evidence %v: the --host PATH is not appended", m.Evidence)
	}
	db := openDB(t, out)
	if n := count(t, db, `SELECT count(DISTINCT host) FROM events`); n != 2 {
		t.Errorf("events of %d hosts, want 2", n)
	}
}
