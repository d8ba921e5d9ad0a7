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
	fs := newVerbFlags("dump", strings.Join(formats, "|")+" [flags] FILE...",
		"decodes each FILE of one artifact format and prints one JSON object per record;",
		"'triage dump <format> --help' shows the format's flags")
	if len(args) == 0 {
		fs.usage(stderr)
		return exitUsage
	}
	if dump, ok := dumpers[args[0]]; ok {
		return dump(args[1:], stdout, stderr)
	}
	if _, code, ok := fs.parse(args[:1], stdout, stderr); !ok {
		return code // --help, or a flag dump does not have
	}
	fmt.Fprintf(stderr, "triage: dump: unknown format %q (want %s)\n", args[0], strings.Join(formats, ", "))
	for _, f := range formats {
		if strings.EqualFold(f, args[0]) || editDistance(strings.ToLower(args[0]), f) <= 2 {
			fmt.Fprintf(stderr, "triage: hint: did you mean 'triage dump %s'?\n", f)
		}
	}
	return exitUsage
}
