package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"golang.org/x/term"

	"triage/analyzers"
	"triage/collectors"
	"triage/ingest"
	"triage/internal/phases"
	"triage/internal/printable"
	"triage/report"
	"triage/timeline"
)

func init() {
	verbs["run"] = verb{"build the timeline, findings and report from evidence: run [flags] EVIDENCE...", runRun}
}

type runOptions struct {
	out, caseID, examiner, tz, businessHours, reportTime string
	pdf, force, add, forceAdd, timelineCSV, fullText     bool
	location                                             *time.Location
	bizStart, bizEnd                                     int
	fixedTime                                            time.Time
	sigma                                                sigmaFlags
	hosts                                                hostFlags
}

func runRun(args []string, stdout, stderr io.Writer) int {
	fs := newVerbFlags("run", "[flags] EVIDENCE...",
		"each EVIDENCE is one host: a KAPE or Velociraptor folder, a zip of one, a folder of logs, a disk image or single files;",
		"writes timeline.db, manifest.json, run.log and the report to --out")
	var o runOptions
	o.register(fs)
	evidence, code, ok := fs.parse(args, stdout, stderr)
	if !ok {
		return code
	}
	evidence, err := o.hosts.resolve(evidence)
	if err != nil {
		return fs.fail(stderr, err)
	}
	if err := o.checkAdd(fs); err != nil {
		return fs.fail(stderr, err)
	}
	if len(evidence) == 0 {
		return fs.fail(stderr, &usageError{msg: "no EVIDENCE to examine"})
	}
	err = o.validate(evidence)
	defer o.sigma.release()
	if err != nil {
		var ue *usageError
		if errors.As(err, &ue) {
			return fs.fail(stderr, err)
		}
		reportUsageError(stderr, "triage: run: ", err)
		return exitUsage
	}
	// An interrupt cancels the run, which then stops cleanly and says so; a
	// second one kills the process as usual.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		stop() // restores the default: the next signal ends the process
	}()
	return checkedOutput(stdout, func(stdout io.Writer) int {
		code, err := execute(ctx, o, evidence, append([]string{"triage", "run"}, args...), stdout, stderr)
		if err != nil {
			fmt.Fprintf(stderr, "triage: run: %s\n", printable.Escape(err.Error()))
		}
		return code
	}, stderr, "run")
}

// register defines the run's flags on fs, bound to o.
func (o *runOptions) register(fs *verbFlags) {
	fs.StringVar(&o.out, "out", "", "`DIR` to write the outputs to (default ./triage-<UTC timestamp>)")
	fs.StringVar(&o.caseID, "case", "", "case `ID` to state in the manifest and report")
	fs.StringVar(&o.examiner, "examiner", "", "examiner `NAME` to state in the manifest and report")
	fs.StringVar(&o.tz, "tz", "UTC", "IANA time `ZONE` of the host (Europe/Berlin), for local times and business hours")
	fs.Var(&o.hosts, "host", "host `NAME` of every root, or NAME=PATH for one root (repeat); default: the logs' Computer field, else the folder name when none or when roots share one")
	fs.StringVar(&o.businessHours, "business-hours", "08-18", "business hours as `HH-HH` in --tz for the out-of-hours analytic, 00 to 24; 22-06 spans midnight")
	fs.StringVar(&o.reportTime, "report-time", "", "time to state as the run and report times, as `RFC3339` (2024-03-01T09:00:00Z), for byte-identical reruns")
	fs.BoolVar(&o.pdf, "pdf", false, "also print report.pdf with headless chromium")
	fs.BoolVar(&o.timelineCSV, "timeline-csv", false, timelineCSVUsage)
	fs.BoolVar(&o.fullText, "fulltext", false, "also build the full-text indexes events_fts and scripts_fts in timeline.db, for searching command lines, summaries and script text; a case that has them keeps them up to date")
	fs.BoolVar(&o.force, "force", false, "replace the previous run in --out")
	fs.BoolVar(&o.add, "add", false, "add the EVIDENCE to the case in --out: parse it into its timeline, then run the analyzers and the report again over every host")
	fs.BoolVar(&o.forceAdd, "force-add", false, "with --add, add evidence even when the case holds it already")
	o.sigma.register(fs.FlagSet)
}

func (o *runOptions) validate(evidence []string) error {
	var err error
	for _, f := range []struct{ name, value string }{{"case", o.caseID}, {"examiner", o.examiner}} {
		if err := plainText(f.name, f.value); err != nil {
			return err
		}
	}
	if o.location, err = parseZone("tz", o.tz); err != nil {
		return err
	}
	if o.bizStart, o.bizEnd, err = parseBusinessHours(o.businessHours); err != nil {
		return err
	}
	if o.reportTime != "" {
		if o.fixedTime, err = parseReportTime("report-time", o.reportTime); err != nil {
			return err
		}
	}
	if err := o.sigma.load(); err != nil {
		return err
	}
	if o.out == "" {
		o.out = "triage-" + o.now().UTC().Format("20060102T150405Z")
	}
	if fi, err := os.Stat(o.out); err == nil && !fi.IsDir() {
		return &usageError{msg: fmt.Sprintf("--out %s is a file, not a folder", o.out)}
	}
	out, err := filepath.Abs(o.out)
	if err != nil {
		return err
	}
	for _, ev := range evidence {
		root, err := filepath.Abs(ev)
		if err != nil {
			return err
		}
		if resolved, err := filepath.EvalSymlinks(root); err == nil {
			root = resolved
		}
		if within(out, root) {
			// Never even with --force: evidence is not written to.
			return &usageError{msg: fmt.Sprintf("--out %s lies inside the evidence %s", o.out, ev),
				hints: []string{"write the outputs to a folder outside every evidence root"}}
		}
	}
	return nil
}

// within reports whether p is root or below it, after resolving what exists.
func within(p, root string) bool {
	for dir := p; ; dir = filepath.Dir(dir) {
		if resolved, err := filepath.EvalSymlinks(dir); err == nil {
			p = filepath.Join(resolved, strings.TrimPrefix(p, dir))
			break
		}
		if filepath.Dir(dir) == dir {
			break
		}
	}
	rel, err := filepath.Rel(root, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

func (o *runOptions) now() time.Time {
	if !o.fixedTime.IsZero() {
		return o.fixedTime
	}
	return time.Now()
}

// execute runs the run: check the evidence, lock --out, ingest, analyze,
// verify the evidence is unchanged, report, and write the manifest, which
// says in progress from the start and complete only at the end.
func execute(ctx context.Context, o runOptions, evidence, argv []string, stdout, stderr io.Writer) (int, error) {
	for _, root := range evidence {
		if _, err := os.Stat(root); err != nil {
			fmt.Fprintf(stderr, "triage: run: evidence %s: %v\n", root, errors.Unwrap(err))
			fmt.Fprintln(stderr, "triage: hint: each EVIDENCE is a folder, a zip, a disk image or a file that exists; check the path")
			return exitFail, nil
		}
	}
	if o.pdf {
		if err := report.CheckPDF(); err != nil {
			fmt.Fprintf(stderr, "triage: run: %v\n", err)
			fmt.Fprintln(stderr, "triage: hint: install chromium (apt-get install chromium) or run without --pdf")
			return exitFail, nil
		}
	}
	var out *ingest.Out
	var err error
	if o.add {
		out, err = ingest.OpenCase(o.out)
	} else {
		out, err = ingest.OpenOut(o.out, o.force)
	}
	switch {
	case errors.Is(err, ingest.ErrNoCase):
		fmt.Fprintf(stderr, "triage: run: %v\n", err)
		fmt.Fprintf(stderr, "triage: hint: make the case first with triage run --out %s EVIDENCE, then add to it with --add\n", o.out)
		return exitUsage, nil
	case errors.Is(err, ingest.ErrCaseIncomplete):
		fmt.Fprintf(stderr, "triage: run: %v\n", err)
		fmt.Fprintf(stderr, "triage: hint: it may hold evidence half written: rebuild it with triage run --force --out %s and every root its manifest.json lists\n", o.out)
		return exitUsage, nil
	case errors.Is(err, ingest.ErrOutHoldsRun):
		fmt.Fprintf(stderr, "triage: run: %v\n", err)
		fmt.Fprintln(stderr, "triage: hint: use --force to replace it, or choose another --out")
		return exitUsage, nil
	case errors.Is(err, ingest.ErrOutNotRun):
		fmt.Fprintf(stderr, "triage: run: %v\n", err)
		fmt.Fprintln(stderr, "triage: hint: choose a new or empty --out folder; --force only replaces a previous run")
		return exitUsage, nil
	case err != nil:
		return exitFail, err
	}
	defer out.Close()
	var prev *ingest.Manifest
	if o.add {
		if prev, err = readCase(out); err != nil {
			fmt.Fprintf(stderr, "triage: run: %s\n", printable.Escape(err.Error()))
			caseHint(stderr, err)
			return exitUsage, nil
		}
	}
	// An --add appends to the case's log, which keeps the case's history.
	logFlags := os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	if o.add {
		logFlags = os.O_WRONLY | os.O_CREATE | os.O_APPEND
	}
	logFile, err := os.OpenFile(out.Path(ingest.LogName), logFlags, 0o644)
	if err != nil {
		return exitFail, err
	}
	defer logFile.Close()
	log := &runLog{w: logFile, now: o.now, console: newConsole(stderr, isTerminal(stderr))}
	log.Printf("triage %s (commit %s, %s) started: %s", version, toolCommit(), runtime.Version(), strings.Join(argv, " "))
	r := &run{o: o, out: out, log: log, stdout: stdout, evidence: evidence, prev: prev, m: &ingest.Manifest{
		Tool:        ingest.Tool{Name: "triage", Version: version, Commit: toolCommit(), GoVersion: runtime.Version()},
		CommandLine: argv, Case: o.caseID, Examiner: o.examiner, TimeZone: o.tz, BusinessHours: o.businessHours,
		StartedUTC: timeline.FormatTime(o.now().UTC()), Status: timeline.RunInProgress, Evidence: evidence,
		NotClean: []string{}, Hosts: []ingest.HostName{}, Artifacts: []ingest.Artifact{}, Skipped: []ingest.Skipped{}, SkippedByReason: map[string]int{},
		Outputs: []ingest.Output{},
	}}
	r.startHistory()
	code, err := r.execute(ctx, stderr)
	var inCase *ingest.InCaseError
	if errors.As(err, &inCase) {
		log.Printf("refused: %v; the case is as it was", err)
		fmt.Fprintf(stderr, "triage: run: %s\n", printable.Escape(err.Error()))
		fmt.Fprintln(stderr, "triage: hint: leave it out, or give --force-add to add it again as another host")
		return exitUsage, nil
	}
	switch {
	case code == exitInterrupted:
		log.Printf("interrupted: the outputs in %s are incomplete", o.out)
	case err != nil:
		log.Printf("error: %v", err)
		r.fail(err)
		if errors.Is(err, syscall.ENOSPC) || strings.Contains(err.Error(), "disk is full") {
			fmt.Fprintf(stderr, "triage: run: %v\n", err)
			fmt.Fprintf(stderr, "triage: hint: the disk of --out %s is full; the run is incomplete and left timeline.db.partial: free space and run again with --force\n", o.out)
			return code, nil
		}
	}
	return code, err
}

// run is one triage run in progress.
type run struct {
	o        runOptions
	out      *ingest.Out
	log      *runLog
	stdout   io.Writer
	evidence []string // the roots this run reads
	// prev is the case's manifest before an --add; nil for a run that
	// makes a case.
	prev *ingest.Manifest
	// admitted is set once an --add has checked its evidence and begun to
	// write the case; until then the case is not touched.
	admitted bool
	m        *ingest.Manifest
	db       *sql.DB
	csv      *backgroundCSV      // timeline.csv, written beside the analyzers
	fullText *backgroundFullText // the full-text indexes, built beside the analyzers
	prepare  *backgroundPrepare  // the report's charts and lists, read beside the analyzers
}

func (r *run) execute(ctx context.Context, stderr io.Writer) (int, error) {
	db, admitted, err := r.openTimeline()
	if err != nil {
		return exitFail, err
	}
	r.db = db
	defer func() {
		timeline.Unshare(db) // a run that failed leaves its partial timeline one file all the same
		db.Close()
	}()
	// Once the ingest is done, the timeline is read on connections of
	// their own beside the one that writes to it: by timeline.csv, the
	// report's charts and the full-text indexes asked for, beside the
	// analyzers. The indexes, which no later step reads, are built from
	// the time every event is in, beside the index build and the script
	// reassembly too. On a file system without the shared memory that
	// needs, the steps run one after another; so they do for an --add,
	// whose open timeline was renamed (openTimeline), when the WAL files
	// would take the name it was opened by.
	partial := r.out.Path(ingest.PartialTimelineName)
	shared, shareTried := false, false
	share := func() {
		if shareTried || r.prev != nil {
			return
		}
		shareTried = true
		if err := timeline.Share(db); err != nil {
			r.log.Printf("the timeline cannot be read while it is written (%v): the steps after the ingest run one after another", err)
			return
		}
		shared = true
	}
	scriptsIn := make(chan struct{})
	defer func() { r.fullText.stop() }()
	eventsWritten := func(events int64) {
		// The indexes and scripts still to build take longer in WAL
		// mode, whose log the full-text build's snapshot keeps from
		// being folded back (on the 4 GiB synthetic log, 15 s more): the
		// early start pays when the analyzers would keep both cores
		// busy, and the build beside them would slow them.
		if !r.o.fullText || !analyzers.Lanes(events) {
			return
		}
		if share(); shared {
			r.fullText = startFullText(ctx, partial, filepath.Join(r.out.TempDir(), fullTextName), scriptsIn)
		}
	}
	bar := &progress{console: r.log.console}
	res, err := ingest.Ingest(ctx, db, r.evidence, ingest.Options{
		Host: r.o.hosts.all, Names: r.o.hosts.names, Collect: collectors.Options{TempDir: r.out.TempDir()},
		Logf: r.log.Printf, Progress: bar.update, BeforeRehash: beforeRehash,
		Append: r.prev != nil, ForceAdd: r.o.forceAdd, Admitted: admitted, EventsWritten: eventsWritten,
	})
	bar.finish()
	close(scriptsIn)
	phases.Mark("ingest done")
	if res != nil {
		defer res.Close()
	}
	if err != nil {
		if ctx.Err() != nil {
			return r.interrupted(res)
		}
		return exitFail, err
	}
	share()
	if err := r.startFullText(ctx, partial, shared); err != nil {
		return exitFail, err
	}
	r.prepare = startPrepare(partial, r.o.location, shared)
	defer r.prepare.wait()
	writeCSV := r.o.timelineCSV || (r.prev != nil && hasTimelineCSV(r.o.out))
	r.csv = startTimelineCSV(ctx, partial, r.o.out, r.o.location, writeCSV, res.Spans == nil, shared)
	defer r.csv.stop()
	sum, err := analyzers.Run(ctx, db, analyzers.Options{
		Location: r.o.location, BusinessStart: r.o.bizStart, BusinessEnd: r.o.bizEnd,
		Sigma: r.o.sigma.ruleSet(), TimelinePath: sharedPath(partial, shared),
	})
	if ctx.Err() != nil {
		return r.interrupted(res)
	}
	if err != nil {
		return exitFail, fmt.Errorf("analyzers: %w", err)
	}
	phases.Mark("analyzers done")
	r.log.Printf("analyzers wrote %d findings in %d incidents", sum.Findings, sum.Incidents)
	if ms := r.o.sigma.manifest(); ms != nil {
		r.log.Printf("%s", ms.summary())
		r.m.Sigma = r.o.sigma.manifestJSON()
	}
	if r.m.Artifacts, err = res.Verify(db, r.log.Printf); err != nil {
		return exitFail, err
	}
	if ctx.Err() != nil {
		return r.interrupted(res)
	}
	phases.Mark("verified")
	// The indexes are copied in after every write of the analyzers and of
	// Verify, so that the timeline's writes come in one order whichever
	// of them ends first.
	if err := r.fullText.add(ctx, db); err != nil {
		if ctx.Err() != nil {
			return r.interrupted(res)
		}
		return exitFail, fmt.Errorf("full-text indexes: %w", err)
	}
	r.record(res)
	r.m.FinishedUTC = timeline.FormatTime(r.o.now().UTC())
	r.m.Status = timeline.RunComplete
	if err := timeline.FinishRun(db, timeline.RunComplete, "", r.m.FinishedUTC, r.m.NotClean); err != nil {
		return exitFail, err
	}
	// Nothing writes to the timeline from here on: it is hashed while the
	// report reads it, once it is one file again, which needs every other
	// connection closed: at once, unless timeline.csv is still being
	// written, else after it.
	r.csv.writesDone()
	prepared, err := r.prepare.wait()
	if err != nil {
		r.log.Printf("reading the report's charts beside the analyzers: %v; read after them instead", err)
	}
	var dbHash *backgroundHash
	if r.csv.ready() {
		if dbHash, err = r.hashTimeline(); err != nil {
			return exitFail, err
		}
	}
	outputs, renderErr := report.Render(db, report.Options{OutDir: r.o.out, Location: r.o.location, ReportTime: r.o.fixedTime,
		PDF: r.o.pdf, TempDir: r.out.TempDir(), TimelineCSVWritten: writeCSV, Dated: res.DatedSpans(), Prepared: prepared})
	phases.Mark("report rendered")
	if renderErr != nil {
		r.log.Printf("error: %v", renderErr)
	}
	var hashed []ingest.Output
	var spans map[[2]string][2]string
	if err := r.csv.wait(); err != nil {
		// A lock held past the busy timeout, say: done here instead.
		r.log.Printf("reading the timeline beside the analyzers: %v; read after them instead", err)
		if res.Spans == nil {
			if spans, err = eventSpans(db); err != nil {
				return exitFail, err
			}
		}
		if writeCSV {
			if err := report.WriteTimelineCSV(ctx, db, r.o.out, r.o.location); err != nil {
				return exitFail, err
			}
		}
	} else {
		if r.csv.written {
			hashed = append(hashed, r.csv.hash)
		}
		spans = r.csv.spans
	}
	if res.Spans != nil {
		spans = summarySpans(res.Spans)
	}
	if dbHash == nil {
		if dbHash, err = r.hashTimeline(); err != nil {
			return exitFail, err
		}
	}
	printSummary(r.stdout, res, spans)
	report.ConsoleSummary(db, r.stdout)
	if err := r.closeTimeline(); err != nil {
		return exitFail, err
	}
	dbOut, err := dbHash.result(r.out.Path(ingest.TimelineName))
	if err != nil {
		return exitFail, fmt.Errorf("hash output %s: %w", ingest.TimelineName, err)
	}
	if r.m.Outputs, err = hashOutputs(r.o.out, append([]string{ingest.TimelineName}, outputs...), append(hashed, dbOut)...); err != nil {
		return exitFail, err
	}
	if err := r.writeManifest(); err != nil {
		return exitFail, err
	}
	phases.Mark("manifest written")
	for _, out := range r.m.Outputs {
		if out.Path == "report.html" {
			fmt.Fprintf(r.stdout, "report.html sha256 %s\n", out.SHA256)
		}
	}
	readable := res.Readable()
	r.log.Printf("finished: %d artifacts readable, outputs in %s", readable, r.o.out)
	// The run is complete and recorded so from here: what follows is said,
	// not recorded again as a failure.
	switch {
	case readable == 0:
		fmt.Fprintln(stderr, "triage: run: nothing could be read")
		return exitFail, nil
	case renderErr != nil:
		fmt.Fprintf(stderr, "triage: run: %v\n", renderErr)
		return exitFail, nil
	case len(r.m.NotClean) > 0:
		for _, why := range r.m.NotClean {
			r.log.Printf("not clean: %s", why)
		}
		fmt.Fprintf(stderr, "triage: run: complete but not clean: %s\n", strings.Join(r.m.NotClean, "; "))
		fmt.Fprintln(stderr, "triage: hint: report.html and manifest.json list what was not examined and why")
		return exitNotClean, nil
	}
	return exitOK, nil
}

// record copies what the ingest found into the manifest, after what the
// case held before an --add.
func (r *run) record(res *ingest.Result) {
	r.m.EvidenceErrors = res.EvidenceErrors
	r.m.Hosts = res.HostNames()
	r.m.Images = res.Images()
	r.m.Skipped = res.Skipped()
	r.m.NotClean = res.NotClean()
	if r.m.NotClean == nil {
		r.m.NotClean = []string{}
	}
	if r.m.Artifacts == nil {
		r.m.Artifacts = []ingest.Artifact{}
	}
	if r.prev != nil {
		r.mergeCase()
	}
	r.m.SkippedByReason = ingest.CountSkipped(r.m.Skipped)
}

// hashTimeline puts the timeline back in one file, which every other
// connection must have closed for, and starts hashing it.
func (r *run) hashTimeline() (*backgroundHash, error) {
	if err := timeline.Unshare(r.db); err != nil {
		return nil, err
	}
	return hashInBackground(r.out.Path(ingest.PartialTimelineName), ingest.TimelineName), nil
}

// closeTimeline closes the database, one file again, and gives it its
// final name.
func (r *run) closeTimeline() error {
	if err := timeline.Unshare(r.db); err != nil {
		return err
	}
	if err := r.db.Close(); err != nil {
		return err
	}
	return os.Rename(r.out.Path(ingest.PartialTimelineName), r.out.Path(ingest.TimelineName))
}

// interrupted records that the run was stopped and keeps what it wrote,
// marked interrupted in the timeline and the manifest.
func (r *run) interrupted(res *ingest.Result) (int, error) {
	r.csv.stop() // an interrupted run has no timeline.csv
	r.fullText.stop()
	r.prepare.wait()
	if r.untouched() {
		fmt.Fprintf(r.stdout, "interrupted: nothing was added; the case in %s is as it was\n", r.o.out)
		return exitInterrupted, nil
	}
	var err error
	if res != nil {
		r.m.Artifacts, err = res.Verify(r.db, r.log.Printf)
		r.record(res)
	}
	r.m.Status, r.m.StatusDetail = timeline.RunInterrupted, "stopped by a signal before the end"
	r.m.FinishedUTC = timeline.FormatTime(r.o.now().UTC())
	if err == nil {
		err = timeline.FinishRun(r.db, r.m.Status, r.m.StatusDetail, r.m.FinishedUTC, r.m.NotClean)
	}
	if err == nil {
		err = r.closeTimeline()
	}
	if err == nil {
		r.m.Outputs, err = ingest.HashOutputs(r.o.out, []string{ingest.TimelineName})
	}
	if err == nil {
		err = r.writeManifest()
	}
	fmt.Fprintf(r.stdout, "interrupted: the run in %s is incomplete\n", r.o.out)
	return exitInterrupted, err
}

// fail records a failed run where it still can: the manifest says failed
// and why; the timeline keeps its partial name.
func (r *run) fail(cause error) {
	if r.untouched() {
		return
	}
	r.m.Status, r.m.StatusDetail = timeline.RunFailed, cause.Error()
	r.m.FinishedUTC = timeline.FormatTime(r.o.now().UTC())
	if r.db != nil {
		timeline.FinishRun(r.db, r.m.Status, r.m.StatusDetail, r.m.FinishedUTC, r.m.NotClean)
	}
	r.writeManifest()
}

// startFullText builds the full-text indexes asked for, once the ingest is
// done, unless the timeline has them (an --add keeps them up to date) or
// their build started as the events came in: beside the analyzers on a
// shared timeline, else here in place.
func (r *run) startFullText(ctx context.Context, partial string, shared bool) error {
	if !r.o.fullText || r.fullText != nil {
		return nil
	}
	if has, err := timeline.HasFullText(r.db); err != nil || has {
		return err
	}
	if !shared {
		return timeline.RebuildFullText(r.db)
	}
	r.fullText = startFullText(ctx, partial, filepath.Join(r.out.TempDir(), fullTextName), nil)
	return nil
}

// fullTextName is the database, in the run's temporary folder, that the
// full-text indexes are built in before they are copied into the timeline.
const fullTextName = "fulltext.db"

// beforeRehash is a test's hook between the ingest and the second hashing
// of the evidence.
var beforeRehash func()

// progress shows the ingest on a terminal, one bar per host.
type progress struct {
	console *console
	host    string
	advance func(done int64, description string)
	done    func()
	start   time.Time
	bytes   int64
}

func (p *progress) update(s ingest.Progress) {
	if p.advance == nil || s.Host != p.host {
		p.finish()
		p.host, p.start, p.bytes = s.Host, time.Now(), 0
		p.advance, p.done = p.console.startBar(s.TotalBytes, s.Host)
	}
	p.advance(s.Bytes-p.bytes, fmt.Sprintf("%s: %d events, %.0f/s", s.Host, s.Events, float64(s.Events)/time.Since(p.start).Seconds()))
	p.bytes = s.Bytes
}

func (p *progress) finish() {
	if p.done != nil {
		p.done()
		p.advance, p.done = nil, nil
	}
}

// eventSpans gives the first and last event time, to the second, of each
// host and event source; events with no time (most history lines) are
// left out.
func eventSpans(db *sql.DB) (map[[2]string][2]string, error) {
	rows, err := db.Query(`SELECT host, source, min(ts), max(ts) FROM events WHERE ts != '' GROUP BY host, source`)
	if err != nil {
		return nil, fmt.Errorf("event time range: %w", err)
	}
	defer rows.Close()
	spans := map[[2]string][2]string{}
	for rows.Next() {
		var host, source, first, last string
		if err := rows.Scan(&host, &source, &first, &last); err != nil {
			return nil, err
		}
		spans[[2]string{host, source}] = [2]string{toSecond(first), toSecond(last)}
	}
	return spans, rows.Err()
}

// summarySpans are the spans the ingest kept, as eventSpans reads them.
func summarySpans(es *timeline.EventSpans) map[[2]string][2]string {
	spans := map[[2]string][2]string{}
	for k, s := range es.Sources {
		spans[[2]string{k.Host, k.Source}] = [2]string{toSecond(s.First), toSecond(s.Last)}
	}
	return spans
}

// toSecond shortens a TimeLayout time to whole seconds, which is enough to
// bound a host's activity and keeps the table narrow.
func toSecond(ts string) string {
	if len(ts) == len(timeline.TimeLayout) {
		return ts[:19] + "Z"
	}
	return ts
}

// sharedPath is the timeline's path for the analyzers to read it again
// on connections of their own, when it is shared; else "".
func sharedPath(path string, shared bool) string {
	if !shared {
		return ""
	}
	return path
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
