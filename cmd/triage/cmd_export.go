package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"triage/export"
	"triage/timeline"
)

func init() {
	verbs["export"] = verb{"stream a case's timeline and findings to Timesketch, OpenSearch or JSON lines: export --format F DIR", runExport}
}

func runExport(args []string, stdout, stderr io.Writer) int {
	fs := newVerbFlags("export", "--format timesketch|ecs|jsonl [flags] DIR",
		"streams the events of DIR/timeline.db, then its findings, one JSON document a line, in time order;",
		"triage export --ecs-mapping opensearch|elasticsearch prints the index body for the ecs documents")
	format := fs.String("format", "", "timesketch, ecs or jsonl (required)")
	host := fs.String("host", "", "only this host's events and findings")
	since := fs.String("since", "", "only what happened at or after this time (RFC 3339, or a UTC date 2006-01-02)")
	until := fs.String("until", "", "only what happened before this time (RFC 3339, or a UTC date 2006-01-02)")
	output := fs.String("output", "", "write to this file instead of stdout")
	index := fs.String("bulk-index", "", "with --format ecs, an index action line naming this index before each document (for _bulk)")
	mapping := fs.String("ecs-mapping", "", "print the index body (settings, mappings) for the ecs documents on opensearch or elasticsearch, and exit")
	rest, code, ok := fs.parse(args, stdout, stderr)
	if !ok {
		return code
	}
	if *mapping != "" {
		body, err := export.ECSMapping(*mapping)
		if err != nil {
			fmt.Fprintf(stderr, "triage: --ecs-mapping: %v\n", err)
			return exitUsage
		}
		fmt.Fprintf(stdout, "%s\n", body)
		return exitOK
	}
	switch {
	case *format == "":
		return fs.fail(stderr, &usageError{msg: "--format is required", hints: []string{"--format timesketch, --format ecs or --format jsonl"}})
	case len(rest) != 1:
		return fs.fail(stderr, &usageError{msg: fmt.Sprintf("one DIR only, got %d arguments", len(rest))})
	}
	o := export.Options{Format: export.Format(*format), Host: *host, BulkIndex: *index}
	var err error
	if o.Since, err = parseWhen(*since); err != nil {
		fmt.Fprintf(stderr, "triage: export: --since: %v\n", err)
		return exitUsage
	}
	if o.Until, err = parseWhen(*until); err != nil {
		fmt.Fprintf(stderr, "triage: export: --until: %v\n", err)
		return exitUsage
	}
	db, err := timeline.OpenReadOnly(filepath.Join(rest[0], "timeline.db"))
	if err != nil {
		fmt.Fprintf(stderr, "triage: export: %v\n", err)
		caseHint(stderr, err)
		return exitFail
	}
	defer db.Close()
	w := stdout
	var f *os.File
	if *output != "" {
		// A new file only: an export never overwrites what is there.
		if f, err = os.OpenFile(*output, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644); err != nil {
			fmt.Fprintf(stderr, "triage: export: %v\n", err)
			return exitFail
		}
		w = f
	}
	st, err := export.Export(context.Background(), db, w, o)
	if f != nil {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "triage: %v\n", err)
		return exitFail
	}
	fmt.Fprintf(stderr, "triage: exported %d events and %d findings\n", st.Events, st.Findings)
	return exitOK
}

// parseWhen reads an RFC 3339 time or a date, taken as UTC midnight; ""
// is the zero time, no bound.
func parseWhen(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	return time.Parse("2006-01-02", s)
}
