package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"triage/analyzers"
	"triage/ingest"
	"triage/report"
	"triage/timeline"
)

func init() {
	verbs["hunt"] = verb{"run Sigma rules on a run's timeline, refreshing findings and report: hunt --sigma PATH... DIR", runHunt}
}

func runHunt(args []string, stdout, stderr io.Writer) int {
	fs := newVerbFlags("hunt", "--sigma PATH... [flags] DIR",
		"runs every analyzer again with the Sigma rules over DIR/timeline.db, without parsing the evidence again,",
		"and re-renders the report; the manifest records the rule set")
	var s sigmaFlags
	s.register(fs.FlagSet)
	reportTime := fs.String("report-time", "", "time to state as the report time, as `RFC3339`, for byte-identical reruns")
	pdf := fs.Bool("pdf", false, "also print report.pdf with headless chromium")
	rest, code, ok := fs.parse(args, stdout, stderr)
	if !ok {
		return code
	}
	switch {
	case len(s.paths) == 0:
		return fs.fail(stderr, &usageError{msg: "no --sigma rules to run", hints: []string{"--sigma FILE or --sigma FOLDER, repeatable"}})
	case len(rest) != 1:
		return fs.fail(stderr, &usageError{msg: fmt.Sprintf("one DIR only, got %d arguments", len(rest))})
	}
	var when time.Time
	if *reportTime != "" {
		var err error
		if when, err = parseReportTime("report-time", *reportTime); err != nil {
			return fs.fail(stderr, err)
		}
	}
	err := s.load()
	defer s.release()
	if err != nil {
		return fs.fail(stderr, err)
	}
	dir := rest[0]
	db, err := timeline.Open(filepath.Join(dir, ingest.TimelineName))
	if err != nil {
		fmt.Fprintf(stderr, "triage: hunt: %v\n", err)
		caseHint(stderr, err)
		return exitFail
	}
	defer db.Close()
	opts, err := runAnalyzerOptions(db)
	if err != nil {
		fmt.Fprintf(stderr, "triage: hunt: %v\n", err)
		return exitFail
	}
	opts.Sigma = s.ruleSet()
	sum, err := analyzers.Run(context.Background(), db, opts)
	if err != nil {
		fmt.Fprintf(stderr, "triage: hunt: %v\n", err)
		return exitFail
	}
	ms := s.manifest()
	fmt.Fprintln(stderr, "triage: "+ms.summary())
	outputs, err := report.Render(db, report.Options{OutDir: dir, Location: opts.Location, ReportTime: when, PDF: *pdf,
		// A hunt changes no event: a timeline.csv the case has stays as it is.
		TimelineCSVWritten: hasTimelineCSV(dir)})
	if err != nil {
		fmt.Fprintf(stderr, "triage: %v\n", err)
		return exitFail
	}
	ms.CommandLine = append([]string{"triage", "hunt"}, args...)
	record := func(m *ingest.Manifest) error {
		m.Sigma = ms.indentedJSON()
		return nil
	}
	if err := refreshManifest(dir, outputs, record); err != nil {
		fmt.Fprintf(stderr, "triage: hunt: manifest: %v\n", err)
		return exitFail
	}
	fmt.Fprintf(stdout, "%d findings in %d incidents\n", sum.Findings, sum.Incidents)
	report.ConsoleSummary(db, stdout)
	return exitOK
}

// runAnalyzerOptions reads the time zone and business hours the run used,
// so that the other analyzers' findings come out as the run wrote them.
func runAnalyzerOptions(db *sql.DB) (analyzers.Options, error) {
	var zone, hours string
	if err := db.QueryRow(`SELECT tz, business_hours FROM runs ORDER BY id DESC LIMIT 1`).Scan(&zone, &hours); err != nil {
		return analyzers.Options{}, fmt.Errorf("reading the run: %w", err)
	}
	loc, err := time.LoadLocation(zone)
	if err != nil {
		return analyzers.Options{}, fmt.Errorf("the run's time zone %q: %v", zone, err)
	}
	// Parsed as the run parsed its flag: an end of 00 is midnight.
	start, end, err := parseBusinessHours(hours)
	if err != nil {
		return analyzers.Options{}, fmt.Errorf("the run's business hours: %v", err)
	}
	return analyzers.Options{Location: loc, BusinessStart: start, BusinessEnd: end}, nil
}
