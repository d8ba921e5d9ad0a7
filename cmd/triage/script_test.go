package main

import (
	"errors"
	"os"
	"os/exec"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"triage/internal/testcorpus"
)

// TestMain lets the test binary run as the triage command inside the
// scripts: testscript installs it on the scripts' PATH under that name,
// and devfull, which runs a command with its standard output on /dev/full.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"triage":  func() { os.Exit(dispatch(os.Args[1:], os.Stdout, os.Stderr)) },
		"devfull": devfull,
	})
}

// devfull runs its arguments as a command whose standard output is
// /dev/full, where every write fails with ENOSPC, and exits as it did.
func devfull() {
	full, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
	if err != nil {
		os.Stderr.WriteString("devfull: " + err.Error() + "\n")
		os.Exit(3)
	}
	cmd := exec.Command(os.Args[1], os.Args[2:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, full, os.Stderr
	err = cmd.Run()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		os.Exit(exit.ExitCode())
	case err != nil:
		os.Stderr.WriteString("devfull: " + err.Error() + "\n")
		os.Exit(3)
	}
}

// TestScripts runs testdata/script/*.txtar: the command line end to end,
// as a user types it. $CORPUS is the shared corpus.
func TestScripts(t *testing.T) {
	corpus := testcorpus.Dir(t)
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(env *testscript.Env) error {
			env.Setenv("CORPUS", corpus)
			return nil
		},
		RequireExplicitExec: true,
	})
}
