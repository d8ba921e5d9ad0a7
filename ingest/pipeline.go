package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"strings"
	"sync"

	"triage/collectors"
	"triage/timeline"
)

// parsed is what one artifact yields: its events as a stream, then its
// outcome once the stream is closed.
type parsed struct {
	artifact *collectors.Artifact
	row      timeline.Artifact
	batches  chan []timeline.Event
	batch    []timeline.Event // being filled by the parser
	bytes    int              // text bytes held by batch
	done     chan struct{}    // closed once row's outcome is final
	stop     <-chan struct{}  // closed when the writer has given up
}

// stopped reports whether nobody will write p's events any more, so that a
// parser can give up early instead of parsing on to the end of a large file.
func (p *parsed) stopped() bool {
	select {
	case <-p.stop:
		return true
	default:
		return false
	}
}

// Events cross to the writer in batches: a channel send per event cost more
// than the insert, and a per-artifact buffer of single events was most of
// the run's allocation.
const (
	batchLen    = 256
	batchBuffer = 4 // batches a parser may run ahead of the writer, per artifact
	// batchBytes ends a batch early when its events hold this much text:
	// a script or history cut in 1 MiB pieces would otherwise put 256 MiB
	// in one batch.
	batchBytes = 4 << 20
)

// lookahead is how many artifacts the parsers may finish before the writer
// reaches them: a small log parsed early fits in its batch buffer, so the
// parsers keep both cores busy while the writer is on a large one. With the
// batch buffers it bounds the events held in memory to about 13,000, what
// the single-event channels held before.
const lookahead = 8

// batchPool recycles batches between the writer and the parsers.
var batchPool = sync.Pool{New: func() any { return make([]timeline.Event, 0, batchLen) }}

// emit encodes an event's data on the calling parser goroutine, so the
// single writer only binds and inserts, then queues it for the writer. An
// encoding failure is left for AddEvents to report.
func (p *parsed) emit(e timeline.Event) {
	e.Encode()
	if p.batch == nil {
		p.batch = batchPool.Get().([]timeline.Event)
	}
	p.batch = append(p.batch, e)
	p.bytes += e.TextSize()
	if len(p.batch) == batchLen || p.bytes >= batchBytes {
		p.flush()
	}
}

func (p *parsed) flush() {
	if len(p.batch) > 0 {
		select {
		case p.batches <- p.batch:
		case <-p.stop: // nobody will write it: the parser finishes and exits
		}
	}
	p.batch, p.bytes = nil, 0
}

// recycle clears a written batch, so the pool does not keep its events'
// data alive, and returns it to the pool.
func recycle(batch []timeline.Event) {
	clear(batch)
	batchPool.Put(batch[:0])
}

// writer is what the pipeline needs from the run: the timeline, the log and
// the progress callback.
type writer struct {
	w        *timeline.Writer
	logf     func(format string, args ...any)
	progress func(bytes int64, events int)
	indexing func() // called as the indexes start to build, if set
}

// pipeline parses the artifacts in parallel and writes them in the given
// order from this goroutine, so ids are the same on every run. With
// indexEarly, for the last evidence root, it builds the timeline's indexes
// before the artifacts that follow the last event log. It returns early
// with ctx's error once ctx is done, the rows written so far with it.
func pipeline(ctx context.Context, out writer, host string, artifacts []*collectors.Artifact, indexEarly bool) ([]timeline.Artifact, error) {
	w := out.w
	workers := runtime.GOMAXPROCS(0)
	jobs := make(chan *parsed)
	queue := make(chan *parsed, lookahead)
	// A writer error or ctx returns early; stop lets the producer and the
	// parsers exit instead of blocking on sends nobody will receive.
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		defer close(queue)
		defer close(jobs)
		for _, a := range artifacts {
			p := &parsed{artifact: a, batches: make(chan []timeline.Event, batchBuffer),
				done: make(chan struct{}), stop: stop}
			select {
			case queue <- p:
			case <-stop:
				return
			}
			select {
			case jobs <- p:
			case <-stop:
				return
			}
		}
	}()
	for i := 0; i < workers; i++ {
		go func() {
			for p := range jobs {
				parseArtifact(p, host)
			}
		}()
	}
	// Once the last event log is written, the indexes are built on another
	// goroutine while the artifacts after it, mostly prefetch files whose
	// decompression is much of the parsing but which hold few events, are
	// parsed. Those parsed meanwhile are held here, since the writer's
	// connection is the index build's until it ends, and written after it.
	// Close would otherwise build the indexes on one core after the last
	// insert, with the other idle.
	early := -1
	if indexEarly {
		for i, a := range artifacts {
			if a.Kind == collectors.EVTX {
				early = i
			}
		}
	}
	var indexed chan error
	var held []*parsed
	var rows []timeline.Artifact
	// flush waits for the index build and writes what was held meanwhile.
	flush := func() error {
		err := <-indexed
		indexed = nil
		if err != nil {
			return err
		}
		for _, p := range held {
			if err := ctx.Err(); err != nil {
				return err
			}
			row, err := writeArtifact(out, p, host)
			if err != nil {
				return err
			}
			rows = append(rows, row)
		}
		held = nil
		return nil
	}
	i := 0
	for p := range queue {
		if indexed != nil {
			// Hold only while the build runs, so memory stays bounded by
			// what is parsed in that time, not by what follows.
			if len(indexed) == 0 {
				hold(p)
				held = append(held, p)
				continue
			}
			if err := flush(); err != nil {
				return rows, err
			}
		}
		if err := ctx.Err(); err != nil {
			return rows, err
		}
		row, err := writeArtifact(out, p, host)
		if err != nil {
			return rows, err
		}
		rows = append(rows, row)
		if i == early && i < len(artifacts)-1 {
			indexed = make(chan error, 1)
			go func() { indexed <- w.BuildIndexes() }()
			if out.indexing != nil {
				out.indexing()
			}
		}
		i++
	}
	if indexed != nil {
		if err := flush(); err != nil {
			return rows, err
		}
	}
	return rows, nil
}

// hold waits for p to be parsed and keeps its batches for writeArtifact.
func hold(p *parsed) {
	var batches [][]timeline.Event
	for batch := range p.batches {
		batches = append(batches, batch)
	}
	<-p.done
	p.batches = make(chan []timeline.Event, len(batches))
	for _, batch := range batches {
		p.batches <- batch
	}
	close(p.batches)
}

// writeArtifact writes p's artifact row, then its events as they are
// parsed, then its outcome.
func writeArtifact(out writer, p *parsed, host string) (timeline.Artifact, error) {
	w := out.w
	// The artifact row goes in before its events so they can refer to it;
	// its hashes and outcome are filled in once parsing and hashing are
	// over. Until then the hashes are dashes of their length, which no one
	// can take for a hash, and the update leaves the row its size.
	row := timeline.Artifact{
		Host: host, EvidenceRoot: p.artifact.Root, Path: p.artifact.Path, Kind: string(p.artifact.Kind),
		Size: p.artifact.Size, ModTime: p.artifact.ModTime, SHA256: pendingSHA256, MD5: pendingMD5,
	}
	id, err := w.AddArtifact(&row)
	if err != nil {
		return row, err
	}
	n := 0
	for batch := range p.batches {
		for i := range batch {
			batch[i].ArtifactID = id
		}
		if err := w.AddEvents(batch); err != nil {
			return row, err
		}
		n += len(batch)
		recycle(batch)
	}
	<-p.done
	row.SHA256, row.MD5 = p.row.SHA256, p.row.MD5
	row.Status, row.Records, row.Recovered, row.Errors, row.Flags = p.row.Status, p.row.Records, p.row.Recovered, p.row.Errors, p.row.Flags
	row.FirstRecord, row.LastRecord, row.MissingRecords = p.row.FirstRecord, p.row.LastRecord, p.row.MissingRecords
	if err := w.FinishArtifact(&row); err != nil {
		return row, err
	}
	out.logf("parsed %s (%s): %d events, status %s, %d errors", row.Path, row.Kind, n, row.Status, len(row.Errors))
	for _, e := range row.Errors {
		out.logf("  %s: %s", row.Path, e)
	}
	out.progress(row.Size, n)
	return row, nil
}

// parseArtifact hashes the artifact and parses it through its kind's entry
// in the parser table, streaming events. A file of the file system is
// hashed on another goroutine while it is parsed (each reads it at its own
// offsets, so neither waits for the other); other artifacts, such as a zip
// entry read through one inflater, are hashed before they are parsed. An
// artifact that cannot be read through for hashing is failed, whatever its
// parser gave: its events, if any, stay in the timeline, but the run is not
// clean.
func parseArtifact(p *parsed, host string) {
	defer close(p.done)
	defer close(p.batches)
	defer p.flush()
	row := &p.row
	// One open serves both: the hash reads the file through, the parsers
	// read at offsets, and a second open per artifact cost more system
	// calls than the reads of a small one.
	f, err := p.artifact.Open()
	if err != nil {
		hashFailure(row, err)
		return
	}
	defer f.Close()
	var hashed chan digest
	if _, ok := f.(*os.File); ok {
		hashed = make(chan digest, 1)
		go func() {
			// A reader of its own: the parsers read f at offsets too.
			var d digest
			d.sha256, d.md5, d.err = hashReader(stoppable{io.NewSectionReader(f, 0, math.MaxInt64), p})
			hashed <- d
		}()
	} else {
		var d digest
		if d.sha256, d.md5, d.err = hashReader(f); d.err != nil {
			hashFailure(row, d.err)
			return
		}
		row.SHA256, row.MD5 = d.sha256, d.md5
	}
	parseOpened(p, f, host)
	if hashed != nil {
		d := <-hashed
		if d.err != nil {
			hashFailure(row, d.err)
			return
		}
		row.SHA256, row.MD5 = d.sha256, d.md5
	}
}

// stoppable ends a hash once nobody will write the artifact, so that an
// interrupted run does not read a large log to its end first.
type stoppable struct {
	r io.Reader
	p *parsed
}

func (s stoppable) Read(b []byte) (int, error) {
	if s.p.stopped() {
		return 0, errStopped
	}
	return s.r.Read(b)
}

var errStopped = errors.New("the run stopped")

// hashFailure marks an artifact that could not be read through for hashing
// as failed, with the hash error first among its errors.
func hashFailure(row *timeline.Artifact, err error) {
	row.Status = statusFailed
	row.Errors = append([]string{hashFailed + err.Error()}, row.Errors...)
	if row.Flags == nil {
		row.Flags = map[string]any{}
	}
}

// parseOpened parses the opened artifact and records its outcome in p.row.
func parseOpened(p *parsed, f collectors.File, host string) {
	row := &p.row
	parse, ok := parsers[p.artifact.Kind]
	if !ok {
		row.Status = statusFailed
		row.Errors = []string{fmt.Sprintf("ingest: no parser for artifact kind %q", p.artifact.Kind)}
		row.Flags = map[string]any{}
		return
	}
	o := parse(source{artifact: p.artifact, file: f, host: host, emit: p.emit, stopped: p.stopped})
	row.Status, row.Records, row.Recovered, row.Errors, row.Flags = o.Status, o.Records, o.Recovered, o.Errors, o.Flags
	row.FirstRecord, row.LastRecord, row.MissingRecords = o.FirstRecord, o.LastRecord, o.MissingRecords
	if row.Flags == nil {
		row.Flags = map[string]any{}
	}
	if row.Status == "" {
		row.Status = statusFailed
		row.Errors = append(row.Errors, fmt.Sprintf("ingest: the %s parser gave no outcome", p.artifact.Kind))
	}
	// Damage to the container (a zip entry whose CRC-32 or size is not as
	// stored) is known only once the entry has been read through.
	if problems := p.artifact.Problems(); len(problems) > 0 {
		row.Errors = append(row.Errors, problems...)
		if row.Status == statusOK {
			row.Status = statusDamaged
		}
	}
}

// The hashes of an artifact row while its artifact is being hashed.
var pendingSHA256, pendingMD5 = strings.Repeat("-", 64), strings.Repeat("-", 32)

// hashFailed starts the error of an artifact that could not be read for
// hashing: such an artifact was not examined at all.
const hashFailed = "hash: "
