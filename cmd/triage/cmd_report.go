package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"triage/internal/printable"
	"triage/report"
	"triage/timeline"
)

func init() {
	verbs["report"] = verb{"render the report again from a run's timeline: report [flags] DIR", runReport}
}

func runReport(args []string, stdout, stderr io.Writer) int {
	fs := newVerbFlags("report", "[flags] DIR",
		"re-renders report.html, the CSVs and scripts/ from DIR/timeline.db and refreshes their hashes in DIR/manifest.json;",
		"DIR is the --out folder of a triage run")
	tz := fs.String("tz", "", "IANA time `ZONE` for local times (default: the run's --tz)")
	reportTime := fs.String("report-time", "", "time to state as the report time, as `RFC3339`")
	pdf := fs.Bool("pdf", false, "also print report.pdf with headless chromium")
	rest, code, ok := fs.parse(args, stdout, stderr)
	if !ok {
		return code
	}
	switch {
	case len(rest) == 0:
		return fs.fail(stderr, &usageError{msg: "no DIR to report on"})
	case len(rest) > 1:
		return fs.fail(stderr, &usageError{msg: fmt.Sprintf("one DIR only, got %d arguments", len(rest))})
	}
	var loc *time.Location
	var when time.Time
	var err error
	if *tz != "" {
		if loc, err = parseZone("tz", *tz); err != nil {
			return fs.fail(stderr, err)
		}
	}
	if *reportTime != "" {
		if when, err = parseReportTime("report-time", *reportTime); err != nil {
			return fs.fail(stderr, err)
		}
	}
	dir := rest[0]
	if _, err := os.Stat(filepath.Join(dir, "timeline.db")); err != nil {
		reportUsageError(stderr, "triage: report: ", &usageError{msg: fmt.Sprintf("%s holds no timeline.db", dir),
			hints: []string{"DIR is the --out folder of a triage run"}})
		return exitUsage
	}
	return checkedOutput(stdout, func(stdout io.Writer) int {
		return renderReport(dir, loc, when, *pdf, stdout, stderr)
	}, stderr, "report")
}

func renderReport(dir string, loc *time.Location, when time.Time, pdf bool, stdout, stderr io.Writer) int {
	db, err := timeline.Open(filepath.Join(dir, "timeline.db"))
	if err != nil {
		fmt.Fprintf(stderr, "triage: report: %s\n", printable.Escape(err.Error()))
		return exitFail
	}
	defer db.Close()
	if loc == nil {
		var zone string
		db.QueryRow(`SELECT tz FROM runs ORDER BY id LIMIT 1`).Scan(&zone)
		if loc, err = time.LoadLocation(zone); err != nil {
			fmt.Fprintf(stderr, "triage: report: the run's time zone %q: %v\n", zone, err)
			return exitFail
		}
	}
	outputs, err := report.Render(db, report.Options{OutDir: dir, Location: loc, ReportTime: when, PDF: pdf})
	if err != nil {
		fmt.Fprintf(stderr, "triage: %s\n", printable.Escape(err.Error())) // the error names the report package already
		return exitFail
	}
	if err := refreshManifest(dir, outputs); err != nil {
		fmt.Fprintf(stderr, "triage: report: manifest: %s\n", printable.Escape(err.Error()))
		return exitFail
	}
	if err := report.ConsoleSummary(db, stdout); err != nil {
		fmt.Fprintf(stderr, "triage: report: summary: %v\n", err)
		return exitFail
	}
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
