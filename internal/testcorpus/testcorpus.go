// Package testcorpus locates the shared test corpus, ../shared/corpus beside
// the repository root, for the tests of every stage. Tests read it in place;
// when it is missing they fail, they do not skip.
package testcorpus

import (
	"os"
	"path/filepath"
	"testing"
)

// Dir returns the corpus folder joined with elem, failing the test when the
// repository root or that folder cannot be found.
func Dir(t testing.TB, elem ...string) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		if filepath.Dir(dir) == dir {
			t.Fatal("go.mod not found above the test directory")
		}
		dir = filepath.Dir(dir)
	}
	path := filepath.Join(append([]string{dir, "..", "shared", "corpus"}, elem...)...)
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("test corpus missing: %v (the tests read ../shared/corpus beside the repository)", err)
	}
	return path
}
