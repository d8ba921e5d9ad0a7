package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"triage/analyzers"
	"triage/report"
	"triage/timeline"
)

func init() {
	verbs["hunt"] = verb{"run Sigma rules on a run's timeline, refreshing findings and report: hunt --sigma PATH... DIR", runHunt}
}

func runHunt(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("hunt", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var s sigmaFlags
	s.register(fs)
	reportTime := fs.String("report-time", "", "RFC 3339 time to state as the report time, for byte-identical reruns")
	pdf := fs.Bool("pdf", false, "also print report.pdf with headless chromium")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: triage hunt --sigma PATH... [flags] DIR")
		fmt.Fprintln(stderr, "runs every analyzer again with the Sigma rules over DIR/timeline.db, without parsing the evidence again,")
		fmt.Fprintln(stderr, "and re-renders the report; the manifest records the rule set")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if fs.NArg() != 1 || len(s.paths) == 0 {
		fs.Usage()
		return exitUsage
	}
	var when time.Time
	if *reportTime != "" {
		var err error
		if when, err = time.Parse(time.RFC3339, *reportTime); err != nil {
			fmt.Fprintf(stderr, "triage: hunt: --report-time: %v\n", err)
			return exitUsage
		}
	}
	if err := s.load(); err != nil {
		fmt.Fprintf(stderr, "triage: hunt: %v\n", err)
		return exitUsage
	}
	dir := fs.Arg(0)
	db, err := timeline.Open(filepath.Join(dir, "timeline.db"))
	if err != nil {
		fmt.Fprintf(stderr, "triage: hunt: %v\n", err)
		fmt.Fprintln(stderr, "triage: hint: DIR is the --out folder of a triage run")
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
	outputs, err := report.Render(db, report.Options{OutDir: dir, Location: opts.Location, ReportTime: when, PDF: *pdf})
	if err != nil {
		fmt.Fprintf(stderr, "triage: %v\n", err)
		return exitFail
	}
	ms.CommandLine = append([]string{"triage", "hunt"}, args...)
	if err := recordHunt(dir, ms, outputs); err != nil {
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
	if err := db.QueryRow(`SELECT tz, business_hours FROM runs ORDER BY id LIMIT 1`).Scan(&zone, &hours); err != nil {
		return analyzers.Options{}, fmt.Errorf("reading the run: %w", err)
	}
	loc, err := time.LoadLocation(zone)
	if err != nil {
		return analyzers.Options{}, fmt.Errorf("the run's time zone %q: %v", zone, err)
	}
	start, end, _ := strings.Cut(hours, "-")
	o := analyzers.Options{Location: loc, IncidentWindow: 5 * time.Minute}
	o.BusinessStart, _ = strconv.Atoi(start)
	o.BusinessEnd, _ = strconv.Atoi(end)
	return o, nil
}

// recordHunt stores the hunt's rule set in the manifest and refreshes the
// outputs' hashes, keeping the record of the run itself.
func recordHunt(dir string, ms *manifestSigma, outputs []string) error {
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
	m.Sigma = ms
	m.Outputs = hashOutputs(dir, append([]string{"timeline.db"}, outputs...), &runLog{w: io.Discard, now: time.Now})
	return m.write(path)
}
