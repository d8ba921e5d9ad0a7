package image

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"triage/internal/testimages"
)

func TestDetectRejectsOrdinaryFiles(t *testing.T) {
	dir := t.TempDir()
	plain := filepath.Join(dir, "notes.txt")
	sector := make([]byte, 128*1024)
	sector[510], sector[511] = 0x55, 0xAA // boot signature with an empty table
	boot := filepath.Join(dir, "boot.bin")
	for name, data := range map[string][]byte{plain: []byte("hello"), boot: sector} {
		if err := os.WriteFile(name, data, 0o644); err != nil {
			t.Fatal(err)
		}
		if Detect(name) {
			t.Errorf("Detect(%s) = true", filepath.Base(name))
		}
		if _, err := Open(name); err == nil {
			t.Errorf("Open(%s) succeeded", filepath.Base(name))
		}
	}
}

// TestE01MissingSegment drops the last segment: the image still opens, the
// loss is reported, and verification cannot pass.
func TestE01MissingSegment(t *testing.T) {
	paths, _ := testimages.Build(t)
	segments, _ := filepath.Glob(strings.TrimSuffix(paths["e01 multi-segment"], "01") + "??")
	if len(segments) < 3 {
		t.Fatalf("only %d segments", len(segments))
	}
	dir := t.TempDir()
	for _, s := range segments[:len(segments)-1] {
		data, err := os.ReadFile(s)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(s)), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	im, err := Open(filepath.Join(dir, filepath.Base(segments[0])))
	if err != nil {
		t.Logf("open refused: %v", err)
		return
	}
	defer im.Close()
	if len(im.Problems) == 0 || !strings.Contains(im.Problems[0], "segment") {
		t.Errorf("problems %v, want the missing chunks reported by segment", im.Problems)
	}
	// The hashes live in the last segment, so nothing can be verified.
	if im.Verification.OK() {
		t.Errorf("verification %+v passed without the last segment", im.Verification)
	}
	t.Log(im.Problems)
}
