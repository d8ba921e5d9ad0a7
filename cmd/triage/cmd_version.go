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
	fmt.Fprintf(stdout, "triage %s (commit %s, %s)\n", version, toolCommit(), runtime.Version())
	return exitOK
}
