package testcorpus

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestMissingSkips: a missing corpus folder skips the test that asks.
func TestMissingSkips(t *testing.T) {
	t.Setenv(RequireEnv, "")
	skipped := false
	t.Run("missing", func(t *testing.T) {
		defer func() { skipped = t.Skipped() }()
		Dir(t, "no-such-folder-in-the-corpus")
	})
	if !skipped {
		t.Error("a missing corpus folder did not skip the test")
	}
}

// TestMissingFailsWhenRequired runs TestHelperMissing in a child process
// with RequireEnv=1: it must fail, not skip.
func TestMissingFailsWhenRequired(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperMissing$", "-test.v")
	cmd.Env = append(os.Environ(), RequireEnv+"=1", "TESTCORPUS_HELPER=1")
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "--- FAIL: TestHelperMissing") || !strings.Contains(string(out), RequireEnv+"=1") {
		t.Errorf("with %s=1 a missing folder did not fail the test (%v):\n%s", RequireEnv, err, out)
	}
}

func TestHelperMissing(t *testing.T) {
	if os.Getenv("TESTCORPUS_HELPER") != "1" {
		t.Skip("run by TestMissingFailsWhenRequired")
	}
	Dir(t, "no-such-folder-in-the-corpus")
}
