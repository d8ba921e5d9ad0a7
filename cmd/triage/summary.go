package main

import (
	"fmt"
	"io"
	"sort"

	"github.com/olekukonko/tablewriter"

	"triage/ingest"
	"triage/internal/printable"
	"triage/report"
)

// kindSummary is one line of the run summary: a host's artifacts of one kind.
type kindSummary struct {
	host, kind                                    string
	artifacts, records, recovered, errors, failed int
	first, last                                   string
}

// printSummary prints the artifacts per host and kind, fitted to the
// console's width (report.ConsoleWidth): the full table where it fits, else
// one table per host under its name, with the first and last event times
// stacked in one cell, and at last without the recovered and failed counts.
func printSummary(w io.Writer, res *ingest.Result, spans map[[2]string][2]string) {
	printSummaryWidth(w, res.Hosts, spans, report.ConsoleWidth(w))
	printNotExamined(w, res)
}

func printSummaryWidth(w io.Writer, all []*ingest.Host, spans map[[2]string][2]string, cols int) {
	lines := summarize(all, spans)
	full := func(w io.Writer) error {
		t := tablewriter.NewWriter(w)
		t.Header("Host", "Kind", "Artifacts", "Records", "Recovered", "Errors", "Failed", "First event UTC", "Last event UTC")
		for _, s := range lines {
			t.Append(s.host, s.kind, s.artifacts, s.records, s.recovered, s.errors, s.failed, s.first, s.last)
		}
		return t.Render()
	}
	perHost := func(narrowest bool) func(io.Writer) error {
		return func(w io.Writer) error {
			for i := 0; i < len(lines); {
				host := lines[i].host
				fmt.Fprintf(w, "Host %s\n", host)
				t := tablewriter.NewWriter(w)
				if narrowest {
					t.Header("Kind", "Files", "Records", "Errors", "First/last UTC")
				} else {
					t.Header("Kind", "Files", "Records", "Recov", "Errors", "Failed", "First/last UTC")
				}
				for ; i < len(lines) && lines[i].host == host; i++ {
					s := lines[i]
					span := s.first + "\n" + s.last
					if narrowest {
						t.Append(s.kind, s.artifacts, s.records, s.errors, span)
					} else {
						t.Append(s.kind, s.artifacts, s.records, s.recovered, s.errors, s.failed, span)
					}
				}
				if err := t.Render(); err != nil {
					return err
				}
			}
			return nil
		}
	}
	report.FitTable(w, cols, full, perHost(false), perHost(true))
}

// summarize totals each host's artifacts by kind, kinds sorted; names from
// the evidence are made safe to print.
func summarize(all []*ingest.Host, spans map[[2]string][2]string) []kindSummary {
	var out []kindSummary
	for _, h := range all {
		byKind := map[string]*kindSummary{}
		for _, a := range h.Artifacts {
			g := byKind[a.Kind]
			if g == nil {
				span := spans[[2]string{h.Name, a.Kind}]
				g = &kindSummary{host: printable.Escape(h.Name), kind: printable.Escape(a.Kind), first: span[0], last: span[1]}
				byKind[a.Kind] = g
			}
			g.artifacts++
			g.records += a.Records
			g.recovered += a.Recovered
			g.errors += len(a.Errors)
			if a.Status == "failed" {
				g.failed++
			}
		}
		kinds := make([]string, 0, len(byKind))
		for k := range byKind {
			kinds = append(kinds, k)
		}
		sort.Strings(kinds)
		for _, k := range kinds {
			out = append(out, *byKind[k])
		}
	}
	return out
}

// printNotExamined counts the files not examined by host and reason.
func printNotExamined(w io.Writer, res *ingest.Result) {
	type key struct{ host, reason string }
	n := map[key]int{}
	var keys []key
	for _, s := range res.Skipped() {
		k := key{s.Host, s.Reason}
		if n[k] == 0 {
			keys = append(keys, k)
		}
		n[k]++
	}
	if len(keys) == 0 {
		return
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].host != keys[j].host {
			return keys[i].host < keys[j].host
		}
		return keys[i].reason < keys[j].reason
	})
	t := tablewriter.NewWriter(w)
	t.Header("Host", "Not examined: reason", "Files")
	for _, k := range keys {
		t.Append(printable.Escape(k.host), k.reason, n[k])
	}
	t.Render()
}
