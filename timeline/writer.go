package timeline

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"time"
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
	Data          map[string]any

	// encoded is Data as JSON, set by Encode so that the sorting and
	// escaping run on the parser goroutines instead of the single writer.
	encoded []byte
}

// Encode renders Data as JSON ahead of AddEvent. Calling it is optional: it
// lets parallel producers take that work off the writer goroutine.
func (e *Event) Encode() error {
	if e.Data == nil {
		e.Data = map[string]any{}
	}
	data, err := json.Marshal(e.Data)
	if err != nil {
		return fmt.Errorf("timeline: encoding event data: %w", err)
	}
	e.encoded = data
	return nil
}

// batchSize is how many rows go into one transaction: large enough to
// amortize commits, small enough to keep memory flat.
const batchSize = 20000

// Writer inserts rows in batched transactions with prepared statements. It
// is not safe for concurrent use: one goroutine writes, so that ids follow
// insertion order and reruns number everything the same way.
type Writer struct {
	db      *sql.DB
	tx      *sql.Tx
	event   *sql.Stmt
	pending int
}

// NewWriter starts the first transaction.
func NewWriter(db *sql.DB) (*Writer, error) {
	w := &Writer{db: db}
	return w, w.begin()
}

func (w *Writer) begin() error {
	tx, err := w.db.Begin()
	if err != nil {
		return err
	}
	stmt, err := tx.Prepare(`INSERT INTO events (ts, ts_ns, host, artifact_id, record_id, source, event_id,
		channel, provider, computer, user, level, process, parent_process, command_line, script_block_id,
		recovered, summary, data) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`)
	if err != nil {
		tx.Rollback()
		return err
	}
	w.tx, w.event, w.pending = tx, stmt, 0
	return nil
}

func (w *Writer) flush() error {
	w.event.Close()
	if err := w.tx.Commit(); err != nil {
		return err
	}
	return w.begin()
}

// AddArtifact inserts an artifact and returns its id.
func (w *Writer) AddArtifact(a *Artifact) (int64, error) {
	res, err := w.tx.Exec(`INSERT INTO artifacts (host, evidence_root, path, kind, size, mtime_ts, sha256, md5, status)
		VALUES (?,?,?,?,?,?,?,?,?)`, a.Host, a.EvidenceRoot, a.Path, a.Kind, a.Size, FormatTime(a.ModTime), a.SHA256, a.MD5, "ok")
	if err != nil {
		return 0, err
	}
	a.ID, err = res.LastInsertId()
	return a.ID, err
}

// FinishArtifact records the artifact's parse outcome.
func (w *Writer) FinishArtifact(a *Artifact) error {
	if a.Errors == nil {
		a.Errors = []string{}
	}
	if a.Flags == nil {
		a.Flags = map[string]any{}
	}
	errs, _ := json.Marshal(a.Errors)
	flags, _ := json.Marshal(a.Flags)
	_, err := w.tx.Exec(`UPDATE artifacts SET status=?, records=?, recovered=?, errors=?, error_list=?, flags=?,
		first_record=?, last_record=?, missing_records=? WHERE id=?`,
		a.Status, a.Records, a.Recovered, len(a.Errors), string(errs), string(flags),
		a.FirstRecord, a.LastRecord, a.MissingRecords, a.ID)
	return err
}

// AddEvent inserts an event.
func (w *Writer) AddEvent(e *Event) error {
	if e.encoded == nil {
		if err := e.Encode(); err != nil {
			return err
		}
	}
	if _, err := w.event.Exec(FormatTime(e.TS), UnixNano(e.TS), e.Host, e.ArtifactID, e.RecordID, e.Source,
		e.EventID, e.Channel, e.Provider, e.Computer, e.User, e.Level, e.Process, e.ParentProcess,
		e.CommandLine, e.ScriptBlockID, e.Recovered, e.Summary, string(e.encoded)); err != nil {
		return err
	}
	if w.pending++; w.pending >= batchSize {
		return w.flush()
	}
	return nil
}

// Close commits what is pending, builds the events indexes, reassembles the
// 4104 script blocks and builds the full-text indexes.
func (w *Writer) Close() error {
	w.event.Close()
	if err := w.tx.Commit(); err != nil {
		return err
	}
	if _, err := w.db.Exec(indexesSQL); err != nil {
		return fmt.Errorf("timeline: build indexes: %w", err)
	}
	if err := reassembleScripts(w.db); err != nil {
		return err
	}
	for _, q := range []string{
		`INSERT INTO events_fts(events_fts) VALUES('rebuild')`,
		`INSERT INTO scripts_fts(scripts_fts) VALUES('rebuild')`,
	} {
		if _, err := w.db.Exec(q); err != nil {
			return err
		}
	}
	return nil
}
