package timeline

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"triage/internal/phases"
)

// Artifact is one row of the artifacts table.
type Artifact struct {
	ID             int64
	Host           string
	EvidenceRoot   string
	Path           string
	Kind           string
	Size           int64
	ModTime        time.Time
	SHA256, MD5    string
	Status         string // ok, damaged or failed
	Records        int
	Recovered      int
	Errors         []string
	Flags          map[string]any
	FirstRecord    *int64
	LastRecord     *int64
	MissingRecords int64
}

// Skipped is one row of the skipped table: a file under an evidence root
// that was not examined, and why.
type Skipped struct {
	Host, EvidenceRoot, Path string
	Size                     int64 // -1 when unknown
	Reason, Detail           string
}

// Event is one row of the events table.
type Event struct {
	TS            time.Time
	Host          string
	ArtifactID    int64
	RecordID      int64
	Source        string
	EventID       int
	Channel       string
	Provider      string
	Computer      string
	User          string
	Level         int
	Process       string
	ParentProcess string
	CommandLine   string
	ScriptBlockID string
	Recovered     bool
	Summary       string
	// Data holds the data column's fields. FromEVTX leaves it nil for most
	// records and keeps their fields in fields instead; FromPrefetch sets it
	// and encodes it ahead, so changing its Data afterwards has no effect.
	Data map[string]any

	fields []field // sorted by key; encoded when Data is nil
	raw    string  // Data already encoded, by a normalizer that shares the work between events

	// ts and data are the ts and data columns, set by Encode so that the
	// formatting, sorting and escaping run on the parser goroutines instead
	// of the single writer.
	ts, data string
	encoded  bool
}

// TextSize is about how many bytes of text the event holds once encoded:
// its data column and the columns copied from it. Producers bound what
// they hold in memory by it.
func (e *Event) TextSize() int {
	return len(e.data) + len(e.raw) + len(e.CommandLine) + len(e.Summary) + len(e.Process) + len(e.ParentProcess)
}

// Encode renders TS and Data for their columns ahead of AddEvent. Calling it
// is optional: it lets parallel producers take that work off the writer
// goroutine.
func (e *Event) Encode() error {
	if e.raw != "" {
		e.ts, e.data, e.encoded = FormatTime(e.TS), e.raw, true
		return nil
	}
	buf := encodeBuffers.Get().(*[]byte)
	defer encodeBuffers.Put(buf)
	var data []byte
	var err error
	if e.Data == nil {
		data = appendFields((*buf)[:0], e.fields)
	} else {
		data, err = appendJSONObject((*buf)[:0], e.Data)
	}
	*buf = data
	if err != nil {
		return fmt.Errorf("timeline: encoding event data: %w", err)
	}
	e.ts, e.data, e.encoded = FormatTime(e.TS), string(data), true
	return nil
}

// encodeBuffers are Encode's scratch space; the column keeps a copy.
var encodeBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// batchSize is how many rows go into one transaction: large enough to
// amortize commits, small enough that the page cache holds them.
const batchSize = 20000

const (
	insertArtifact = `INSERT INTO artifacts (host, evidence_root, path, kind, size, mtime_ts, sha256, md5, status)
	VALUES (?,?,?,?,?,?,?,?,?)`
	finishArtifact = `UPDATE artifacts SET sha256=?, md5=?, status=?, records=?, recovered=?, errors=?, error_list=?, flags=?,
	first_record=?, last_record=?, missing_records=? WHERE id=?`
	insertSkipped = `INSERT INTO skipped (host, evidence_root, path, size, reason, detail) VALUES (?,?,?,?,?,?)`
)

// Writer inserts rows in batched transactions with prepared statements. It
// is not safe for concurrent use: one goroutine writes, so that ids follow
// insertion order and reruns number everything the same way.
//
// The writer holds one connection until Close. Events bypass database/sql,
// whose argument conversion, locking and result bookkeeping cost as much as
// SQLite's own insert: they go straight to the driver connection's prepared
// multi-row statements (rowInserter), inside Conn.Raw.
type Writer struct {
	db       *sql.DB
	conn     *sql.Conn
	artifact *sql.Stmt
	finish   *sql.Stmt
	skipped  *sql.Stmt
	rows     *rowInserter // of conn's driver connection: used only inside conn.Raw
	pending  int
	indexed  bool // the events indexes exist: BuildIndexes ran, or the timeline had them
	// lastOld is the last event id of a timeline written before, which
	// this Writer adds to; 0 for a new one.
	lastOld int64
	spans   *spanTracker
}

// NewWriter starts the first transaction.
func NewWriter(db *sql.DB) (*Writer, error) {
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	w := &Writer{db: db, conn: conn, spans: newSpanTracker()}
	err = conn.Raw(func(dc any) error {
		var err error
		w.rows, err = newRowInserter(dc)
		return err
	})
	if err == nil {
		w.artifact, err = conn.PrepareContext(ctx, insertArtifact)
	}
	if err == nil {
		w.finish, err = conn.PrepareContext(ctx, finishArtifact)
	}
	if err == nil {
		w.skipped, err = conn.PrepareContext(ctx, insertSkipped)
	}
	if err == nil {
		// A timeline that a run adds to has its indexes already: the new
		// rows keep them up to date rather than rebuilding them over all.
		var n int
		err = conn.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = 'events_ts'`).Scan(&n)
		w.indexed = n > 0
	}
	if err == nil {
		err = conn.QueryRowContext(ctx, `SELECT coalesce(max(id), 0) FROM events`).Scan(&w.lastOld)
	}
	if err == nil {
		_, err = conn.ExecContext(ctx, "BEGIN")
	}
	if err != nil {
		w.closeStmts()
		conn.Close()
		return nil, err
	}
	return w, nil
}

func (w *Writer) closeStmts() {
	for _, s := range []*sql.Stmt{w.artifact, w.finish, w.skipped} {
		if s != nil {
			s.Close()
		}
	}
	if w.rows != nil {
		w.conn.Raw(func(any) error { w.rows.close(); return nil })
	}
	w.artifact, w.finish, w.skipped, w.rows = nil, nil, nil, nil
}

func (w *Writer) commit() error {
	_, err := w.conn.ExecContext(context.Background(), "COMMIT")
	return err
}

func (w *Writer) flush() error {
	if err := w.commit(); err != nil {
		return err
	}
	_, err := w.conn.ExecContext(context.Background(), "BEGIN")
	w.pending = 0
	return err
}

// AddArtifact inserts an artifact and returns its id.
func (w *Writer) AddArtifact(a *Artifact) (int64, error) {
	res, err := w.artifact.Exec(a.Host, a.EvidenceRoot, a.Path, a.Kind, a.Size, FormatTime(a.ModTime), a.SHA256, a.MD5, "ok")
	if err != nil {
		return 0, err
	}
	a.ID, err = res.LastInsertId()
	return a.ID, err
}

// FinishArtifact records the artifact's hashes and parse outcome: an
// artifact is hashed while it is parsed, so its hashes are known only at
// the end, as its outcome is.
func (w *Writer) FinishArtifact(a *Artifact) error {
	if a.Errors == nil {
		a.Errors = []string{}
	}
	if a.Flags == nil {
		a.Flags = map[string]any{}
	}
	errs, _ := json.Marshal(a.Errors)
	flags, _ := json.Marshal(a.Flags)
	_, err := w.finish.Exec(a.SHA256, a.MD5, a.Status, a.Records, a.Recovered, len(a.Errors), string(errs), string(flags),
		a.FirstRecord, a.LastRecord, a.MissingRecords, a.ID)
	return err
}

// AddSkipped records a file that was not examined.
func (w *Writer) AddSkipped(s Skipped) error {
	_, err := w.skipped.Exec(s.Host, s.EvidenceRoot, s.Path, s.Size, s.Reason, s.Detail)
	return err
}

// AddEvent inserts an event.
func (w *Writer) AddEvent(e *Event) error {
	return w.AddEvents([]Event{*e})
}

// AddEvents inserts events in order.
func (w *Writer) AddEvents(events []Event) error {
	for len(events) > 0 {
		n := min(len(events), batchSize-w.pending)
		if err := w.conn.Raw(func(any) error { return w.rows.insert(events[:n]) }); err != nil {
			return err
		}
		for i := range events[:n] {
			w.spans.add(&events[i])
		}
		events = events[n:]
		if w.pending += n; w.pending >= batchSize {
			if err := w.flush(); err != nil {
				return err
			}
		}
	}
	return nil
}

// Spans are the spans of the timeline's events, when the Writer wrote them
// all: nil for a timeline it added to.
func (w *Writer) Spans() *EventSpans {
	if w.lastOld > 0 {
		return nil
	}
	w.spans.flush()
	return &w.spans.spans
}

// BuildIndexes builds the events indexes before Close, which otherwise
// builds them. Events added afterwards keep them up to date, which costs
// about a third more per row than building them over all rows at once; a
// caller that knows the bulk of the events is in can call it on another
// goroutine, while the last artifacts are still being parsed, so that Close
// has less left to do on one core. The Writer must not be used until it
// returns.
func (w *Writer) BuildIndexes() error {
	if w.indexed {
		return nil
	}
	phases.Mark("indexes started")
	if _, err := w.conn.ExecContext(context.Background(), indexesSQL); err != nil {
		return fmt.Errorf("timeline: build indexes: %w", err)
	}
	w.indexed = true
	phases.Mark("indexes built")
	return nil
}

// Abandon commits what is written and releases the connection, without the
// indexes, the script reassembly and the full-text indexes Close builds: for
// a run that stops early, whose timeline is kept as evidence of what was
// done but is marked incomplete.
func (w *Writer) Abandon() error {
	w.closeStmts()
	err := w.commit()
	w.conn.Close()
	return err
}

// Close commits what is pending, builds the events indexes unless
// BuildIndexes did, reassembles the 4104 script blocks and brings the
// full-text indexes of a timeline that has them up to date.
func (w *Writer) Close() error {
	return w.CloseWith(nil)
}

// CloseWith is Close that, for a new timeline, calls written, if set,
// with the number of events once every one is committed, before the
// indexes are built and the scripts reassembled, with no transaction
// open: the caller may share the timeline there and start reading its
// events beside them.
func (w *Writer) CloseWith(written func(events int64)) error {
	w.closeStmts()
	err := w.commit()
	w.conn.Close()
	if err != nil {
		return err
	}
	if w.lastOld == 0 && written != nil {
		// Ids count from 1 in a new timeline: the last is the count.
		var last sql.NullInt64
		if err := w.db.QueryRow(`SELECT max(id) FROM events`).Scan(&last); err != nil {
			return err
		}
		written(last.Int64)
	}
	if !w.indexed {
		if _, err := w.db.Exec(indexesSQL); err != nil {
			return fmt.Errorf("timeline: build indexes: %w", err)
		}
		phases.Mark("indexes built")
	}
	if err := reassembleScripts(w.db); err != nil {
		return err
	}
	phases.Mark("scripts reassembled")
	if has, err := HasFullText(w.db); err != nil || !has {
		return err
	}
	// A timeline added to indexes only its new events' text: rebuilding
	// the index over every host was most of what closing cost an --add.
	// The scripts are all reassembled, so their index is rebuilt; it is
	// small.
	events := `INSERT INTO events_fts(events_fts) VALUES('rebuild')`
	if w.lastOld > 0 {
		events = fmt.Sprintf(`INSERT INTO events_fts(rowid, command_line, summary)
			SELECT id, command_line, summary FROM events WHERE id > %d`, w.lastOld)
	}
	for _, q := range []string{events, `INSERT INTO scripts_fts(scripts_fts) VALUES('rebuild')`} {
		if _, err := w.db.Exec(q); err != nil {
			return err
		}
		phases.Mark("fts %.30s", q)
	}
	return nil
}
