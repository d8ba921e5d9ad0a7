package analyzers

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"io"
	"iter"
	"strings"
	"sync"

	"triage/timeline"
)

// The analyzers read the process starts and prefetch runs as streams in id
// order, a chunk of rows at a time, instead of holding every one of them:
// a timeline of millions of starts then costs the analyzers what one chunk
// and their findings cost. A chunk's statement is closed before its rows
// are handed on, so that the code reading a stream may query the timeline
// itself (the timeline's database has one connection).
//
// Each stream is read through an index that gives its rows in id order
// (events_process, or events_event_id with the source and event id fixed),
// so that no chunk needs a sort: the unary + in a condition keeps SQLite
// from choosing another index for it.

// The bounds of the streams; variables so that a test can take each path.
var (
	// chunkRows is how many events the cursors of one stream read at a
	// time, together, and minChunkRows the fewest one cursor reads.
	chunkRows, minChunkRows = 8192, 256
	// maxPathCursors is how many image paths a stream reads through the
	// process index, one cursor each; more are read through the event id
	// index and filtered by SQLite.
	maxPathCursors = 32
	// maxPaths bounds the distinct image paths of a set of events the
	// analyzers keep in memory to choose events by image name; past it,
	// the events are filtered in Go alone.
	maxPaths = 50_000
)

const eventColumns = `id, artifact_id, ts, host, source, event_id, level, process, parent_process,
	command_line, script_block_id, user, channel, provider, data`

// eventSet is a kind of event the analyzers stream: process starts or
// prefetch run times.
type eventSet struct {
	name      string
	where     string                   // the events of the set
	unindexed string                   // where, with its terms kept off the indexes
	kinds     func(in *Input) []string // conditions that together are where, each answered in id order by the event id index
}

// starts are the process starts (see processEvents), of two kinds.
var starts = &eventSet{
	name:  "starts",
	where: processEvents,
	unindexed: `((+source='` + timeline.SourceEVTX + `' AND +event_id=4688 AND +provider='` + timeline.ProviderSecurity + `')
	OR (+source='` + timeline.SourceEVTX + `' AND +event_id=1 AND +provider='` + timeline.ProviderSysmon + `'))`,
	kinds: func(*Input) []string {
		return []string{
			`source='` + timeline.SourceEVTX + `' AND event_id=4688 AND provider='` + timeline.ProviderSecurity + `'`,
			`source='` + timeline.SourceEVTX + `' AND event_id=1 AND provider='` + timeline.ProviderSysmon + `'`,
		}
	},
}

// prefetch are the prefetch run times, one kind per event id they carry.
var prefetch = &eventSet{
	name:      "prefetch",
	where:     `source='` + timeline.SourcePrefetch + `'`,
	unindexed: `+source='` + timeline.SourcePrefetch + `'`,
	kinds:     func(in *Input) []string { return in.kindConditions(timeline.SourcePrefetch, nil) },
}

// cursor reads the events matching where in id order, a chunk at a time.
type cursor struct {
	where string
	args  []any
	after int64
	limit int
	buf   []*Event
	done  bool
}

// head is the cursor's next event, reading a chunk when the last is used
// up; nil at the end.
func (c *cursor) head(ctx context.Context, db *sql.DB) (*Event, error) {
	if len(c.buf) == 0 && !c.done {
		query := `SELECT ` + eventColumns + ` FROM events WHERE (` + c.where + `) AND id > ? ORDER BY id LIMIT ?`
		var err error
		args := append(c.args[:len(c.args):len(c.args)], c.after, c.limit)
		if c.buf, err = readEvents(ctx, db, query, args, c.buf[:0]); err != nil {
			return nil, err
		}
		c.done = len(c.buf) < c.limit
		if n := len(c.buf); n > 0 {
			c.after = c.buf[n-1].ID
		}
	}
	if len(c.buf) == 0 {
		return nil, nil
	}
	return c.buf[0], nil
}

// readEvents appends the events query gives to out. The rows are read
// below database/sql (timeline.QueryDriver): its Scan, a conversion per
// column of every process start each analyzer reads, was a fifth of the
// analyzers' time on the 1.1 GiB synthetic log.
func readEvents(ctx context.Context, db *sql.DB, query string, args []any, out []*Event) ([]*Event, error) {
	if traceQuery != nil {
		traceQuery(query)
	}
	err := timeline.QueryDriver(ctx, db, query, args, func(rows driver.Rows) error {
		dest := make([]driver.Value, len(rows.Columns()))
		for {
			if err := rows.Next(dest); err == io.EOF {
				return nil
			} else if err != nil {
				return err
			}
			e := new(Event)
			if err := e.fill(dest); err != nil {
				return err
			}
			out = append(out, e)
		}
	})
	return out, err
}

// traceQuery, when set (by a test), is given every query the analyzers
// read events with.
var traceQuery func(query string)

// eventColumnNames are eventColumns, for errors.
var eventColumnNames = strings.Split(strings.Join(strings.Fields(eventColumns), ""), ",")

// fill sets e from a driver row of eventColumns.
func (e *Event) fill(row []driver.Value) error {
	var ts string
	var eventID, level int64
	if err := fillColumns(row, eventColumnNames, []any{&e.ID, &e.ArtifactID, &ts, &e.Host, &e.Source, &eventID, &level,
		&e.Process, &e.ParentProcess, &e.CommandLine, &e.ScriptBlockID, &e.User, &e.Channel, &e.Provider, &e.data}); err != nil {
		return err
	}
	e.EventID, e.Level = int(eventID), int(level)
	e.TS, _ = timeline.ParseTime(ts)
	e.Category = timeline.CategoryOf(e.Source, e.Provider, e.EventID)
	e.imageName = base(e.Process)
	return nil
}

// merged yields the events of the cursors in id order. An error ends it
// and is kept for Run (see Input.fail). An event matched by several
// cursors is yielded once.
func (in *Input) merged(cs []*cursor) iter.Seq[*Event] {
	return func(yield func(*Event) bool) {
		for _, c := range cs {
			c.limit = max(minChunkRows, chunkRows/len(cs))
		}
		defer func() {
			for _, c := range cs {
				c.buf, c.after, c.done = nil, 0, false
			}
		}()
		last := int64(-1 << 63)
		for {
			var next *cursor
			var min *Event
			for _, c := range cs {
				e, err := c.head(in.ctx, in.db)
				if err != nil {
					in.fail(err)
					return
				}
				if e != nil && (min == nil || e.ID < min.ID) {
					next, min = c, e
				}
			}
			if min == nil {
				return
			}
			next.buf = next.buf[1:]
			if min.ID == last {
				continue
			}
			last = min.ID
			if !yield(min) {
				return
			}
		}
	}
}

// fail keeps the first error of a stream; Run returns it after the
// analyzer that read the stream.
func (in *Input) fail(err error) {
	if in.err == nil {
		in.err = err
	}
}

// paths are the distinct paths in a column (process or parent_process)
// of the events of set, read once; ok is false when there are more than
// maxPaths.
func (in *Input) paths(set *eventSet, column string) (paths []string, ok bool) {
	d := in.shared().distinct.get(set.name+"."+column, func() (d distinctPaths) {
		rows, err := in.db.QueryContext(in.ctx, `SELECT DISTINCT `+column+` FROM events WHERE `+set.where)
		if err != nil {
			in.fail(err)
			return d
		}
		defer rows.Close()
		for rows.Next() {
			var p string
			if err := rows.Scan(&p); err != nil {
				in.fail(err)
				return distinctPaths{}
			}
			if len(d.list) == maxPaths {
				return distinctPaths{}
			}
			d.list = append(d.list, p)
		}
		if err := rows.Err(); err != nil {
			in.fail(err)
			return distinctPaths{}
		}
		d.ok = true
		return d
	})
	return d.list, d.ok
}

// distinctPaths is what paths read of one column.
type distinctPaths struct {
	list []string
	ok   bool
}

// pick returns the paths in a column of the events of set whose file name
// passes keep, or ok false when the paths are too many to know.
func (in *Input) pick(set *eventSet, column string, keep func(name string) bool) (picked []string, ok bool) {
	paths, ok := in.paths(set, column)
	if !ok {
		return nil, false
	}
	for _, p := range paths {
		if keep(base(p)) {
			picked = append(picked, p)
		}
	}
	return picked, true
}

// eventIDs are the distinct event ids of the events matching where, read
// once.
func (in *Input) eventIDs(where string) []int {
	return in.shared().ids.get(where, func() []int {
		rows, err := in.db.QueryContext(in.ctx, `SELECT DISTINCT event_id FROM events WHERE `+where)
		if err != nil {
			in.fail(err)
			return nil
		}
		defer rows.Close()
		var ids []int
		for rows.Next() {
			var id int
			if err := rows.Scan(&id); err != nil {
				in.fail(err)
				return nil
			}
			ids = append(ids, id)
		}
		if err := rows.Err(); err != nil {
			in.fail(err)
			return nil
		}
		return ids
	})
}

// sharedReads are what the analyzers read once and every lane shares.
type sharedReads struct {
	distinct onceMap[distinctPaths] // by event set and column
	ids      onceMap[[]int]         // by condition
}

func (in *Input) shared() *sharedReads {
	if in.reads == nil {
		in.reads = &sharedReads{}
	}
	return in.reads
}

// onceMap holds a value per key, read once: a lane that asks for a key
// another is reading waits for that read.
type onceMap[T any] struct {
	mu sync.Mutex
	m  map[string]*onceValue[T]
}

type onceValue[T any] struct {
	once sync.Once
	v    T
}

func (o *onceMap[T]) get(key string, read func() T) T {
	o.mu.Lock()
	if o.m == nil {
		o.m = map[string]*onceValue[T]{}
	}
	e := o.m[key]
	if e == nil {
		e = &onceValue[T]{}
		o.m[key] = e
	}
	o.mu.Unlock()
	e.once.Do(func() { e.v = read() })
	return e.v
}

// cursors are the cursors that read the events of set whose image name
// passes keep (every event when keep is nil) and that match extra, when
// given, with args: one per image path where few paths pass, else one per
// kind of the set with the paths as a filter. Where the paths are too
// many to keep, every event is read and the caller filters.
func (in *Input) cursors(set *eventSet, keep func(image string) bool, extra string, args ...any) []*cursor {
	with := func(c *cursor) *cursor {
		if extra != "" {
			c.where += ` AND ` + extra
			c.args = append(c.args, args...)
		}
		return c
	}
	var picked []string
	ok := false
	if keep != nil {
		picked, ok = in.pick(set, "process", keep)
	}
	var cs []*cursor
	if ok && len(picked) <= maxPathCursors {
		for _, p := range picked {
			cs = append(cs, with(&cursor{where: `process = ? AND ` + set.unindexed, args: []any{p}}))
		}
		return cs
	}
	for _, k := range set.kinds(in) {
		c := &cursor{where: k}
		if ok {
			list, _ := json.Marshal(picked)
			c.where += ` AND +process IN (SELECT value FROM json_each(?))`
			c.args = []any{string(list)}
		}
		cs = append(cs, with(c))
	}
	return cs
}

// kindConditions are the conditions for the events of source with each
// of ids as their event id, one an id, each answered in id order by the
// event id index; without ids, the event ids are the source's own.
func (in *Input) kindConditions(source string, ids []int) []string {
	if ids == nil {
		ids = in.eventIDs(fmt.Sprintf(`source='%s'`, source))
	}
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		out = append(out, fmt.Sprintf(`source='%s' AND event_id=%d`, source, id))
	}
	return out
}

// kindCursors read the events of kindConditions(source, ids) that match
// extra with args, one cursor per id: each is read through the event id
// index in id order, so extra's terms must be kept off the indexes with a
// unary + (see stream.go's top).
func (in *Input) kindCursors(source string, ids []int, extra string, args ...any) []*cursor {
	var cs []*cursor
	for _, where := range in.kindConditions(source, ids) {
		c := &cursor{where: where}
		if extra != "" {
			c.where += ` AND (` + extra + `)`
			c.args = args
		}
		cs = append(cs, c)
	}
	return cs
}

// eventsOf yields the events kindCursors reads, in id order, a chunk at a
// time: the analyzers' loads of one kind of record grow with the log
// otherwise, as Sysmon's image loads do, a hundred for each PowerShell
// start.
func (in *Input) eventsOf(source string, ids []int, extra string, args ...any) iter.Seq[*Event] {
	return in.merged(in.kindCursors(source, ids, extra, args...))
}

// startCursors read the process starts whose image passes keep.
func (in *Input) startCursors(keep func(image string) bool) []*cursor {
	return in.cursors(starts, keep, "")
}

// startsOf yields the process starts whose image passes keep (every one
// when keep is nil), in id order.
func (in *Input) startsOf(keep func(image string) bool) iter.Seq[*Event] {
	return filtered(in.merged(in.startCursors(keep)), keep)
}

// filtered yields the events of seq whose image passes keep.
func filtered(seq iter.Seq[*Event], keep func(image string) bool) iter.Seq[*Event] {
	return func(yield func(*Event) bool) {
		for e := range seq {
			if (keep == nil || keep(e.image())) && !yield(e) {
				return
			}
		}
	}
}

// startsOrChildren yields, in id order, the process starts whose image
// passes keep or whose parent's file name is parent.
func (in *Input) startsOrChildren(keep func(image string) bool, parent string) iter.Seq[*Event] {
	return func(yield func(*Event) bool) {
		images, ok := in.pick(starts, "process", keep)
		parents, ok2 := in.pick(starts, "parent_process", func(name string) bool { return name == parent })
		var cs []*cursor
		for _, k := range starts.kinds(in) {
			c := &cursor{where: k}
			if ok && ok2 {
				a, _ := json.Marshal(images)
				b, _ := json.Marshal(parents)
				c.where += ` AND (+process IN (SELECT value FROM json_each(?)) OR +parent_process IN (SELECT value FROM json_each(?)))`
				c.args = []any{string(a), string(b)}
			}
			cs = append(cs, c)
		}
		for e := range in.merged(cs) {
			if (keep(e.image()) || base(e.ParentProcess) == parent) && !yield(e) {
				return
			}
		}
	}
}

// allStarts yields every process start in id order.
func (in *Input) allStarts() iter.Seq[*Event] { return in.startsOf(nil) }

// prefetchOf yields the prefetch run times whose image passes keep (every
// one when keep is nil) and that match extra with args, in id order.
func (in *Input) prefetchOf(keep func(image string) bool, extra string, args ...any) iter.Seq[*Event] {
	return filtered(in.merged(in.cursors(prefetch, keep, extra, args...)), keep)
}

// prefetchRuns yields every prefetch run time in id order.
func (in *Input) prefetchRuns() iter.Seq[*Event] { return in.prefetchOf(nil, "") }

// concat yields the events of each sequence in turn.
func concat(seqs ...iter.Seq[*Event]) iter.Seq[*Event] {
	return func(yield func(*Event) bool) {
		for _, seq := range seqs {
			for e := range seq {
				if !yield(e) {
					return
				}
			}
		}
	}
}

// onePass reads seq once and gives each of passes every event in turn, as
// though each ranged over seq alone: an analyzer whose detections each
// range over the process starts reads them once instead of once each. The
// passes run as coroutines, one at a time, so they share the events
// (whose fields are decoded on first use) without locks; each must range
// over its sequence at most once.
func onePass(seq iter.Seq[*Event], passes ...func(iter.Seq[*Event])) {
	var cur *Event
	end := false
	var live []func() (struct{}, bool)
	for _, pass := range passes {
		// The pass runs until it asks for an event (ask), and resumes
		// with cur when next is called; next says false once it is done.
		next, stop := iter.Pull(func(ask func(struct{}) bool) {
			pass(func(yield func(*Event) bool) {
				for ask(struct{}{}) && !end && yield(cur) {
				}
			})
		})
		defer stop()
		if _, asking := next(); asking {
			live = append(live, next)
		}
	}
	for e := range seq {
		if len(live) == 0 {
			break
		}
		cur = e
		asking := live[:0]
		for _, next := range live {
			if _, ok := next(); ok {
				asking = append(asking, next)
			}
		}
		live = asking
	}
	end = true
	for _, next := range live {
		next()
	}
}
