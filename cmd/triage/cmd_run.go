package main

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/olekukonko/tablewriter"
	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"triage/analyzers"
	"triage/collectors"
	"triage/parsers/evtx"
	"triage/report"
	"triage/timeline"
)

func init() {
	verbs["run"] = verb{"build the timeline, findings and report from evidence: run [flags] EVIDENCE...", runRun}
}

type runOptions struct {
	out, caseID, examiner, tz, host, businessHours, reportTime string
	pdf, force                                                 bool
	location                                                   *time.Location
	bizStart, bizEnd                                           int
	fixedTime                                                  time.Time
	sigma                                                      sigmaFlags
}

func runRun(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o runOptions
	fs.StringVar(&o.out, "out", "", "output folder (default ./triage-<UTC timestamp>)")
	fs.StringVar(&o.caseID, "case", "", "case identifier, stated in the report")
	fs.StringVar(&o.examiner, "examiner", "", "examiner name, stated in the report")
	fs.StringVar(&o.tz, "tz", "UTC", "IANA time zone of the host, for local times and business hours")
	fs.StringVar(&o.host, "host", "", "host name (default: from the events' Computer field, else the folder name)")
	fs.StringVar(&o.businessHours, "business-hours", "08-18", "business hours HH-HH in --tz, for the out-of-hours analytic")
	fs.StringVar(&o.reportTime, "report-time", "", "RFC 3339 time to state as the run and report times, for byte-identical reruns")
	fs.BoolVar(&o.pdf, "pdf", false, "also print report.pdf with headless chromium")
	fs.BoolVar(&o.force, "force", false, "write into an --out folder that already holds a run")
	o.sigma.register(fs)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: triage run [flags] EVIDENCE...")
		fmt.Fprintln(stderr, "each EVIDENCE is one host: a KAPE or Velociraptor folder, a zip of one, a folder of logs, a disk image or single files")
		fs.PrintDefaults()
		fmt.Fprintln(stderr, "exit status: 0 run completed (damaged artifacts are listed), 1 nothing could be read, 2 usage error")
	}
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return exitUsage
	}
	if err := o.validate(fs.Args()); err != nil {
		fmt.Fprintf(stderr, "triage: run: %v\n", err)
		return exitUsage
	}
	code, err := execute(o, fs.Args(), append([]string{"triage", "run"}, args...), stdout, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "triage: run: %v\n", err)
	}
	return code
}

func (o *runOptions) validate(evidence []string) error {
	var err error
	if o.location, err = time.LoadLocation(o.tz); err != nil {
		return fmt.Errorf("--tz %q: %v", o.tz, err)
	}
	start, end, ok := strings.Cut(o.businessHours, "-")
	o.bizStart, _ = strconv.Atoi(start)
	o.bizEnd, _ = strconv.Atoi(end)
	if !ok || o.bizStart < 0 || o.bizEnd > 24 || o.bizStart >= o.bizEnd {
		return fmt.Errorf("--business-hours %q: want HH-HH, e.g. 08-18", o.businessHours)
	}
	if o.reportTime != "" {
		if o.fixedTime, err = time.Parse(time.RFC3339, o.reportTime); err != nil {
			return fmt.Errorf("--report-time: %v", err)
		}
	}
	if err := o.sigma.load(); err != nil {
		return err
	}
	if o.out == "" {
		o.out = "triage-" + o.now().UTC().Format("20060102T150405Z")
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
			return fmt.Errorf("--out %s lies inside the evidence %s", o.out, ev)
		}
	}
	if _, err := os.Stat(filepath.Join(o.out, "timeline.db")); err == nil && !o.force {
		return fmt.Errorf("--out %s already holds a run (use --force to replace it)", o.out)
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

// execute runs the pipeline: collect, hash, parse and store, analyze,
// report, verify the evidence is unchanged, and write the manifest.
func execute(o runOptions, evidence, argv []string, stdout, stderr io.Writer) (int, error) {
	started := o.now().UTC()
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return exitFail, err
	}
	if o.force {
		for _, name := range []string{"timeline.db", "timeline.db-wal", "timeline.db-shm"} {
			os.Remove(filepath.Join(o.out, name))
		}
	}
	logFile, err := os.Create(filepath.Join(o.out, "run.log"))
	if err != nil {
		return exitFail, err
	}
	defer logFile.Close()
	interactive := isTerminal(stderr)
	log := &runLog{w: logFile, now: o.now}
	if !interactive {
		log.console = stderr
	}
	log.Printf("triage %s (commit %s, %s) started: %s", version, toolCommit(), runtime.Version(), strings.Join(argv, " "))

	db, err := timeline.Create(filepath.Join(o.out, "timeline.db"))
	if err != nil {
		return exitFail, err
	}
	defer db.Close()
	m := &manifest{
		Tool:        toolInfo{Name: "triage", Version: version, Commit: toolCommit(), GoVersion: runtime.Version()},
		CommandLine: argv, Case: o.caseID, Examiner: o.examiner, TimeZone: o.tz, BusinessHours: o.businessHours,
		StartedUTC: timeline.FormatTime(started), Evidence: evidence,
	}
	if err := insertRun(db, m); err != nil {
		return exitFail, err
	}
	w, err := timeline.NewWriter(db)
	if err != nil {
		return exitFail, err
	}
	var all []hostRun
	restoreGC := tuneGC()
	for i, root := range evidence {
		hr, err := collectHost(w, o, root, log, stderr, interactive, i == len(evidence)-1)
		if err != nil {
			log.Printf("error: evidence %s: %v", root, err)
			m.EvidenceErrors = append(m.EvidenceErrors, fmt.Sprintf("%s: %v", root, err))
			continue
		}
		defer hr.ev.Close()
		if hr.image != nil {
			m.Images = append(m.Images, *hr.image)
		}
		all = append(all, hr)
	}
	restoreGC()
	// The second hashing reads only the evidence, so it overlaps the index
	// builds and the analyzers, which read only the timeline.
	rehashed := rehashInBackground(all)
	if err := w.Close(); err != nil {
		return exitFail, err
	}
	readable := 0
	for _, hr := range all {
		for _, a := range hr.rows {
			if a.Status != "failed" {
				readable++
			}
		}
	}
	sum, err := analyzers.Run(context.Background(), db, analyzers.Options{
		Location: o.location, BusinessStart: o.bizStart, BusinessEnd: o.bizEnd, IncidentWindow: 5 * time.Minute,
		Sigma: o.sigma.ruleSet(),
	})
	if err != nil {
		return exitFail, fmt.Errorf("analyzers: %w", err)
	}
	log.Printf("analyzers wrote %d findings in %d incidents", sum.Findings, sum.Incidents)
	if m.Sigma = o.sigma.manifest(); m.Sigma != nil {
		log.Printf("%s", m.Sigma.summary())
	}
	m.Artifacts = verifyUnchanged(all, <-rehashed, log)
	m.FinishedUTC = timeline.FormatTime(o.now().UTC())
	if _, err := db.Exec(`UPDATE runs SET finished_ts=?`, m.FinishedUTC); err != nil {
		return exitFail, err
	}
	outputs, err := report.Render(db, report.Options{OutDir: o.out, Location: o.location, ReportTime: o.fixedTime, PDF: o.pdf})
	if err != nil {
		log.Printf("error: %v", err)
	}
	spans, err := eventSpans(db)
	if err != nil {
		return exitFail, err
	}
	printSummary(stdout, all, spans)
	report.ConsoleSummary(db, stdout)
	m.Outputs = hashOutputs(o.out, append([]string{"timeline.db"}, outputs...), log)
	if err := m.write(filepath.Join(o.out, "manifest.json")); err != nil {
		return exitFail, err
	}
	for _, out := range m.Outputs {
		if out.Path == "report.html" {
			fmt.Fprintf(stdout, "report.html sha256 %s\n", out.SHA256)
		}
	}
	log.Printf("finished: %d artifacts readable, outputs in %s", readable, o.out)
	if readable == 0 {
		return exitFail, errors.New("nothing could be read")
	}
	return exitOK, nil
}

type hostRun struct {
	host      string
	root      string
	ev        *collectors.Evidence
	image     *manifestImage // when the evidence is a disk image
	artifacts []*collectors.Artifact
	rows      []timeline.Artifact
}

// logImage puts an image's description and any doubt about it in the run
// log: a stored hash that does not match is as loud as a changed artifact.
func logImage(log *runLog, mi manifestImage) {
	format := mi.Format
	if mi.Container != "" {
		format += " in " + mi.Container
	}
	log.Printf("image %s: %s, %d bytes, partitions %s, %d files, inflater %q", mi.EvidenceRoot, format,
		mi.DiskSize, mi.PartitionScheme, len(mi.Files), mi.Inflater)
	for _, f := range mi.Files {
		if f.Error != "" {
			log.Printf("ERROR: image file %s: %s", f.Path, f.Error)
		} else {
			log.Printf("  image file %s: %d bytes, sha256 %s, md5 %s", f.Path, f.Size, f.SHA256, f.MD5)
		}
	}
	switch {
	case mi.Verified == nil:
	case *mi.Verified:
		log.Printf("  stored hashes verified: %v", mi.StoredHashes)
	default:
		log.Printf("ERROR: INTEGRITY: image %s: stored hashes %v, computed %v %s", mi.EvidenceRoot, mi.StoredHashes, mi.ComputedHashes, mi.VerificationError)
	}
	for _, p := range mi.Problems {
		log.Printf("error: image %s: %s", mi.EvidenceRoot, p)
	}
}

func collectHost(w *timeline.Writer, o runOptions, root string, log *runLog, stderr io.Writer, interactive, last bool) (hostRun, error) {
	ev, err := collectors.Open(root)
	if err != nil {
		return hostRun{}, err
	}
	var image *manifestImage
	if ev.Image != nil {
		mi := describeImage(root, ev.Image)
		logImage(log, mi)
		image = &mi
	}
	host := o.host
	if host == "" {
		host = hostFromEvents(ev)
	}
	log.Printf("evidence %s (%s): host %s, %d artifacts", root, ev.Format, host, len(ev.Artifacts))
	for _, s := range ev.Skipped {
		log.Printf("error: skipped %s", s)
	}
	var total int64
	for _, a := range ev.Artifacts {
		total += a.Size
	}
	progress := func(int64, int) {}
	if interactive {
		bar := progressbar.NewOptions64(total, progressbar.OptionSetWriter(stderr), progressbar.OptionShowBytes(true),
			progressbar.OptionSetDescription(host), progressbar.OptionShowCount(), progressbar.OptionSetPredictTime(true),
			progressbar.OptionClearOnFinish())
		events, start := 0, time.Now()
		progress = func(n int64, e int) {
			events += e
			bar.Describe(fmt.Sprintf("%s: %d events, %.0f/s", host, events, float64(events)/time.Since(start).Seconds()))
			bar.Add64(n)
		}
		defer bar.Finish()
	}
	// Indexes built during an earlier root's ingest would make every
	// later root's inserts maintain them.
	rows, err := ingest(w, host, ev.Artifacts, log, progress, last)
	if err != nil {
		ev.Close()
		return hostRun{}, err
	}
	// The evidence stays open for the re-hash at the end of the run: an
	// image's artifacts can only be read while the image is.
	return hostRun{host: host, root: root, ev: ev, image: image, artifacts: ev.Artifacts, rows: rows}, nil
}

// hostFromEvents takes the host name from the Computer field of the first
// event log that has one, preferring the System and Security logs.
func hostFromEvents(ev *collectors.Evidence) string {
	logs := append([]*collectors.Artifact{}, ev.Artifacts...)
	rank := func(a *collectors.Artifact) int {
		switch strings.ToLower(filepath.Base(a.Path)) {
		case "system.evtx":
			return 0
		case "security.evtx":
			return 1
		}
		return 2
	}
	sort.SliceStable(logs, func(i, j int) bool { return rank(logs[i]) < rank(logs[j]) })
	for _, a := range logs {
		if a.Kind != collectors.EVTX {
			continue
		}
		if name := firstComputer(a); name != "" {
			return name
		}
	}
	return ev.HostHint
}

func firstComputer(a *collectors.Artifact) string {
	f, err := a.Open()
	if err != nil {
		return ""
	}
	defer f.Close()
	r, err := evtx.NewReader(f, a.Size)
	if err != nil {
		return ""
	}
	r.SetWorkers(1)
	for rec := range r.Records() {
		if rec != nil && rec.System.Computer != "" {
			return rec.System.Computer
		}
	}
	return ""
}

func insertRun(db *sql.DB, m *manifest) error {
	argv, _ := json.Marshal(m.CommandLine)
	evidence, _ := json.Marshal(m.Evidence)
	_, err := db.Exec(`INSERT INTO runs (tool_version, tool_commit, go_version, command_line, case_id, examiner, tz,
		business_hours, evidence, started_ts) VALUES (?,?,?,?,?,?,?,?,?,?)`, m.Tool.Version, m.Tool.Commit, m.Tool.GoVersion,
		string(argv), m.Case, m.Examiner, m.TimeZone, m.BusinessHours, string(evidence), m.StartedUTC)
	return err
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

// toSecond shortens a TimeLayout time to whole seconds, which is enough to
// bound a host's activity and keeps the table narrow.
func toSecond(ts string) string {
	if len(ts) == len(timeline.TimeLayout) {
		return ts[:19] + "Z"
	}
	return ts
}

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

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// rehash is an artifact's hashes at the end of the run.
type rehash struct {
	sha256, md5 string
	err         error
}

// rehashInBackground hashes every artifact that was ingested again, on its
// own goroutine; the result is indexed like all and each host's rows.
func rehashInBackground(all []hostRun) <-chan [][]rehash {
	done := make(chan [][]rehash, 1)
	go func() {
		out := make([][]rehash, len(all))
		for i, hr := range all {
			out[i] = make([]rehash, min(len(hr.rows), len(hr.artifacts)))
			for j := range out[i] {
				r := &out[i][j]
				r.sha256, r.md5, r.err = hashArtifact(hr.artifacts[j])
			}
		}
		done <- out
	}()
	return done
}

// verifyUnchanged compares every artifact's hashes after the run with those
// taken before parsing: evidence must not change while it is read, and a
// change is reported loudly.
func verifyUnchanged(all []hostRun, after [][]rehash, log *runLog) []manifestArtifact {
	var out []manifestArtifact
	for i, hr := range all {
		for j, r := range after[i] {
			a, row := hr.artifacts[j], hr.rows[j]
			ma := manifestArtifact{
				Host: hr.host, EvidenceRoot: hr.root, Path: a.Path, WindowsPath: a.WinPath, Kind: row.Kind,
				Size: a.Size, ModTime: timeline.FormatTime(a.ModTime), SHA256: row.SHA256, MD5: row.MD5,
				Status: row.Status, Records: row.Records, Recovered: row.Recovered, Errors: row.Errors,
			}
			if ma.Errors == nil {
				ma.Errors = []string{}
			}
			switch {
			case r.err != nil:
				ma.IntegrityError = "re-hash failed: " + r.err.Error()
			case r.sha256 != row.SHA256:
				ma.IntegrityError = fmt.Sprintf("CHANGED DURING THE RUN: sha256 %s before, %s after", row.SHA256, r.sha256)
			case r.md5 != row.MD5:
				ma.IntegrityError = fmt.Sprintf("CHANGED DURING THE RUN: md5 %s before, %s after", row.MD5, r.md5)
			}
			if ma.IntegrityError != "" {
				log.Printf("ERROR: INTEGRITY: %s: %s", a.Path, ma.IntegrityError)
			}
			out = append(out, ma)
		}
	}
	return out
}

func hashOutputs(dir string, names []string, log *runLog) []manifestOutput {
	var out []manifestOutput
	sort.Strings(names)
	for _, name := range names {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			log.Printf("error: hash output %s: %v", name, err)
			continue
		}
		sum := sha256.Sum256(b)
		out = append(out, manifestOutput{Path: name, SHA256: hex.EncodeToString(sum[:]), Size: int64(len(b))})
	}
	return out
}
