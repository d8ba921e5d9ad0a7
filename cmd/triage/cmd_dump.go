package main

import (
	"fmt"
	"io"
	"sort"
	"strings"
)

func init() {
	verbs["dump"] = verb{"decode one artifact format to JSON lines: dump evtx|prefetch FILE...", runDump}
}

// dumpers holds the formats 'triage dump' can decode; each registers itself
// from its own cmd_dump_<format>.go file.
var dumpers = map[string]func(args []string, stdout, stderr io.Writer) int{}

func runDump(args []string, stdout, stderr io.Writer) int {
	formats := make([]string, 0, len(dumpers))
	for f := range dumpers {
		formats = append(formats, f)
	}
	sort.Strings(formats)
	if len(args) == 0 {
		fmt.Fprintf(stderr, "usage: triage dump %s [flags] FILE...\n", strings.Join(formats, "|"))
		return exitUsage
	}
	dump, ok := dumpers[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "triage: dump: unknown format %q (want %s)\n", args[0], strings.Join(formats, ", "))
		return exitUsage
	}
	return dump(args[1:], stdout, stderr)
}
