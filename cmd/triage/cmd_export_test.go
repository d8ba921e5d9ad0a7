package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"triage/timeline"
)

// exportCase writes a case folder holding a timeline of n events.
func exportCase(t *testing.T, n int) string {
	t.Helper()
	dir := t.TempDir()
	db, err := timeline.Create(filepath.Join(dir, "timeline.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	w, _ := timeline.NewWriter(db)
	a := &timeline.Artifact{Host: "h", EvidenceRoot: "r", Path: "Security.evtx", Kind: "evtx", SHA256: "ab", MD5: "cd", Status: "ok"}
	w.AddArtifact(a)
	for i := 0; i < n; i++ {
		e := timeline.Event{TS: time.Date(2024, 1, 1, 0, 0, i, 0, time.UTC), Host: "h", ArtifactID: a.ID,
			RecordID: int64(i), Source: "evtx", EventID: 4688, Summary: "s"}
		if err := w.AddEvent(&e); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestExportVerb(t *testing.T) {
	dir := exportCase(t, 3)
	out := filepath.Join(t.TempDir(), "case.ndjson")
	var stdout, stderr bytes.Buffer
	args := []string{"export", "--format", "ecs", "--bulk-index", "case-1", "--since", "2024-01-01T00:00:01Z", "--output", out, dir}
	if code := dispatch(args, &stdout, &stderr); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if lines := strings.Count(string(b), "\n"); lines != 4 {
		t.Errorf("%d lines, want 2 action lines and 2 documents", lines)
	}
	if !strings.Contains(stderr.String(), "exported 2 events and 0 findings") {
		t.Errorf("stderr: %s", stderr.String())
	}
	// An export never overwrites a file.
	if code := dispatch(args, &stdout, &stderr); code != exitFail {
		t.Errorf("export over an existing file: exit %d", code)
	}
}

func TestExportVerbUsage(t *testing.T) {
	dir := exportCase(t, 1)
	for _, tc := range []struct {
		args []string
		code int
	}{
		{[]string{"export", dir}, exitUsage},
		{[]string{"export", "--format", "csv", dir}, exitFail},
		{[]string{"export", "--format", "jsonl", "--since", "yesterday", dir}, exitUsage},
		{[]string{"export", "--format", "jsonl", t.TempDir()}, exitFail},
		{[]string{"export", "--ecs-mapping", "splunk"}, exitUsage},
	} {
		var stdout, stderr bytes.Buffer
		if code := dispatch(tc.args, &stdout, &stderr); code != tc.code {
			t.Errorf("%v: exit %d, want %d: %s", tc.args, code, tc.code, stderr.String())
		}
	}
	var stdout, stderr bytes.Buffer
	if code := dispatch([]string{"export", "--ecs-mapping", "opensearch"}, &stdout, &stderr); code != exitOK || !json.Valid(stdout.Bytes()) {
		t.Errorf("--ecs-mapping: exit %d, %s", code, stdout.String())
	}
}
