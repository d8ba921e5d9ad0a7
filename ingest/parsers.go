package ingest

import (
	"cmp"
	"io"
	"math"
	"slices"

	"triage/collectors"
	"triage/parsers/evtx"
	"triage/parsers/prefetch"
	"triage/parsers/textfile"
	"triage/timeline"
)

// Artifact outcomes, as the artifacts table and the manifest state them.
const (
	statusOK      = "ok"      // parsed without error
	statusDamaged = "damaged" // parsed in part: some records, and errors saying where the rest was lost
	statusFailed  = "failed"  // nothing could be parsed
)

// source is one artifact handed to its parser: the opened file, where its
// events go, and whether the run has stopped wanting them.
type source struct {
	artifact *collectors.Artifact
	file     collectors.File
	host     string
	emit     func(timeline.Event)
	stopped  func() bool
}

// outcome is what parsing one artifact gave, besides its events.
type outcome struct {
	Status         string // statusOK, statusDamaged or statusFailed
	Records        int
	Recovered      int
	Errors         []string
	Flags          map[string]any
	FirstRecord    *int64
	LastRecord     *int64
	MissingRecords int64
}

// A parseFunc parses one artifact of its kind. It sets every field of the
// outcome it means: an outcome whose Status is empty is a bug, and is
// reported as failed.
type parseFunc func(src source) outcome

// parsers is the parser of each artifact kind. Every kind the collectors
// yield has an entry (TestEveryKindHasAParser); an artifact of a kind
// without one fails with that said, never passes as "ok, 0 records".
var parsers = map[collectors.Kind]parseFunc{
	collectors.EVTX:     parseEVTX,
	collectors.Prefetch: parsePrefetch,
	collectors.History:  parseHistory,
	collectors.Batch:    parseTextFile,
	collectors.Script:   parseTextFile,
}

// failed is the outcome of an artifact nothing could be read from.
func failed(err error) outcome {
	return outcome{Status: statusFailed, Errors: []string{err.Error()}, Flags: map[string]any{}}
}

// partial is statusDamaged when some records were read despite errors,
// statusFailed when none were.
func partial(records int) string {
	if records > 0 {
		return statusDamaged
	}
	return statusFailed
}

func parseEVTX(src source) outcome {
	r, err := evtx.NewReader(src.file, src.artifact.Size)
	if err != nil {
		return failed(err)
	}
	o := outcome{Status: statusOK, Flags: map[string]any{}}
	h := r.Header()
	o.Flags["dirty"], o.Flags["full"], o.Flags["no_crc"] = h.Dirty(), h.Full(), h.NoCRC()
	o.Flags["header_crc_ok"] = h.CRCValid
	var ids recordRuns
	for rec, err := range r.Records() {
		if err != nil {
			o.Errors = append(o.Errors, err.Error())
		}
		if rec == nil {
			continue
		}
		if src.stopped() {
			break
		}
		src.emit(timeline.FromEVTX(src.host, 0, rec))
		o.Records++
		if rec.Recovered {
			o.Recovered++
		} else {
			ids.add(int64(rec.ID))
		}
	}
	st := r.Stats()
	o.Flags["crc_errors"], o.Flags["chunks"], o.Flags["empty_chunks"] = st.CRCErrors, st.Chunks, st.EmptyChunks
	o.Flags["bad_chunks"], o.Flags["truncated"] = st.BadChunks, st.Truncated
	o.FirstRecord, o.LastRecord, o.MissingRecords = ids.gaps()
	if len(o.Errors) > 0 {
		o.Status = partial(o.Records)
	}
	return o
}

func parsePrefetch(src source) outcome {
	o := outcome{Status: statusOK, Flags: map[string]any{}}
	pf, err := prefetch.Parse(src.file, src.artifact.Size)
	if pf != nil && pf.Version != 0 {
		for _, e := range timeline.FromPrefetch(src.host, 0, pf) {
			src.emit(e)
			o.Records++
		}
	}
	if err != nil {
		o.Errors = append(o.Errors, err.Error())
		o.Status = partial(o.Records)
	}
	return o
}

// parseHistory gives one event per line of a PSReadLine history; a line
// longer than the reader's bound comes in parts, each its own event.
func parseHistory(src source) outcome {
	a := src.artifact
	t, err := textfile.NewReader(io.NewSectionReader(src.file, 0, a.Size))
	if err != nil {
		return failed(err)
	}
	o := outcome{Status: statusOK, Flags: map[string]any{"encoding": t.Encoding()}}
	parts := 0
	for line, err := range t.Lines() {
		if err != nil {
			o.Errors = append(o.Errors, err.Error())
			o.Status = partial(o.Records)
			break
		}
		if src.stopped() {
			break
		}
		if line.Part > 0 {
			parts++
		}
		src.emit(timeline.FromHistoryLine(src.host, 0, a.WinPath, a.ModTime, line.Number, line.Text))
		o.Records++
	}
	if parts > 0 {
		o.Flags["long_line_parts"] = parts
	}
	return o
}

// parseTextFile gives one event per piece of a batch file or script: one
// for a file of ordinary size, several of bounded size for a large one.
func parseTextFile(src source) outcome {
	a := src.artifact
	t, err := textfile.NewReader(io.NewSectionReader(src.file, 0, a.Size))
	if err != nil {
		return failed(err)
	}
	o := outcome{Status: statusOK, Flags: map[string]any{"encoding": t.Encoding()}}
	for piece, err := range t.Pieces() {
		if err != nil {
			o.Errors = append(o.Errors, err.Error())
			o.Status = partial(o.Records)
			break
		}
		if src.stopped() {
			break
		}
		src.emit(timeline.FromTextFile(src.host, 0, string(a.Kind), a.WinPath, a.ModTime,
			t.Encoding(), piece.Text, piece.LastLine-piece.FirstLine+1))
		o.Records++
	}
	if o.Records > 1 {
		o.Flags["pieces"] = o.Records
	}
	return o
}

// recordRuns are the ids of a log's live records as runs of consecutive
// ids: a log holds its records in id order, wrapping once when full, so a
// few runs stand for millions of records, where a list of the ids grew
// with the log (50 MB for a 4 GiB one).
type recordRuns struct {
	runs []idRun
	// merged is how many runs the last merge left, so that a log whose ids
	// are all scattered merges at doubling lengths, not at every id.
	merged int
}

type idRun struct{ lo, hi int64 }

func (r *recordRuns) add(id int64) {
	if n := len(r.runs); n > 0 && r.runs[n-1].hi < math.MaxInt64 && id == r.runs[n-1].hi+1 {
		r.runs[n-1].hi = id
		return
	}
	r.runs = append(r.runs, idRun{id, id})
	if len(r.runs) >= 2*r.merged+mergeRuns {
		r.merge()
	}
}

// mergeRuns is how many runs are added before they are merged again.
const mergeRuns = 4096

// merge sorts the runs and joins those that overlap or touch.
func (r *recordRuns) merge() {
	slices.SortFunc(r.runs, func(a, b idRun) int { return cmp.Compare(a.lo, b.lo) })
	out := r.runs[:0]
	for _, run := range r.runs {
		if n := len(out); n > 0 && (out[n-1].hi == math.MaxInt64 || run.lo <= out[n-1].hi+1) {
			out[n-1].hi = max(out[n-1].hi, run.hi)
			continue
		}
		out = append(out, run)
	}
	r.runs, r.merged = out, len(out)
}

// gaps gives the id range of the live records and how many ids in it are
// absent: a log that wraps keeps a contiguous range, so holes suggest
// records were removed.
func (r *recordRuns) gaps() (first, last *int64, missing int64) {
	if len(r.runs) == 0 {
		return nil, nil, 0
	}
	r.merge()
	lo, hi := r.runs[0].lo, r.runs[len(r.runs)-1].hi
	distinct := int64(0)
	for _, run := range r.runs {
		distinct += run.hi - run.lo + 1
	}
	return &lo, &hi, hi - lo + 1 - distinct
}
