package ingest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"triage/collectors"
	"triage/parsers/evtx"
	"triage/timeline"
)

// Options control an ingest.
type Options struct {
	// Host names every evidence root's host; empty takes it from the
	// events' Computer field, else from the root's name.
	Host string
	// Collect bounds what opening a root may cost and says where
	// temporary copies of container entries go (under the output folder,
	// never beside the evidence).
	Collect collectors.Options
	// Logf receives the run log's lines; nil discards them.
	Logf func(format string, args ...any)
	// Progress is called after each artifact is written; nil for none.
	Progress func(Progress)
	// BeforeRehash, when set, is called once every root is written and
	// before the evidence is hashed again. Tests change the evidence there.
	BeforeRehash func()

	// noRehash leaves the second hashing out, for the benchmark, which
	// times what the ingest costs before the analyzers start.
	noRehash bool
}

// Progress is how far the ingest of one host has come.
type Progress struct {
	Host              string
	Artifact          int // artifacts written so far, of Artifacts
	Artifacts         int
	Bytes, TotalBytes int64 // artifact bytes written so far, of TotalBytes
	Events            int   // events written so far
}

// Host is one evidence root as ingested.
type Host struct {
	Name   string
	Root   string
	Format string // folder, zip, file or image
	// Artifacts are the rows written, in the order of the collector's
	// artifacts; after an interruption, the first of them only.
	Artifacts []timeline.Artifact
	Skipped   []collectors.Skipped
	Image     *Image // when the root is a disk image

	evidence *collectors.Evidence
	files    []*collectors.Artifact
}

// Result is what an ingest wrote and what the end-of-run checks need.
type Result struct {
	Hosts []*Host
	// EvidenceErrors are the roots that could not be opened at all.
	EvidenceErrors []string

	rehashed <-chan [][]rehash
	verified []Artifact
}

// Ingest opens each evidence root, writes its artifacts, events and
// skipped files into db, builds the timeline's indexes, and starts hashing
// the evidence again in the background for Verify. When ctx is done it
// stops between artifacts, commits what is written without building the
// indexes, and returns ctx's error with the Result so far. The caller
// closes the Result, which releases the evidence, once Verify has run.
func Ingest(ctx context.Context, db *sql.DB, roots []string, o Options) (*Result, error) {
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
	if o.Progress == nil {
		o.Progress = func(Progress) {}
	}
	w, err := timeline.NewWriter(db)
	if err != nil {
		return nil, err
	}
	res := &Result{}
	restoreGC := tuneGC()
	for i, root := range roots {
		if err := ctx.Err(); err != nil {
			break
		}
		h, err := ingestRoot(ctx, w, root, o, i == len(roots)-1)
		if h != nil {
			res.Hosts = append(res.Hosts, h)
		}
		if err != nil && h == nil {
			o.Logf("error: evidence %s: %v", root, err)
			res.EvidenceErrors = append(res.EvidenceErrors, fmt.Sprintf("%s: %v", root, err))
			continue
		}
		if err != nil {
			restoreGC()
			w.Abandon()
			return res, err
		}
	}
	restoreGC()
	if err := ctx.Err(); err != nil {
		if aerr := w.Abandon(); aerr != nil {
			return res, errors.Join(err, aerr)
		}
		return res, err
	}
	// The second hashing reads only the evidence, so it overlaps the index
	// builds and the analyzers, which read only the timeline.
	if !o.noRehash {
		res.rehashed = rehashInBackground(ctx, res.Hosts, o.BeforeRehash)
	}
	if err := w.Close(); err != nil {
		return res, err
	}
	return res, nil
}

// ingestRoot opens and writes one evidence root. A root that cannot be
// opened gives a nil Host and the error; a write error or ctx gives the
// Host so far and the error.
func ingestRoot(ctx context.Context, w *timeline.Writer, root string, o Options, last bool) (*Host, error) {
	ev, err := collectors.OpenWith(root, o.Collect)
	if err != nil {
		return nil, err
	}
	h := &Host{Name: o.Host, Root: root, Format: ev.Format, Skipped: ev.Skipped, evidence: ev, files: ev.Artifacts}
	if ev.Image != nil {
		mi := describeImage(root, ev.Image)
		logImage(o.Logf, mi)
		h.Image = &mi
	}
	if h.Name == "" {
		h.Name = hostFromEvents(ev)
	}
	o.Logf("evidence %s (%s): host %s, %d artifacts, %d files not examined", root, ev.Format, h.Name, len(ev.Artifacts), len(ev.Skipped))
	// Files that are not artifacts are the many (an image holds hundreds
	// of thousands): they are counted here and listed in the manifest and
	// the skipped table, not logged one by one.
	notArtifacts := 0
	for _, s := range ev.Skipped {
		switch {
		case s.Reason == collectors.SkipNotArtifact:
			notArtifacts++
		case lost(s.Reason):
			o.Logf("error: not examined: %s", s)
		default:
			o.Logf("not examined: %s", s)
		}
		err := w.AddSkipped(timeline.Skipped{Host: h.Name, EvidenceRoot: root, Path: s.Path, Size: s.Size,
			Reason: string(s.Reason), Detail: s.Detail})
		if err != nil {
			return h, err
		}
	}
	if notArtifacts > 0 {
		o.Logf("evidence %s: %d files of kinds not examined", root, notArtifacts)
	}
	p := Progress{Host: h.Name, Artifacts: len(ev.Artifacts)}
	for _, a := range ev.Artifacts {
		p.TotalBytes += a.Size
	}
	out := writer{w: w, logf: o.Logf, progress: func(n int64, events int) {
		p.Artifact++
		p.Bytes += n
		p.Events += events
		o.Progress(p)
	}}
	// Indexes built during an earlier root's ingest would make every
	// later root's inserts maintain them.
	h.Artifacts, err = pipeline(ctx, out, h.Name, ev.Artifacts, last)
	return h, err
}

// Close releases every root's evidence. The evidence stays open until
// then for the re-hash: an image's artifacts can only be read while the
// image is.
func (r *Result) Close() error {
	var errs []error
	for _, h := range r.Hosts {
		errs = append(errs, h.evidence.Close())
	}
	return errors.Join(errs...)
}

// Readable counts the artifacts that gave anything.
func (r *Result) Readable() int {
	n := 0
	for _, h := range r.Hosts {
		for _, a := range h.Artifacts {
			if a.Status != statusFailed {
				n++
			}
		}
	}
	return n
}

// Skipped lists every file not examined, over all roots, in order.
func (r *Result) Skipped() []Skipped {
	out := []Skipped{}
	for _, h := range r.Hosts {
		for _, s := range h.Skipped {
			out = append(out, Skipped{Host: h.Name, EvidenceRoot: h.Root, Path: s.Path, Size: s.Size,
				Reason: string(s.Reason), Detail: s.Detail})
		}
	}
	return out
}

// Images lists the disk images among the roots.
func (r *Result) Images() []Image {
	var out []Image
	for _, h := range r.Hosts {
		if h.Image != nil {
			out = append(out, *h.Image)
		}
	}
	return out
}

// lost reports whether a file skipped for reason held something the run
// was pointed at but could not read: such a run is not clean. Files that
// are not artifacts, links and special files are left out by design.
func lost(reason collectors.SkipReason) bool {
	switch reason {
	case collectors.SkipNotArtifact, collectors.SkipSymlink, collectors.SkipSpecial:
		return false
	}
	return true
}

// NotClean says, in a line each, why a run that has been verified is not
// clean: files or artifacts it could not read, roots it could not open,
// evidence that changed while it was read, images whose stored hashes do
// not match. It is empty for a clean run.
func (r *Result) NotClean() []string {
	var out []string
	lostBy := map[string]int{}
	lostAll := 0
	for _, h := range r.Hosts {
		for _, s := range h.Skipped {
			if lost(s.Reason) {
				lostBy[string(s.Reason)]++
				lostAll++
			}
		}
	}
	if lostAll > 0 {
		out = append(out, fmt.Sprintf("%d files could not be examined (%s)", lostAll, byReason(lostBy)))
	}
	unread := 0
	for _, h := range r.Hosts {
		for _, a := range h.Artifacts {
			if a.Status == statusFailed && len(a.Errors) > 0 && strings.HasPrefix(a.Errors[0], hashFailed) {
				unread++
			}
		}
	}
	if unread > 0 {
		out = append(out, fmt.Sprintf("%d artifacts could not be read", unread))
	}
	if n := len(r.EvidenceErrors); n > 0 {
		out = append(out, fmt.Sprintf("%d evidence roots could not be opened", n))
	}
	changed := 0
	for _, a := range r.verified {
		if a.IntegrityError != "" {
			changed++
		}
	}
	if changed > 0 {
		out = append(out, fmt.Sprintf("INTEGRITY: %d artifacts changed during the run or could not be hashed again", changed))
	}
	for _, im := range r.Images() {
		if im.Verified != nil && !*im.Verified {
			out = append(out, fmt.Sprintf("INTEGRITY: image %s: stored hashes do not match", im.EvidenceRoot))
		}
	}
	return out
}

// byReason renders counts as "2 unreadable, 1 too-large", by reason name.
func byReason(n map[string]int) string {
	reasons := make([]string, 0, len(n))
	for r := range n {
		reasons = append(reasons, r)
	}
	sort.Strings(reasons)
	parts := make([]string, len(reasons))
	for i, r := range reasons {
		parts[i] = fmt.Sprintf("%d %s", n[r], r)
	}
	return strings.Join(parts, ", ")
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
