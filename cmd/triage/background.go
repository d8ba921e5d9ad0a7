package main

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"sort"
	"time"

	"triage/ingest"
	"triage/internal/phases"
	"triage/report"
	"triage/timeline"
)

// backgroundCSV reads what needs only the events and artifacts, which are
// final once the ingest is done, beside the analyzers and the report:
// timeline.csv when asked for, which it hashes for the manifest, then the
// summary's event spans. On a 30-host fleet those were a quarter of a
// run's time, on one core after everything else.
type backgroundCSV struct {
	backgroundTask
	// quiet is closed once nothing writes to the timeline any more; nil
	// when the timeline is shared (timeline.Share), whose writer does not
	// wait for its readers.
	quiet   chan struct{}
	written bool          // timeline.csv is written, once done gave nil
	hash    ingest.Output // timeline.csv as written
	spans   map[[2]string][2]string
}

// startTimelineCSV reads the timeline at dbPath through a read-only
// connection of its own: timeline.csv into outDir when writeCSV is set,
// then the summary's spans when readSpans is.
func startTimelineCSV(ctx context.Context, dbPath, outDir string, loc *time.Location, writeCSV, readSpans, shared bool) *backgroundCSV {
	ctx, cancel := context.WithCancel(ctx)
	b := &backgroundCSV{backgroundTask: newBackgroundTask(cancel)}
	if !shared {
		b.quiet = make(chan struct{})
	}
	if !writeCSV && !readSpans {
		b.done <- nil
		return b
	}
	go func() {
		db, err := timeline.OpenReadOnly(dbPath)
		if err == nil {
			// The CSV walks the events in time order, not in the order
			// they are stored: a cache of 16 MiB holds the pages of every
			// artifact a stretch of time draws on, even across 30 hosts,
			// where the run's own 64 MiB would add that much to its peak
			// RSS, beside the analyzers'.
			_, err = db.Exec(`PRAGMA cache_size = -16384`)
		}
		if err == nil && writeCSV {
			err = report.WriteTimelineCSV(ctx, db, outDir, loc)
			if err == nil {
				var hashed []ingest.Output
				if hashed, err = ingest.HashOutputs(outDir, []string{report.TimelineCSVName}); err == nil {
					b.hash, b.written = hashed[0], true
				}
			}
		}
		// The spans are one statement over every event, which, unless the
		// timeline is shared, would hold its read lock past the writers'
		// busy timeout: it waits for them to be done.
		if err == nil && readSpans && b.quiet != nil {
			select {
			case <-b.quiet:
			case <-ctx.Done():
				err = ctx.Err()
			}
		}
		if err == nil && readSpans {
			b.spans, err = eventSpans(db)
		}
		if db != nil {
			db.Close()
		}
		b.done <- err
	}()
	return b
}

// writesDone says that nothing writes to the timeline any more.
func (b *backgroundCSV) writesDone() {
	if b.quiet != nil {
		close(b.quiet)
	}
}

// stop gives up on timeline.csv unless it is written already, and returns
// once nothing is being written any more.
func (b *backgroundCSV) stop() {
	if b != nil {
		b.backgroundTask.stop()
	}
}

// backgroundTask is work on a goroutine of its own that sends its result
// on done once, and that cancel stops.
type backgroundTask struct {
	cancel context.CancelFunc
	done   chan error
	ended  bool
	err    error
}

func newBackgroundTask(cancel context.CancelFunc) backgroundTask {
	return backgroundTask{cancel: cancel, done: make(chan error, 1)}
}

// ready reports, without waiting, whether wait would return at once: the
// work is over and its connection closed.
func (t *backgroundTask) ready() bool {
	if t.ended {
		return true
	}
	select {
	case t.err = <-t.done:
		t.ended = true
		t.cancel()
		return true
	default:
		return false
	}
}

// wait returns the work's result once it is over; a backgroundCSV's
// must follow writesDone.
func (t *backgroundTask) wait() error {
	if !t.ended {
		t.err, t.ended = <-t.done, true
		t.cancel()
	}
	return t.err
}

// stop gives the work up unless it is over, and returns once it is.
func (t *backgroundTask) stop() {
	if !t.ended {
		t.cancel()
		t.wait()
	}
}

// backgroundFullText builds the timeline's full-text indexes into a
// database of their own beside the analyzers (timeline.BuildFullText), for
// add to copy into the timeline once they have written.
type backgroundFullText struct {
	backgroundTask
	path string // the database being built, under the run's temporary folder
}

// startFullText starts building the full-text indexes of the timeline at
// dbPath into a new database at path, the scripts' once scripts, if not
// nil, is closed. On a nil *backgroundFullText, add and stop do nothing.
func startFullText(ctx context.Context, dbPath, path string, scripts <-chan struct{}) *backgroundFullText {
	ctx, cancel := context.WithCancel(ctx)
	b := &backgroundFullText{backgroundTask: newBackgroundTask(cancel), path: path}
	go func() {
		b.done <- timeline.BuildFullText(ctx, dbPath, path, scripts)
	}()
	return b
}

// add waits for the build and copies the indexes into db.
func (b *backgroundFullText) add(ctx context.Context, db *sql.DB) error {
	if b == nil {
		return nil
	}
	if err := b.wait(); err != nil {
		return err
	}
	phases.Mark("full-text indexes built aside")
	err := timeline.AddFullText(ctx, db, b.path)
	if rerr := os.Remove(b.path); err == nil {
		err = rerr
	}
	phases.Mark("full-text indexes added")
	return err
}

// stop gives the build up and returns once its connection is closed.
func (b *backgroundFullText) stop() {
	if b != nil {
		b.backgroundTask.stop()
	}
}

// backgroundPrepare reads what the report's case page takes from the
// events and the scripts alone (report.Prepare) beside the analyzers, on a
// read-only connection of its own.
type backgroundPrepare struct {
	done     chan struct{}
	prepared *report.Prepared
	err      error
}

// startPrepare starts reading, with the report's zone loc, from the
// timeline at dbPath; with start unset it does nothing, and wait gives nil.
func startPrepare(dbPath string, loc *time.Location, start bool) *backgroundPrepare {
	if !start {
		return nil
	}
	b := &backgroundPrepare{done: make(chan struct{})}
	go func() {
		defer close(b.done)
		db, err := timeline.OpenReadOnly(dbPath)
		if err == nil {
			// The case's charts and fleet view read the process starts
			// once, in time order: the run's own cache holds the rest.
			if _, err = db.Exec(`PRAGMA cache_size = -16384`); err == nil {
				b.prepared, err = report.Prepare(db, report.Options{Location: loc})
			}
			db.Close()
		}
		b.err = err
	}()
	return b
}

// wait returns once the reading is over and its connection closed, with
// what it read, or nil and why not.
func (b *backgroundPrepare) wait() (*report.Prepared, error) {
	if b == nil {
		return nil, nil
	}
	<-b.done
	return b.prepared, b.err
}

// backgroundHash hashes a finished output while the report is rendered.
type backgroundHash struct {
	before os.FileInfo
	done   chan struct{}
	out    ingest.Output
	err    error
}

// hashInBackground starts hashing the file at path, named name in the
// manifest. The file is opened before it returns, so that it may be
// renamed at once.
func hashInBackground(path, name string) *backgroundHash {
	b := &backgroundHash{done: make(chan struct{}), out: ingest.Output{Path: name}}
	f, err := os.Open(path)
	if err == nil {
		if b.before, err = f.Stat(); err != nil {
			f.Close()
		}
	}
	if b.err = err; err != nil {
		close(b.done)
		return b
	}
	go func() {
		defer close(b.done)
		defer f.Close()
		b.out.SHA256, b.out.Size, b.err = ingest.HashReader(f)
	}()
	return b
}

// result waits for the hash of the file now at path (renamed since, it may
// be). Should the file have changed size or time since the hash started,
// it is hashed again: the manifest states the file as it is left.
func (b *backgroundHash) result(path string) (ingest.Output, error) {
	<-b.done
	if b.err != nil {
		return b.out, b.err
	}
	after, err := os.Stat(path)
	if err != nil {
		return b.out, err
	}
	if after.Size() != b.before.Size() || !after.ModTime().Equal(b.before.ModTime()) {
		b.out.SHA256, b.out.Size, err = ingest.HashFile(path)
	}
	return b.out, err
}

// hashOutputs hashes the outputs named, relative to dir, but for those in
// hashed already, and lists them all in path order.
func hashOutputs(dir string, names []string, hashed ...ingest.Output) ([]ingest.Output, error) {
	have := map[string]bool{}
	for _, h := range hashed {
		have[h.Path] = true
	}
	var rest []string
	for _, n := range names {
		if !have[filepath.ToSlash(n)] {
			rest = append(rest, n)
		}
	}
	out, err := ingest.HashOutputs(dir, rest)
	if err != nil {
		return out, err
	}
	out = append(out, hashed...)
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}
