// Package testcorpus locates the shared test corpus, ../shared/corpus beside
// the repository root, for the tests of every stage. Tests read it in place.
//
// A fresh clone has no corpus beside it: the tests that need it then skip
// with a one-line reason, and the rest (the writers' differential tests, the
// demo evidence run through every stage) still test the pipeline end to end.
// CI sets TRIAGE_REQUIRE_CORPUS=1, which turns those skips into failures, so
// that the corpus tests always run there.
package testcorpus

import (
	"os"
	"path/filepath"
	"testing"
)

// RequireEnv names the variable that makes a missing corpus a failure.
const RequireEnv = "TRIAGE_REQUIRE_CORPUS"

// Dir returns the corpus folder joined with elem. When the folder is
// missing it skips the test, or fails it if RequireEnv is set to 1.
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
		if os.Getenv(RequireEnv) == "1" {
			t.Fatalf("test corpus missing (%s=1): %v (the tests read ../shared/corpus beside the repository)", RequireEnv, err)
		}
		t.Skipf("test corpus not found at %s: skipped (set %s=1 to fail instead)", path, RequireEnv)
	}
	return path
}
