package ingest

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
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

// TestReadOutputsAsManifest: the tool and outputs read without the rest
// of the manifest are those ReadManifest gives, whatever order the keys
// come in, and a file that is no manifest is an error.
func TestReadOutputsAsManifest(t *testing.T) {
	dir := t.TempDir()
	m := &Manifest{
		Tool:    Tool{Name: "triage", Version: "v"},
		Outputs: []Output{{Path: "report.html", SHA256: "ab", Size: 3}, {Path: "scripts/x.ps1", SHA256: "cd", Size: 4}},
		Runs:    []RunRecord{{}},
		Sigma:   json.RawMessage(`{"files": [{"path": "` + strings.Repeat("r", 1<<16) + `"}]}`),
	}
	path := filepath.Join(dir, ManifestName)
	if err := m.Write(path); err != nil {
		t.Fatal(err)
	}
	reordered := filepath.Join(dir, "reordered.json")
	os.WriteFile(reordered, []byte(`{"outputs": [{"path": "a/b"}], "runs": [], "tool": {"name": "triage"}, "sigma": {}}`), 0o644)
	for _, p := range []string{path, reordered} {
		full, err := ReadManifest(p)
		if err != nil {
			t.Fatal(err)
		}
		tool, outputs, err := readOutputs(p)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(tool, full.Tool) || !reflect.DeepEqual(outputs, full.Outputs) {
			t.Errorf("%s: readOutputs gives %+v %+v, ReadManifest %+v %+v", p, tool, outputs, full.Tool, full.Outputs)
		}
	}
	for _, text := range []string{``, `[]`, `{"tool": 1}`, `{"tool": {"name": "triage"}, "outputs": [`} {
		bad := filepath.Join(dir, "bad.json")
		os.WriteFile(bad, []byte(text), 0o644)
		if _, _, err := readOutputs(bad); err == nil {
			t.Errorf("readOutputs(%q) gives no error", text)
		}
	}
}
