package ingest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strings"

	"triage/collectors"
	"triage/internal/gctune"
	"triage/internal/phases"
	"triage/timeline"
)

// Options control an ingest.
type Options struct {
	// Host names every evidence root's host that Names does not; empty
	// lets nameHosts name them: the events' Computer field, else the
	// root's folder name.
	Host string
	// Names names particular roots' hosts, by the root as given.
	Names map[string]string
	// Taken are the host names already in the case, which an automatic
	// name must not take: a root added to a case whose logs name a host
	// already in it is named by its folder.
	Taken []string
	// Collect bounds what opening a root may cost and says where
	// temporary copies of container entries go (under the output folder,
	// never beside the evidence).
	Collect collectors.Options
	// Logf receives the run log's lines; nil discards them.
	Logf func(format string, args ...any)
	// Progress is called after each artifact is written; nil for none.
	Progress func(Progress)
	// Append adds the roots to a case the timeline already holds: hosts
	// already in it are taken, and a root already in it is refused with an
	// InCaseError unless ForceAdd (see checkNotInCase).
	Append, ForceAdd bool
	// Admitted, when set, is called once every root is opened, named and
	// checked, before anything is written; an error from it ends the
	// ingest. A run that adds to a case marks the case in progress there,
	// so that evidence it refuses leaves the case as it was.
	Admitted func() error
	// BeforeRehash, when set, is called before any evidence is hashed
	// again: as the indexes start to build, or once every root is written.
	// Tests change the evidence there.
	BeforeRehash func()
	// EventsWritten, when set, is called for a new timeline with the
	// number of its events once every one is committed, before the
	// indexes are built and the scripts reassembled, with no transaction
	// open (timeline.Writer.CloseWith).
	EventsWritten func(events int64)

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
	Name       string
	NameSource NameSource
	NameDetail string // why the name is not the Computer field, when it is not
	Computer   string // the Computer field of the root's logs; "" when none
	Root       string
	Format     string // folder, zip, file or image
	// Artifacts are the rows written, in the order of the collector's
	// artifacts; after an interruption, the first of them only.
	Artifacts []timeline.Artifact
	Skipped   []collectors.Skipped
	Image     *Image // when the root is a disk image

	evidence *collectors.Evidence
	files    []*collectors.Artifact
	folder   string // the root's folder or file name, the host name of last resort
	path     string // the root's absolute path with links resolved
}

// Result is what an ingest wrote and what the end-of-run checks need.
type Result struct {
	// Hosts are the roots written, in order; after an interruption, those
	// begun only.
	Hosts []*Host
	// opened are the roots opened and named, which Close releases.
	opened []*Host
	// EvidenceErrors are the roots that could not be opened at all.
	EvidenceErrors []string

	// Spans are the spans of the timeline's events, kept as they were
	// written; nil for a timeline added to, which holds events from
	// before.
	Spans *timeline.EventSpans

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
	res := &Result{}
	// Every root is opened and named before any is written: a name taken
	// from the logs must be compared with every other root's first.
	for _, root := range roots {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		h, err := openRoot(root, o)
		if err != nil {
			o.Logf("error: evidence %s: %v", root, err)
			res.EvidenceErrors = append(res.EvidenceErrors, fmt.Sprintf("%s: %v", root, err))
			continue
		}
		res.opened = append(res.opened, h)
	}
	if o.Append {
		taken, err := timeline.HostNames(db)
		if err != nil {
			return res, err
		}
		o.Taken = append(o.Taken, taken...)
		if err := checkNotInCase(db, res.opened, o); err != nil {
			return res, err
		}
	}
	nameHosts(res.opened, o)
	if o.Admitted != nil {
		if err := o.Admitted(); err != nil {
			return res, err
		}
	}
	if err := timeline.AddHosts(db, timelineHosts(res.opened)); err != nil {
		return res, err
	}
	w, err := timeline.NewWriter(db)
	if err != nil {
		return res, err
	}
	var again *rehasher
	if !o.noRehash {
		again = startRehash(ctx, len(res.opened), o.BeforeRehash)
	}
	restoreGC := gctune.Trade(384 << 20) // the Go heap well inside the 512 MiB budget
	for i, h := range res.opened {
		if err := ctx.Err(); err != nil {
			break
		}
		res.Hosts = append(res.Hosts, h)
		if err := ingestRoot(ctx, w, h, o, i == len(res.opened)-1, again); err != nil {
			restoreGC()
			w.Abandon()
			if again != nil {
				again.stop()
			}
			return res, err
		}
		if again != nil {
			again.add(h)
		}
	}
	restoreGC()
	phases.Mark("roots written")
	var rehashed <-chan [][]rehash
	if again != nil {
		rehashed = again.finish()
	}
	if err := ctx.Err(); err != nil {
		if aerr := w.Abandon(); aerr != nil {
			return res, errors.Join(err, aerr)
		}
		return res, err
	}
	res.rehashed = rehashed
	res.Spans = w.Spans()
	return res, w.CloseWith(o.EventsWritten)
}

// openRoot opens one evidence root, reads the Computer field its logs give
// and, for a disk image, hashes the files it is made of.
func openRoot(root string, o Options) (*Host, error) {
	ev, err := collectors.OpenWith(root, o.Collect)
	if err != nil {
		return nil, err
	}
	h := &Host{Root: root, Format: ev.Format, Skipped: ev.Skipped, evidence: ev, files: ev.Artifacts,
		Computer: hostFromEvents(ev), folder: ev.HostHint, path: resolvedPath(root)}
	if ev.Image != nil {
		mi := describeImage(root, ev.Image)
		h.Image = &mi
	}
	return h, nil
}

// ingestRoot writes one opened evidence root; a write error or ctx gives
// the error, with h.Artifacts the rows written so far.
func ingestRoot(ctx context.Context, w *timeline.Writer, h *Host, o Options, last bool, again *rehasher) error {
	ev, root := h.evidence, h.Root
	if h.Image != nil {
		logImage(o.Logf, *h.Image)
	}
	o.Logf("evidence %s (%s): host %s (%s), %d artifacts, %d files not examined", root, ev.Format, h.Name, h.nameFrom(),
		len(ev.Artifacts), len(ev.Skipped))
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
			return err
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
	if again != nil {
		out.indexing = again.start
	}
	// Indexes built during an earlier root's ingest would make every
	// later root's inserts maintain them.
	var err error
	h.Artifacts, err = pipeline(ctx, out, h.Name, ev.Artifacts, last)
	return err
}

// DatedSpans are Spans.Dated, or nil without Spans.
func (r *Result) DatedSpans() map[string]timeline.Span {
	if r.Spans == nil {
		return nil
	}
	return r.Spans.Dated
}

// Close releases every root's evidence. The evidence stays open until
// then for the re-hash: an image's artifacts can only be read while the
// image is.
func (r *Result) Close() error {
	var errs []error
	for _, h := range r.opened {
		errs = append(errs, h.evidence.Close())
	}
	r.opened = nil
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
