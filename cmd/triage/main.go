// Command triage builds a forensic timeline of command and script
// interpreter activity from a KAPE collection or a disk image, runs the
// T1059 analyzers over it and renders a court-ready report.
package main

import (
	"fmt"
	"io"
	"os"
	"sort"
	_ "time/tzdata" // --tz works the same on a machine without a zoneinfo database

	"triage/internal/gctune"
)

// Exit statuses, each listed with its meaning in exitStatuses.
const (
	exitOK          = 0
	exitFail        = 1
	exitUsage       = 2
	exitNotClean    = 3   // completed, but something could not be examined or evidence changed
	exitInterrupted = 130 // 128 + SIGINT, as shells report it; outputs are marked incomplete
)

// exitStatuses is the table every usage text ends with. A new status gets
// its constant above and a row here, in numeric order.
var exitStatuses = []struct {
	code    int
	meaning string
}{
	{exitOK, "complete and clean (damaged artifacts are listed, not fatal)"},
	{exitFail, "failed: nothing could be read, an evidence path is missing, or an output could not be written"},
	{exitUsage, "usage error: a flag or argument is wrong, nothing was done"},
	{exitNotClean, "complete but not clean: files not examined, or evidence changed during the run"},
	{exitInterrupted, "interrupted (SIGINT or SIGTERM): outputs are marked incomplete"},
}

func printExitStatuses(w io.Writer) {
	fmt.Fprintln(w, "exit status:")
	for _, s := range exitStatuses {
		fmt.Fprintf(w, "  %-4d %s\n", s.code, s.meaning)
	}
}

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
	if len(args) == 0 {
		usage(stderr)
		return exitUsage
	}
	switch args[0] {
	case "-h", "-help", "--help":
		return writeUsage(stdout, stderr)
	case "help":
		if len(args) == 1 {
			return writeUsage(stdout, stderr)
		}
		args = []string{args[1], "--help"}
	}
	v, ok := verbs[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "triage: unknown command %q\n", args[0]) // %q escapes controls
		if near := nearestVerb(args[0]); near != "" {
			fmt.Fprintf(stderr, "triage: hint: did you mean 'triage %s'?\n", near)
		}
		fmt.Fprintln(stderr, "triage: hint: 'triage --help' lists the commands")
		return exitUsage
	}
	gctune.SetBudget()
	defer startProfile(stderr)()
	return v.run(args[1:], stdout, stderr)
}

func writeUsage(stdout, stderr io.Writer) int {
	ew := &errWriter{w: stdout}
	usage(ew)
	if ew.err != nil {
		fmt.Fprintf(stderr, "triage: write usage: %v\n", ew.err)
		return exitFail
	}
	return exitOK
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: triage <command> [flags] [args]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "commands:")
	for _, name := range verbNames() {
		fmt.Fprintf(w, "  %-9s %s\n", name, verbs[name].summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "'triage <command> --help' shows a command's flags; flags go before the arguments.")
	fmt.Fprintln(w)
	printExitStatuses(w)
}

func verbNames() []string {
	names := make([]string, 0, len(verbs))
	for name := range verbs {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

func nearestVerb(name string) string {
	for _, v := range verbNames() {
		if editDistance(name, v) <= 2 {
			return v
		}
	}
	return ""
}

// errWriter remembers the first error of the writes through it, so that
// output that is written in many small pieces is checked once at the end.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}

// checkedOutput wraps a verb's stdout so that its run can be checked for
// write errors once it returns: a summary or a dump that could not be
// written is a failure, not a success with nothing shown.
func checkedOutput(stdout io.Writer, run func(stdout io.Writer) int, stderr io.Writer, verb string) int {
	ew := &errWriter{w: stdout}
	code := run(ew)
	if ew.err != nil {
		fmt.Fprintf(stderr, "triage: %s: write standard output: %v\n", verb, ew.err)
		if code == exitOK {
			code = exitFail
		}
	}
	return code
}
