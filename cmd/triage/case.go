package main

import (
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"triage/ingest"
	"triage/timeline"
)

// caseHint says what to do about a case folder that could not be opened:
// one written by another schema version is rebuilt from its evidence.
func caseHint(stderr io.Writer, err error) {
	if errors.Is(err, timeline.ErrSchemaVersion) {
		fmt.Fprintln(stderr, "triage: hint: the case was written by another version of triage; run triage run --force on its evidence to rebuild it")
		return
	}
	fmt.Fprintln(stderr, "triage: hint: DIR is the --out folder of a triage run")
}

// settingFlags are the run flags that hold for a whole case: an --add that
// does not give them takes them from the case's latest run.
var settingFlags = []string{"case", "examiner", "tz", "business-hours"}

// checkAdd checks the --add flags and, for an --add, takes the case's
// settings that the command line does not give from the case's manifest.
// Sigma flags go together: an --add that gives any of them runs only the
// rules it names.
func (o *runOptions) checkAdd(fs *verbFlags) error {
	explicit := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { explicit[f.Name] = true })
	switch {
	case o.forceAdd && !o.add:
		return &usageError{msg: "--force-add goes with --add"}
	case !o.add:
		return nil
	case o.force:
		return &usageError{msg: "--add adds to the case in --out and --force replaces it: give one of them"}
	case !explicit["out"]:
		return &usageError{msg: "--add needs --out CASE, the case to add the evidence to"}
	}
	m, err := ingest.ReadManifest(filepath.Join(o.out, ingest.ManifestName))
	if err != nil || len(m.Runs) == 0 {
		return nil // opening the case says what is wrong with it
	}
	var prev runOptions
	pfs := newVerbFlags("run", "")
	prev.register(pfs)
	if err := pfs.Parse(m.Runs[len(m.Runs)-1].Settings); err != nil {
		return &usageError{msg: fmt.Sprintf("the case's settings in %s: %v", filepath.Join(o.out, ingest.ManifestName), err)}
	}
	for _, name := range settingFlags {
		if !explicit[name] {
			fs.Set(name, pfs.Lookup(name).Value.String())
		}
	}
	sigmaGiven := false
	fs.Visit(func(f *flag.Flag) { sigmaGiven = sigmaGiven || strings.HasPrefix(f.Name, "sigma") })
	if !sigmaGiven {
		o.sigma = prev.sigma
	}
	return nil
}

// settings are the case's settings as flags, for the manifest's runs: the
// Sigma paths made absolute, so that an --add from another folder finds
// them.
func (o *runOptions) settings() []string {
	out := []string{"--case=" + o.caseID, "--examiner=" + o.examiner, "--tz=" + o.tz, "--business-hours=" + o.businessHours}
	for _, p := range o.sigma.paths {
		out = append(out, "--sigma="+absClean(p))
	}
	out = append(out, "--sigma-min-level="+o.sigma.minLevel, "--sigma-status="+o.sigma.statuses)
	for _, e := range o.sigma.exclude {
		out = append(out, "--sigma-exclude="+e)
	}
	if o.sigma.placeholders != "" {
		out = append(out, "--sigma-placeholders="+absClean(o.sigma.placeholders))
	}
	return out
}

// readCase reads the manifest of the case an --add adds to, once its
// folder is locked, and checks that its timeline is one this version
// writes and that every run of it completed.
func readCase(out *ingest.Out) (*ingest.Manifest, error) {
	m, err := ingest.ReadManifest(out.Path(ingest.ManifestName))
	if err != nil {
		return nil, err
	}
	db, err := timeline.OpenReadOnly(out.Path(ingest.TimelineName))
	if err != nil {
		return nil, err
	}
	defer db.Close()
	status, detail, err := timeline.RunState(db)
	if err != nil {
		return nil, err
	}
	if status != timeline.RunComplete {
		return nil, fmt.Errorf("--out %s %w (%s: %s)", out.Dir, ingest.ErrCaseIncomplete, status, detail)
	}
	return m, nil
}

// startHistory records this run in the manifest's history; an --add starts
// from what the case holds, so that the manifest of one that fails still
// lists it.
func (r *run) startHistory() {
	rec := ingest.RunRecord{Kind: "run", Tool: r.m.Tool, CommandLine: r.m.CommandLine, Settings: r.o.settings(),
		Evidence: r.evidence, StartedUTC: r.m.StartedUTC, Status: timeline.RunInProgress}
	if r.prev == nil {
		r.m.Runs = []ingest.RunRecord{rec}
		return
	}
	p := r.prev
	rec.Kind = "add"
	r.m.Runs = append(append([]ingest.RunRecord{}, p.Runs...), rec)
	r.m.Evidence = append(append([]string{}, p.Evidence...), r.evidence...)
	r.m.Hosts, r.m.Artifacts, r.m.Skipped, r.m.SkippedByReason = p.Hosts, p.Artifacts, p.Skipped, p.SkippedByReason
	r.m.Images, r.m.EvidenceErrors, r.m.NotClean, r.m.Outputs = p.Images, p.EvidenceErrors, p.NotClean, p.Outputs
}

// mergeCase puts what the case held before this --add ahead of what the
// add found. Why the case is not clean is kept as each run said it.
func (r *run) mergeCase() {
	p := r.prev
	r.m.Hosts = append(append([]ingest.HostName{}, p.Hosts...), r.m.Hosts...)
	r.m.Artifacts = append(append([]ingest.Artifact{}, p.Artifacts...), r.m.Artifacts...)
	r.m.Skipped = append(append([]ingest.Skipped{}, p.Skipped...), r.m.Skipped...)
	r.m.Images = append(append([]ingest.Image{}, p.Images...), r.m.Images...)
	r.m.EvidenceErrors = append(append([]string{}, p.EvidenceErrors...), r.m.EvidenceErrors...)
	notClean := append([]string{}, p.NotClean...)
	for _, why := range r.m.NotClean {
		notClean = append(notClean, fmt.Sprintf("run %d (--add): %s", len(r.m.Runs), why))
	}
	r.m.NotClean = notClean
}

// writeManifest writes the manifest with this run's entry in its history
// brought up to date.
func (r *run) writeManifest() error {
	if n := len(r.m.Runs); n > 0 {
		last := &r.m.Runs[n-1]
		last.Status, last.StatusDetail, last.FinishedUTC = r.m.Status, r.m.StatusDetail, r.m.FinishedUTC
	}
	return r.m.Write(r.out.Path(ingest.ManifestName))
}

// openTimeline opens the timeline this run writes under its partial name.
// A run that makes a case creates it and records the run at once; an
// --add opens the case's and returns admitted, for the ingest to call
// once it has checked the evidence: only then is the case marked in
// progress, its timeline renamed to the partial name and the run recorded,
// so that evidence refused leaves the case as it was.
func (r *run) openTimeline() (db *sql.DB, admitted func() error, err error) {
	partial := r.out.Path(ingest.PartialTimelineName)
	start := func(db *sql.DB) error {
		return timeline.StartRun(db, timeline.Run{ToolVersion: r.m.Tool.Version, ToolCommit: r.m.Tool.Commit,
			GoVersion: r.m.Tool.GoVersion, CommandLine: r.m.CommandLine, Case: r.m.Case, Examiner: r.m.Examiner,
			TimeZone: r.m.TimeZone, BusinessHours: r.m.BusinessHours, Evidence: r.evidence, Started: r.m.StartedUTC,
			Add: r.prev != nil})
	}
	if r.prev == nil {
		// The manifest says in progress until the run ends: a run cut
		// short by a crash or a full disk leaves it so.
		if err := r.writeManifest(); err != nil {
			return nil, nil, err
		}
		if db, err = timeline.Create(partial); err != nil {
			return nil, nil, err
		}
		if err := start(db); err != nil {
			db.Close()
			return nil, nil, err
		}
		return db, nil, nil
	}
	if db, err = timeline.OpenAppend(r.out.Path(ingest.TimelineName)); err != nil {
		return nil, nil, err
	}
	admitted = func() error {
		// From the runs row on, the case records this run, and a failure
		// is recorded as this run's.
		r.admitted = true
		if err := start(db); err != nil {
			return err
		}
		if err := r.writeManifest(); err != nil {
			return err
		}
		// The open database follows the file: no journal sits beside it.
		return os.Rename(r.out.Path(ingest.TimelineName), partial)
	}
	return db, admitted, nil
}

// untouched reports an --add that stopped before it wrote anything into the
// case: what it would record as its end would overwrite the case's last run.
func (r *run) untouched() bool {
	return r.prev != nil && !r.admitted
}
