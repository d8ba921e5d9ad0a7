// Command triage builds a forensic timeline of command and script
// interpreter activity from a KAPE collection or a disk image, runs the
// T1059 analyzers over it and renders a court-ready report.
package main

import (
	"fmt"
	"io"
	"os"
	"sort"
)

// Exit codes, documented in usage.
const (
	exitOK    = 0
	exitFail  = 1
	exitUsage = 2
)

// A verb is one subcommand; each lives in its own cmd_<verb>.go file.
type verb struct {
	summary string
	run     func(args []string, stdout, stderr io.Writer) int
}

// verbs is filled in by the cmd_*.go files' init functions, one line each,
// so that main stays the same as verbs are added.
var verbs = map[string]verb{}

func main() {
	os.Exit(dispatch(os.Args[1:], os.Stdout, os.Stderr))
}

func dispatch(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	v, ok := verbs[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "triage: unknown command %q\n", args[0])
		fmt.Fprintln(stderr, "triage: hint: run 'triage help' for the list of commands")
		return exitUsage
	}
	return v.run(args[1:], stdout, stderr)
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: triage <command> [flags] [args]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "commands:")
	names := make([]string, 0, len(verbs))
	for name := range verbs {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		fmt.Fprintf(w, "  %-9s %s\n", name, verbs[name].summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, exitStatusHelp)
}
