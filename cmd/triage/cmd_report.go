package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"triage/report"
	"triage/timeline"
)

func init() {
	verbs["report"] = verb{"render the report again from a run's timeline: report [flags] DIR", runReport}
}

func runReport(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	fs.SetOutput(stderr)
	tz := fs.String("tz", "", "IANA time zone for local times (default: the run's)")
	reportTime := fs.String("report-time", "", "RFC 3339 time to state as the report time")
	pdf := fs.Bool("pdf", false, "also print report.pdf with headless chromium")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: triage report [flags] DIR")
		fmt.Fprintln(stderr, "re-renders report.html, the CSVs and scripts/ from DIR/timeline.db and refreshes their hashes in DIR/manifest.json")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return exitUsage
	}
	dir := fs.Arg(0)
	db, err := timeline.Open(filepath.Join(dir, "timeline.db"))
	if err != nil {
		fmt.Fprintf(stderr, "triage: report: %v\n", err)
		return exitFail
	}
	defer db.Close()
	zone := *tz
	if zone == "" {
		db.QueryRow(`SELECT tz FROM runs ORDER BY id LIMIT 1`).Scan(&zone)
	}
	loc, err := time.LoadLocation(zone)
	if err != nil {
		fmt.Fprintf(stderr, "triage: report: --tz %q: %v\n", zone, err)
		return exitUsage
	}
	var when time.Time
	if *reportTime != "" {
		if when, err = time.Parse(time.RFC3339, *reportTime); err != nil {
			fmt.Fprintf(stderr, "triage: report: --report-time: %v\n", err)
			return exitUsage
		}
	}
	outputs, err := report.Render(db, report.Options{OutDir: dir, Location: loc, ReportTime: when, PDF: *pdf})
	if err != nil {
		fmt.Fprintf(stderr, "triage: %v\n", err) // the error names the report package already
		return exitFail
	}
	if err := refreshManifest(dir, outputs); err != nil {
		fmt.Fprintf(stderr, "triage: report: manifest: %v\n", err)
		return exitFail
	}
	report.ConsoleSummary(db, stdout)
	return exitOK
}

// refreshManifest rewrites only the manifest's outputs, keeping the record
// of the run itself as it was.
func refreshManifest(dir string, outputs []string) error {
	path := filepath.Join(dir, "manifest.json")
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return err
	}
	var m manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	m.Outputs = hashOutputs(dir, append([]string{"timeline.db"}, outputs...), &runLog{w: io.Discard, now: time.Now})
	return m.write(path)
}
