package export

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"io"
	"strings"
	"unsafe"

	"triage/timeline"
)

// Reading the events costs more than encoding them, and each takes a
// core: the rows are read on a goroutine of their own, batches ahead of
// the encoder, so that both cores work.
//
// The rows are read at the driver's level, below database/sql: the driver
// makes a Go string of each text column, fresh for the row, which the
// row's fields view as they are, where database/sql copied each into a
// RawBytes again. (SQLite concatenating the columns into one value, to
// spare the driver twelve strings a row, cost more in SQLite than it
// saved.)
const (
	batchRows   = 256 // rows a batch carries at most
	batchesHeld = 4   // batches in flight: they bound what is held
	// batchText ends a batch early once its rows hold this much data, so
	// that events with large data are not held 256 at a time.
	batchText = 1 << 20
)

// eventColumns are the columns read, in order, and the row's fields they
// fill: an integer or a text.
var eventColumns = []struct {
	name string
	int  func(*eventRow, int64)
	text func(*eventRow) *[]byte
}{
	{name: "id", int: func(e *eventRow, v int64) { e.id = v }},
	{name: "ts", text: func(e *eventRow) *[]byte { return &e.ts }},
	{name: "ts_ns", int: func(e *eventRow, v int64) { e.tsNS = v }},
	{name: "host", text: func(e *eventRow) *[]byte { return &e.host }},
	{name: "artifact_id", int: func(e *eventRow, v int64) { e.artifactID = v }},
	{name: "record_id", int: func(e *eventRow, v int64) { e.recordID = v }},
	{name: "source", text: func(e *eventRow) *[]byte { return &e.source }},
	{name: "event_id", int: func(e *eventRow, v int64) { e.eventID = v }},
	{name: "channel", text: func(e *eventRow) *[]byte { return &e.channel }},
	{name: "provider", text: func(e *eventRow) *[]byte { return &e.provider }},
	{name: "computer", text: func(e *eventRow) *[]byte { return &e.computer }},
	{name: "user", text: func(e *eventRow) *[]byte { return &e.user }},
	{name: "level", int: func(e *eventRow, v int64) { e.level = v }},
	{name: "process", text: func(e *eventRow) *[]byte { return &e.process }},
	{name: "parent_process", text: func(e *eventRow) *[]byte { return &e.parent }},
	{name: "command_line", text: func(e *eventRow) *[]byte { return &e.commandLine }},
	{name: "script_block_id", text: func(e *eventRow) *[]byte { return &e.scriptBlockID }},
	{name: "recovered", int: func(e *eventRow, v int64) { e.recovered = v != 0 }},
	{name: "summary", text: func(e *eventRow) *[]byte { return &e.summary }},
	{name: "data", text: func(e *eventRow) *[]byte { return &e.data }},
}

// eventsQuery selects the events matching cond in time order.
func eventsQuery(cond string) string {
	names := make([]string, len(eventColumns))
	for i, c := range eventColumns {
		names[i] = c.name
	}
	return `SELECT ` + strings.Join(names, ", ") + ` FROM events` + cond + ` ORDER BY ts_ns, id`
}

// eventBatch is rows read ahead of the encoder.
type eventBatch struct {
	rows []eventRow
	text int
}

// eventReader reads the events on its own goroutine into batches.
type eventReader struct {
	batches chan *eventBatch // filled batches, closed at the end
	free    chan *eventBatch // batches the encoder is done with
	stop    chan struct{}    // closed when the encoder gives up
	exited  chan struct{}    // closed once the goroutine is gone
	err     error            // read once exited is closed
}

// readEvents starts reading the events cond selects.
func readEvents(ctx context.Context, db *sql.DB, cond string, args []any, arts map[int64]*artifact) *eventReader {
	r := &eventReader{batches: make(chan *eventBatch, batchesHeld-1), free: make(chan *eventBatch, batchesHeld),
		stop: make(chan struct{}), exited: make(chan struct{})}
	for range batchesHeld {
		r.free <- &eventBatch{rows: make([]eventRow, 0, batchRows)}
	}
	go func() {
		defer close(r.exited)
		defer close(r.batches)
		r.err = r.read(ctx, db, cond, args, arts)
	}()
	return r
}

func (r *eventReader) read(ctx context.Context, db *sql.DB, cond string, args []any, arts map[int64]*artifact) error {
	scanned := false
	err := timeline.QueryDriver(ctx, db, eventsQuery(cond), args, func(rows driver.Rows) error {
		scanned = true
		return r.scan(ctx, rows, arts)
	})
	if err != nil && !scanned {
		return fmt.Errorf("export: events: %w", err)
	}
	return err
}

func (r *eventReader) scan(ctx context.Context, rows driver.Rows, arts map[int64]*artifact) error {
	dest := make([]driver.Value, len(eventColumns))
	b := r.next()
	for n := int64(0); b != nil; n++ {
		err := rows.Next(dest)
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("export: events: %w", err)
		}
		var e eventRow
		if err := e.fill(dest, arts); err != nil {
			return err
		}
		b.rows = append(b.rows, e)
		if b.text += len(e.data); len(b.rows) == batchRows || b.text >= batchText {
			if !r.send(b) {
				return nil
			}
			b = r.next()
		}
		if n%65536 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
	}
	if b != nil && len(b.rows) > 0 {
		r.send(b)
	}
	return nil
}

// fill sets e from a row of eventsQuery. The text fields view the
// strings the driver made for this row alone, which nothing writes. A
// value of another type than its column's, which only an edited database
// holds, is refused; a NULL is 0 or empty.
func (e *eventRow) fill(dest []driver.Value, arts map[int64]*artifact) error {
	for i, c := range eventColumns {
		switch v := dest[i].(type) {
		case nil:
		case int64:
			if c.int == nil {
				return fmt.Errorf("export: event %d: %s is a number, not text", e.id, c.name)
			}
			c.int(e, v)
		case string:
			if c.text == nil {
				return fmt.Errorf("export: event %d: %s is text, not a number", e.id, c.name)
			}
			*c.text(e) = unsafe.Slice(unsafe.StringData(v), len(v))
		case []byte:
			if c.text == nil {
				return fmt.Errorf("export: event %d: %s is a blob, not a number", e.id, c.name)
			}
			*c.text(e) = v[:len(v):len(v)]
		default:
			return fmt.Errorf("export: event %d: %s is %T", e.id, c.name, v)
		}
	}
	if e.art = arts[e.artifactID]; e.art == nil {
		e.art = missingArtifact
	}
	return nil
}

// next takes a free batch, emptied; nil once the encoder has stopped.
func (r *eventReader) next() *eventBatch {
	select {
	case b := <-r.free:
		clear(b.rows) // drop the rows' text and artifacts
		b.rows, b.text = b.rows[:0], 0
		return b
	case <-r.stop:
		return nil
	}
}

func (r *eventReader) send(b *eventBatch) bool {
	select {
	case r.batches <- b:
		return true
	case <-r.stop:
		return false
	}
}

// close stops the goroutine if it still runs, waits for it, and gives its
// error.
func (r *eventReader) close() error {
	close(r.stop)
	<-r.exited
	return r.err
}
