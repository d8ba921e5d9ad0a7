package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"triage/ingest"
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
		"DIR is the --out folder of a triage run; a run that did not complete is reported as such, with exit status 1")
	tz := fs.String("tz", "", "IANA time `ZONE` for local times (default: the run's --tz)")
	reportTime := fs.String("report-time", "", "time to state as the report time, as `RFC3339`")
	pdf := fs.Bool("pdf", false, "also print report.pdf with headless chromium")
	timelineCSV := fs.Bool("timeline-csv", false, timelineCSVUsage)
	fullText := fs.Bool("fulltext", false, "also give timeline.db the full-text indexes events_fts and scripts_fts, when it has none (see run --fulltext)")
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
	if _, err := os.Stat(filepath.Join(dir, ingest.TimelineName)); err != nil {
		if _, perr := os.Stat(filepath.Join(dir, ingest.PartialTimelineName)); perr == nil {
			status := timeline.RunInProgress
			if m, err := ingest.ReadManifest(filepath.Join(dir, ingest.ManifestName)); err == nil {
				status = m.Status
			}
			fmt.Fprintf(stderr, "triage: report: the run in %s did not complete (manifest status %s): it left only %s, which may be damaged\n",
				printable.Escape(dir), status, ingest.PartialTimelineName)
			fmt.Fprintln(stderr, "triage: hint: run triage run again on the evidence, with --force to replace this run")
			return exitFail
		}
		reportUsageError(stderr, "triage: report: ", &usageError{msg: fmt.Sprintf("%s holds no %s", dir, ingest.TimelineName),
			hints: []string{"DIR is the --out folder of a triage run"}})
		return exitUsage
	}
	if *pdf {
		if err := report.CheckPDF(); err != nil {
			fmt.Fprintf(stderr, "triage: report: %v\n", err)
			fmt.Fprintln(stderr, "triage: hint: install chromium (apt-get install chromium) or run without --pdf")
			return exitFail
		}
	}
	return checkedOutput(stdout, func(stdout io.Writer) int {
		return renderReport(dir, loc, when, *pdf, *timelineCSV || hasTimelineCSV(dir), *fullText, stdout, stderr)
	}, stderr, "report")
}

func renderReport(dir string, loc *time.Location, when time.Time, pdf, timelineCSV, fullText bool, stdout, stderr io.Writer) int {
	db, err := timeline.Open(filepath.Join(dir, ingest.TimelineName))
	if err != nil {
		fmt.Fprintf(stderr, "triage: report: %s\n", printable.Escape(err.Error()))
		if errors.Is(err, timeline.ErrSchemaVersion) {
			caseHint(stderr, err)
		}
		return exitFail
	}
	defer db.Close()
	if loc == nil {
		var zone string
		db.QueryRow(`SELECT tz FROM runs ORDER BY id DESC LIMIT 1`).Scan(&zone)
		if loc, err = time.LoadLocation(zone); err != nil {
			fmt.Fprintf(stderr, "triage: report: the run's time zone %q: %v\n", zone, err)
			return exitFail
		}
	}
	status, detail, err := timeline.RunState(db)
	if err != nil {
		fmt.Fprintf(stderr, "triage: report: %v\n", err)
		return exitFail
	}
	if fullText {
		// timeline.db is hashed into the manifest again below, with the
		// outputs.
		has, err := timeline.HasFullText(db)
		if err == nil && !has {
			err = timeline.RebuildFullText(db)
		}
		if err != nil {
			fmt.Fprintf(stderr, "triage: report: full-text indexes: %v\n", err)
			return exitFail
		}
	}
	outputs, err := report.Render(db, report.Options{OutDir: dir, Location: loc, ReportTime: when, PDF: pdf, TimelineCSV: timelineCSV})
	if err != nil {
		fmt.Fprintf(stderr, "triage: %s\n", printable.Escape(err.Error())) // the error names the report package already
		return exitFail
	}
	if err := refreshManifest(dir, outputs, nil); err != nil {
		fmt.Fprintf(stderr, "triage: report: manifest: %s\n", printable.Escape(err.Error()))
		return exitFail
	}
	if err := report.ConsoleSummary(db, stdout); err != nil {
		fmt.Fprintf(stderr, "triage: report: summary: %v\n", err)
		return exitFail
	}
	if status != timeline.RunComplete {
		fmt.Fprintf(stderr, "triage: report: INCOMPLETE RUN: the run in %s is %s (%s); the report says so at its top\n",
			printable.Escape(dir), status, printable.Escape(detail))
		return exitFail
	}
	var notClean string
	db.QueryRow(`SELECT not_clean FROM runs ORDER BY id DESC LIMIT 1`).Scan(&notClean)
	if notClean != "" && notClean != "[]" {
		fmt.Fprintf(stderr, "triage: report: the run in %s is complete but not clean: %s\n", printable.Escape(dir), printable.Escape(notClean))
		return exitNotClean
	}
	return exitOK
}

// refreshManifest rewrites the manifest's outputs, and what edit changes
// (nothing when nil), keeping the record of the run itself as it was.
func refreshManifest(dir string, outputs []string, edit func(*ingest.Manifest) error) error {
	path := filepath.Join(dir, ingest.ManifestName)
	m, err := ingest.ReadManifest(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if edit != nil {
		if err := edit(m); err != nil {
			return err
		}
	}
	if m.Outputs, err = ingest.HashOutputs(dir, append([]string{ingest.TimelineName}, outputs...)); err != nil {
		return err
	}
	return m.Write(path)
}
