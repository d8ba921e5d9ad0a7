package ingest

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// Write copies the Sigma record as MarshalSigma indented it; the file
// must be what MarshalIndent makes of the whole manifest.
func TestManifestWriteSplicesSigma(t *testing.T) {
	record := map[string]any{"rules": []map[string]string{{"id": "a", "title": "<x> & y"}, {"id": "b"}}, "loaded": 2}
	m := &Manifest{Tool: Tool{Name: "triage"}, NotClean: []string{}, Outputs: []Output{{Path: "report.html", SHA256: "ab"}}}
	var err error
	if m.Sigma, err = MarshalSigma(record); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "manifest.json")
	if err := m.Write(path); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	whole := *m
	whole.Sigma, _ = json.Marshal(record)
	want, _ := json.MarshalIndent(&whole, "", "  ")
	if !bytes.Equal(got, append(want, '\n')) {
		t.Errorf("manifest:\n%s\nwant:\n%s", got, want)
	}
	back, err := ReadManifest(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := back.Write(path); err != nil {
		t.Fatal(err)
	}
	if again, _ := os.ReadFile(path); !bytes.Equal(again, got) {
		t.Errorf("read and written again:\n%s\nwant:\n%s", again, got)
	}
}
