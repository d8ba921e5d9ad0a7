package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

func init() {
	verbs["version"] = verb{"print the tool version, commit and Go version", runVersion}
}

// version is set at build time with -ldflags "-X main.version=…".
var version = "0.1.0-dev"

// commit is set at build time with -ldflags "-X main.commit=…"; when it is not,
// the commit recorded by the Go toolchain is used.
var commit = ""

func toolCommit() string {
	if commit != "" {
		return commit
	}
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" {
				return s.Value
			}
		}
	}
	return "unknown"
}

func runVersion(args []string, stdout, stderr io.Writer) int {
	fs := newVerbFlags("version", "", "prints the version, the commit it was built from and the Go version")
	rest, code, ok := fs.parse(args, stdout, stderr)
	if !ok {
		return code
	}
	if len(rest) > 0 {
		return fs.fail(stderr, &usageError{msg: "version takes no arguments"})
	}
	if _, err := fmt.Fprintf(stdout, "triage %s (commit %s, %s)\n", version, toolCommit(), runtime.Version()); err != nil {
		fmt.Fprintf(stderr, "triage: version: write standard output: %v\n", err)
		return exitFail
	}
	return exitOK
}
