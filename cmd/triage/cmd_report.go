package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"triage/ingest"
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
		fmt.Fprintln(stderr, "exit status: 0 the run is complete and clean; 1 the run is incomplete (the report says so at its top) or the report failed; 2 usage error; 3 the run is complete but not clean")
	}
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return exitUsage
	}
	dir := fs.Arg(0)
	if _, err := os.Stat(filepath.Join(dir, ingest.TimelineName)); os.IsNotExist(err) {
		if _, perr := os.Stat(filepath.Join(dir, ingest.PartialTimelineName)); perr == nil {
			status := timeline.RunInProgress
			if m, err := ingest.ReadManifest(filepath.Join(dir, ingest.ManifestName)); err == nil {
				status = m.Status
			}
			fmt.Fprintf(stderr, "triage: report: the run in %s did not complete (manifest status %s): it left only %s, which may be damaged\n",
				dir, status, ingest.PartialTimelineName)
			fmt.Fprintln(stderr, "triage: hint: run triage run again on the evidence, with --force to replace this run")
			return exitFail
		}
	}
	db, err := timeline.Open(filepath.Join(dir, ingest.TimelineName))
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
	if *pdf {
		if err := report.CheckPDF(); err != nil {
			fmt.Fprintf(stderr, "triage: report: %v\n", err)
			fmt.Fprintln(stderr, "triage: hint: install chromium (apt-get install chromium) or run without --pdf")
			return exitFail
		}
	}
	status, detail, err := timeline.RunState(db)
	if err != nil {
		fmt.Fprintf(stderr, "triage: report: %v\n", err)
		return exitFail
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
	if status != timeline.RunComplete {
		fmt.Fprintf(stderr, "triage: report: INCOMPLETE RUN: the run in %s is %s (%s); the report says so at its top\n", dir, status, detail)
		return exitFail
	}
	var notClean string
	db.QueryRow(`SELECT not_clean FROM runs ORDER BY id LIMIT 1`).Scan(&notClean)
	if notClean != "" && notClean != "[]" {
		fmt.Fprintf(stderr, "triage: report: the run in %s is complete but not clean: %s\n", dir, notClean)
		return exitNotClean
	}
	return exitOK
}

// refreshManifest rewrites only the manifest's outputs, keeping the record
// of the run itself as it was.
func refreshManifest(dir string, outputs []string) error {
	path := filepath.Join(dir, ingest.ManifestName)
	m, err := ingest.ReadManifest(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if m.Outputs, err = ingest.HashOutputs(dir, append([]string{ingest.TimelineName}, outputs...)); err != nil {
		return err
	}
	return m.Write(path)
}
