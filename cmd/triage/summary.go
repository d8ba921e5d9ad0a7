package main

import (
	"io"
	"sort"

	"github.com/olekukonko/tablewriter"
)

func printSummary(w io.Writer, all []hostRun, spans map[[2]string][2]string) {
	t := tablewriter.NewWriter(w)
	t.Header("Host", "Kind", "Artifacts", "Records", "Recovered", "Errors", "Failed", "First event UTC", "Last event UTC")
	type agg struct{ artifacts, records, recovered, errors, failed int }
	for _, hr := range all {
		byKind := map[string]*agg{}
		for _, a := range hr.rows {
			g := byKind[a.Kind]
			if g == nil {
				g = &agg{}
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
			g := byKind[k]
			span := spans[[2]string{hr.host, k}]
			t.Append(hr.host, k, g.artifacts, g.records, g.recovered, g.errors, g.failed, span[0], span[1])
		}
	}
	t.Render()
}
