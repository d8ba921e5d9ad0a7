package main

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"sort"
	"sync"

	"triage/collectors"
	"triage/parsers/evtx"
	"triage/parsers/prefetch"
	"triage/parsers/textfile"
	"triage/timeline"
)

// parsed is what one artifact yields: its events as a stream, then its
// outcome once the stream is closed.
type parsed struct {
	artifact *collectors.Artifact
	row      timeline.Artifact
	hashed   chan struct{} // closed once row's hashes are set, before parsing starts
	batches  chan []timeline.Event
	batch    []timeline.Event // being filled by the parser
	done     chan struct{}    // closed once row's outcome is final
	stop     <-chan struct{}  // closed when the writer has given up
}

// Events cross to the writer in batches: a channel send per event cost more
// than the insert, and a per-artifact buffer of single events was most of
// the run's allocation.
const (
	batchLen    = 256
	batchBuffer = 4 // batches a parser may run ahead of the writer, per artifact
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
	if len(p.batch) == batchLen {
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
	p.batch = nil
}

// recycle clears a written batch, so the pool does not keep its events'
// data alive, and returns it to the pool.
func recycle(batch []timeline.Event) {
	clear(batch)
	batchPool.Put(batch[:0])
}

// ingest parses the artifacts in parallel and writes them in the given
// order from this goroutine, so ids are the same on every run. With
// indexEarly, for the last evidence root, it builds the timeline's indexes
// before the artifacts that follow the last event log.
func ingest(w *timeline.Writer, host string, artifacts []*collectors.Artifact, log *runLog, progress func(bytes int64, events int), indexEarly bool) ([]timeline.Artifact, error) {
	workers := runtime.GOMAXPROCS(0)
	jobs := make(chan *parsed)
	queue := make(chan *parsed, lookahead)
	// A writer error returns early; stop lets the producer and the parsers
	// exit instead of blocking on sends nobody will receive.
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		defer close(queue)
		defer close(jobs)
		for _, a := range artifacts {
			p := &parsed{artifact: a, hashed: make(chan struct{}), batches: make(chan []timeline.Event, batchBuffer),
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
			row, err := writeArtifact(w, p, host, log, progress)
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
		row, err := writeArtifact(w, p, host, log, progress)
		if err != nil {
			return rows, err
		}
		rows = append(rows, row)
		if i == early && i < len(artifacts)-1 {
			indexed = make(chan error, 1)
			go func() { indexed <- w.BuildIndexes() }()
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
	<-p.hashed
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
func writeArtifact(w *timeline.Writer, p *parsed, host string, log *runLog, progress func(bytes int64, events int)) (timeline.Artifact, error) {
	// The artifact row goes in before its events so they can refer to it;
	// its outcome is filled in once parsing is over.
	<-p.hashed
	row := timeline.Artifact{
		Host: host, EvidenceRoot: p.artifact.Root, Path: p.artifact.Path, Kind: string(p.artifact.Kind),
		Size: p.artifact.Size, ModTime: p.artifact.ModTime, SHA256: p.row.SHA256, MD5: p.row.MD5,
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
	row.Status, row.Records, row.Recovered, row.Errors, row.Flags = p.row.Status, p.row.Records, p.row.Recovered, p.row.Errors, p.row.Flags
	row.FirstRecord, row.LastRecord, row.MissingRecords = p.row.FirstRecord, p.row.LastRecord, p.row.MissingRecords
	if err := w.FinishArtifact(&row); err != nil {
		return row, err
	}
	log.Printf("parsed %s (%s): %d events, status %s, %d errors", row.Path, row.Kind, n, row.Status, len(row.Errors))
	for _, e := range row.Errors {
		log.Printf("  %s: %s", row.Path, e)
	}
	progress(row.Size, n)
	return row, nil
}

// parseArtifact hashes the artifact, then parses it, streaming events.
func parseArtifact(p *parsed, host string) {
	defer close(p.done)
	defer close(p.batches)
	defer p.flush()
	row := &p.row
	row.Status = "ok"
	row.Flags = map[string]any{}
	// One open serves both: the hash reads the file through, the parsers
	// read at offsets, and a second open per artifact cost more system
	// calls than the reads of a small one.
	f, err := p.artifact.Open()
	if err == nil {
		defer f.Close()
		row.SHA256, row.MD5, err = hashReader(f)
	}
	close(p.hashed)
	if err != nil {
		row.Status = "failed"
		row.Errors = append(row.Errors, "hash: "+err.Error())
		return
	}
	switch p.artifact.Kind {
	case collectors.EVTX:
		parseEVTX(p, f, host)
	case collectors.Prefetch:
		pf, err := prefetch.Parse(f, p.artifact.Size)
		if pf != nil && pf.Version != 0 {
			for _, e := range timeline.FromPrefetch(host, 0, pf) {
				p.emit(e)
				row.Records++
			}
		}
		if err != nil {
			row.Errors = append(row.Errors, err.Error())
			row.Status = statusFor(row.Records)
		}
	case collectors.History:
		t, err := textfile.NewReader(io.NewSectionReader(f, 0, p.artifact.Size))
		if err != nil {
			row.Status, row.Errors = "failed", append(row.Errors, err.Error())
			return
		}
		row.Flags["encoding"] = t.Encoding()
		cut := 0
		for line, err := range t.Lines() {
			if err != nil {
				row.Errors = append(row.Errors, err.Error())
				row.Status = statusFor(row.Records)
				break
			}
			if line.Part > 0 {
				cut++
			}
			p.emit(timeline.FromHistoryLine(host, 0, p.artifact.WinPath, p.artifact.ModTime, line.Number, line.Text))
			row.Records++
		}
		if cut > 0 {
			row.Flags["long_line_parts"] = cut
		}
	case collectors.Batch, collectors.Script:
		t, err := textfile.NewReader(io.NewSectionReader(f, 0, p.artifact.Size))
		if err != nil {
			row.Status, row.Errors = "failed", append(row.Errors, err.Error())
			return
		}
		row.Flags["encoding"] = t.Encoding()
		for piece, err := range t.Pieces() {
			if err != nil {
				row.Errors = append(row.Errors, err.Error())
				row.Status = statusFor(row.Records)
				break
			}
			p.emit(timeline.FromTextFile(host, 0, string(p.artifact.Kind), p.artifact.WinPath, p.artifact.ModTime,
				t.Encoding(), piece.Text, piece.LastLine-piece.FirstLine+1))
			row.Records++
		}
		if row.Records > 1 {
			row.Flags["pieces"] = row.Records
		}
	}
}

func statusFor(records int) string {
	if records > 0 {
		return "damaged"
	}
	return "failed"
}

func parseEVTX(p *parsed, f collectors.File, host string) {
	row := &p.row
	r, err := evtx.NewReader(f, p.artifact.Size)
	if err != nil {
		row.Status, row.Errors = "failed", append(row.Errors, err.Error())
		return
	}
	h := r.Header()
	row.Flags["dirty"], row.Flags["full"], row.Flags["no_crc"] = h.Dirty(), h.Full(), h.NoCRC()
	row.Flags["header_crc_ok"] = h.CRCValid
	var ids []int64
	for rec, err := range r.Records() {
		if err != nil {
			row.Errors = append(row.Errors, err.Error())
		}
		if rec == nil {
			continue
		}
		e := timeline.FromEVTX(host, 0, rec)
		p.emit(e)
		row.Records++
		if rec.Recovered {
			row.Recovered++
		} else {
			ids = append(ids, int64(rec.ID))
		}
	}
	st := r.Stats()
	row.Flags["crc_errors"], row.Flags["chunks"], row.Flags["empty_chunks"] = st.CRCErrors, st.Chunks, st.EmptyChunks
	row.Flags["bad_chunks"], row.Flags["truncated"] = st.BadChunks, st.Truncated
	recordGaps(row, ids)
	if len(row.Errors) > 0 {
		row.Status = statusFor(row.Records)
	}
}

// recordGaps notes the id range of the live records and how many ids in it
// are absent: a log that wraps keeps a contiguous range, so holes suggest
// records were removed.
func recordGaps(row *timeline.Artifact, ids []int64) {
	if len(ids) == 0 {
		return
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	first, last := ids[0], ids[len(ids)-1]
	row.FirstRecord, row.LastRecord = &first, &last
	distinct := int64(1)
	for i := 1; i < len(ids); i++ {
		if ids[i] != ids[i-1] {
			distinct++
		}
	}
	row.MissingRecords = last - first + 1 - distinct
}

// hashArtifact computes SHA-256 and MD5 of the artifact's bytes in one pass.
func hashArtifact(a *collectors.Artifact) (string, string, error) {
	f, err := a.Open()
	if err != nil {
		return "", "", err
	}
	defer f.Close()
	return hashReader(f)
}

// hashReader returns the SHA-256 and MD5 of everything r holds, read once.
func hashReader(r io.Reader) (string, string, error) {
	buf := hashBuffers.Get().(*[]byte)
	defer hashBuffers.Put(buf)
	s, m := sha256.New(), md5.New()
	for {
		n, err := r.Read(*buf)
		s.Write((*buf)[:n])
		m.Write((*buf)[:n])
		if err == io.EOF {
			break
		}
		if err != nil {
			return "", "", fmt.Errorf("read: %w", err)
		}
	}
	return hex.EncodeToString(s.Sum(nil)), hex.EncodeToString(m.Sum(nil)), nil
}

// hashBuffers hold 1 MiB reads: io.Copy's 32 KiB reads made a system call
// per 32 KiB of evidence, twice per artifact.
var hashBuffers = sync.Pool{New: func() any { b := make([]byte, 1<<20); return &b }}

// tuneGC trades memory for CPU while evidence is ingested, and returns the
// function that restores the previous settings. The EVTX decoder allocates
// many times its live heap, so at the default GOGC the collector ran every
// few megabytes and took a sixth of the ingest's CPU. The soft limit keeps
// the Go heap well inside the 512 MiB budget whatever the evidence. GOGC or
// GOMEMLIMIT in the environment leave the collector alone.
func tuneGC() (restore func()) {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return func() {}
	}
	percent := debug.SetGCPercent(400)
	limit := debug.SetMemoryLimit(384 << 20)
	return func() {
		debug.SetGCPercent(percent)
		debug.SetMemoryLimit(limit)
	}
}
