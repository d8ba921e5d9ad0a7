package main

import (
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"triage/ingest"
	"triage/internal/testimages"
)

// volumePrefix is what an image adds in front of an artifact's path: the
// volume name ("p1/C/Windows/…" for the folder's "C/Windows/…").
var volumePrefix = regexp.MustCompile(`^p[0-9]+/`)

// runTables are the rows of a run compared between the folder and an image,
// in id order. Columns named in pathColumns lose the volume prefix; the
// artifacts' evidence_root, which is the path given on the command line, is
// left out. Ids are kept: they are deterministic and must agree too.
var runTables = []struct {
	name, query string
	pathColumns []int
}{
	{"artifacts", `SELECT id, host, path, kind, size, mtime_ts, sha256, md5, status, records, recovered, errors,
		error_list, flags, first_record, last_record, missing_records FROM artifacts ORDER BY id`, []int{2}},
	{"events", `SELECT e.id, e.ts, e.ts_ns, e.host, a.path, e.record_id, e.source, e.event_id, e.channel, e.provider,
		e.computer, e.user, e.level, e.process, e.parent_process, e.command_line, e.script_block_id, e.recovered,
		e.summary, e.data FROM events e JOIN artifacts a ON a.id = e.artifact_id ORDER BY e.id`, []int{4}},
	{"scripts", `SELECT id, host, script_block_id, first_ts, last_ts, parts_expected, parts_found, missing_parts,
		sha256, text, path, event_ids FROM scripts ORDER BY id`, nil},
	{"incidents", `SELECT id, host, first_ts, last_ts, severity, title, links FROM incidents ORDER BY id`, nil},
	{"findings", `SELECT id, analyzer, host, ts, ts_ns, technique_id, technique_name, tactic, related, severity,
		confidence, title, rule, matched, decoded, score, features, incident_id FROM findings ORDER BY id`, nil},
	{"finding_evidence", `SELECT finding_id, event_id, artifact_path, record_id, artifact_sha256
		FROM finding_evidence ORDER BY finding_id, event_id`, []int{2}},
}

// tableRows returns each row of query as its columns joined by " | ", NULL
// shown as "NULL", with the volume prefix removed from the path columns.
func tableRows(t *testing.T, db *sql.DB, query string, pathColumns []int) []string {
	t.Helper()
	rows, err := db.Query(query)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out []string
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		fields := make([]string, len(cols))
		for i, v := range vals {
			fields[i] = "NULL"
			if v.Valid {
				fields[i] = v.String
			}
		}
		for _, i := range pathColumns {
			fields[i] = volumePrefix.ReplaceAllString(fields[i], "")
		}
		out = append(out, strings.Join(fields, " | "))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// runSnapshot runs triage on evidence and returns the compared tables and
// the output folder.
func runSnapshot(t *testing.T, evidence string) (map[string][]string, string) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "x")
	if code, _, stderr := runCLI(t, "run", "--out", out, evidence); code != exitOK {
		t.Fatalf("triage run %s: exit %d: %s", evidence, code, stderr)
	}
	db := openDB(t, out)
	snap := map[string][]string{}
	for _, tb := range runTables {
		snap[tb.name] = tableRows(t, db, tb.query, tb.pathColumns)
	}
	return snap, out
}

// checkImageManifest: a run on an image re-hashes every artifact without an
// integrity error (the image must still be open then), and the manifest
// describes the image with the hashes of its files and, for E01, the
// verified stored hashes.
func checkImageManifest(t *testing.T, out, evidence string, wantVerified bool) {
	t.Helper()
	var m ingest.Manifest
	b, err := os.ReadFile(filepath.Join(out, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, a := range m.Artifacts {
		if a.IntegrityError != "" {
			t.Fatalf("%s: %s", a.Path, a.IntegrityError)
		}
	}
	if len(m.Images) != 1 {
		t.Fatalf("%d images in the manifest, want 1", len(m.Images))
	}
	im := m.Images[0]
	if len(im.Files) == 0 || im.Files[0].Path != strings.Split(evidence, "!")[0] {
		t.Errorf("image files %+v, want the evidence file first", im.Files)
	}
	for _, f := range im.Files {
		data, err := os.ReadFile(f.Path)
		if err != nil {
			t.Fatal(err)
		}
		if sum := sha256.Sum256(data); f.SHA256 != hex.EncodeToString(sum[:]) || f.Size != int64(len(data)) {
			t.Errorf("%s: manifest says %d bytes, sha256 %s", f.Path, f.Size, f.SHA256)
		}
	}
	if got := im.Verified != nil && *im.Verified; got != wantVerified {
		t.Errorf("stored hashes verified = %v, want %v (%+v)", got, wantVerified, im)
	}
}

// TestImageRunsMatchFolder runs the whole pipeline on the KAPE folder and on
// disk images of the same tree, and requires the same artifacts, events,
// scripts, incidents, findings and finding evidence, apart from the volume
// name in front of paths.
func TestImageRunsMatchFolder(t *testing.T) {
	paths, src := testimages.Build(t)
	want, _ := runSnapshot(t, src)
	if n := len(want["events"]); n < 32000 {
		t.Fatalf("only %d events from the folder", n)
	}
	if len(want["findings"]) == 0 || len(want["finding_evidence"]) == 0 {
		t.Fatal("no findings from the folder")
	}
	for _, tb := range runTables {
		t.Logf("folder: %d %s", len(want[tb.name]), tb.name)
	}
	for _, kind := range []string{"raw gpt", "e01 multi-segment", "vhd dynamic", "vhdx dynamic", "zip stored raw"} {
		t.Run(strings.ReplaceAll(kind, " ", "_"), func(t *testing.T) {
			got, out := runSnapshot(t, paths[kind])
			for _, tb := range runTables {
				compareRows(t, tb.name, want[tb.name], got[tb.name])
			}
			checkImageManifest(t, out, paths[kind], strings.HasPrefix(kind, "e01"))
		})
	}
}

// compareRows reports a count mismatch and the first few differing rows.
func compareRows(t *testing.T, table string, want, got []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d rows from the image, %d from the folder", table, len(got), len(want))
	}
	shown := 0
	for i := 0; i < min(len(want), len(got)) && shown < 5; i++ {
		if got[i] != want[i] {
			t.Errorf("%s row %d:\nimage:  %s\nfolder: %s", table, i, clip(got[i]), clip(want[i]))
			shown++
		}
	}
}

func clip(s string) string {
	if len(s) > 600 {
		return s[:600] + fmt.Sprintf("… (%d bytes)", len(s))
	}
	return s
}
