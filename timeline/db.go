package timeline

import (
	"database/sql"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	_ "github.com/mattn/go-sqlite3" // registers the "sqlite3" driver; build with -tags sqlite_fts5
)

// SchemaVersion is stored in PRAGMA user_version. Readers refuse other
// versions. 3 added the hosts table and runs.kind, for cases that grow.
const SchemaVersion = 3

//go:embed schema.sql
var schemaSQL string

//go:embed indexes.sql
var indexesSQL string

// TimeLayout is how every time is stored and shown: UTC with the 7 fractional
// digits of a FILETIME, the precision Windows itself displays.
const TimeLayout = "2006-01-02T15:04:05.0000000Z"

// FormatTime renders t in TimeLayout; the zero time renders as "".
func FormatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	var b [len(TimeLayout)]byte
	return string(AppendTime(b[:0], t))
}

// AppendTime appends t in UTC in TimeLayout. Every event's time is
// formatted: writing the fixed layout directly costs a third of what
// time.Format's layout interpreter does.
func AppendTime(dst []byte, t time.Time) []byte {
	t = t.UTC()
	year, month, day := t.Date()
	if year < 0 || year > 9999 {
		return t.AppendFormat(dst, TimeLayout) // wider years, which only a damaged record gives
	}
	hour, minute, sec := t.Clock()
	var b [len(TimeLayout)]byte
	digits(b[0:4], year)
	b[4] = '-'
	digits(b[5:7], int(month))
	b[7] = '-'
	digits(b[8:10], day)
	b[10] = 'T'
	digits(b[11:13], hour)
	b[13] = ':'
	digits(b[14:16], minute)
	b[16] = ':'
	digits(b[17:19], sec)
	b[19] = '.'
	digits(b[20:27], t.Nanosecond()/100)
	b[27] = 'Z'
	return append(dst, b[:]...)
}

// digits writes v zero-padded into all of b.
func digits(b []byte, v int) {
	for i := len(b) - 1; i >= 0; i-- {
		b[i] = byte('0' + v%10)
		v /= 10
	}
}

// ParseTime is the inverse of FormatTime.
func ParseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	return time.Parse(TimeLayout, s)
}

// UnixNano is t as stored in the *_ns columns; the zero time is 0.
func UnixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// Create makes a new timeline database at path, which must not exist yet.
func Create(path string) (*sql.DB, error) {
	if _, err := os.Stat(path); err == nil {
		return nil, fmt.Errorf("timeline: %s already exists", path)
	}
	// The database is new and written by this run alone: a crash leaves
	// nothing worth recovering, so no journal and no syncs. The cache holds
	// a whole insert transaction, and larger pages mean fewer B-tree splits.
	// database/sql hands the single connection to one goroutine at a time,
	// so SQLite's per-connection mutex (_mutex=no) only cost a lock and an
	// unlock on every bind and step: a sixth of the insert's CPU.
	db, err := sql.Open("sqlite3", "file:"+path+"?_journal_mode=OFF&_synchronous=OFF&_foreign_keys=off&_cache_size=-65536&_mutex=no")
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	// The page size only takes effect before the first table exists.
	if _, err := db.Exec("PRAGMA page_size = 16384"); err != nil {
		db.Close()
		return nil, err
	}
	// The cache was sized in pages of the default size when the connection
	// opened; said again now, it is 64 MiB of the large pages, not 256.
	if _, err := db.Exec("PRAGMA cache_size = -65536"); err != nil {
		db.Close()
		return nil, err
	}
	if _, err := db.Exec(schemaSQL); err != nil {
		db.Close()
		return nil, fmt.Errorf("timeline: create schema: %w", err)
	}
	if _, err := db.Exec(fmt.Sprintf("PRAGMA user_version = %d", SchemaVersion)); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// OpenAppend opens an existing timeline for a run that adds evidence to
// it, with Create's bulk-load settings. Without a journal a crash can leave
// the file damaged: the caller writes it under its partial name, so that a
// case cut short is seen to be.
func OpenAppend(path string) (*sql.DB, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("timeline: %w", err)
	}
	db, err := sql.Open("sqlite3", "file:"+path+"?_journal_mode=OFF&_synchronous=OFF&_foreign_keys=off&_cache_size=-65536&_mutex=no")
	if err != nil {
		return nil, err
	}
	return checkVersion(db)
}

// ErrSchemaVersion means the database was written by an incompatible version.
var ErrSchemaVersion = errors.New("timeline: unsupported schema version")

// Open opens an existing timeline database for reading and for the analyzers'
// writes, and checks its schema version.
func Open(path string) (*sql.DB, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("timeline: %w", err)
	}
	db, err := sql.Open("sqlite3", "file:"+path+"?_foreign_keys=off")
	if err != nil {
		return nil, err
	}
	return checkVersion(db)
}

// checkVersion gives db back when its schema is the one this code writes,
// else closes it and says which it is.
func checkVersion(db *sql.DB) (*sql.DB, error) {
	db.SetMaxOpenConns(1)
	var v int
	if err := db.QueryRow("PRAGMA user_version").Scan(&v); err != nil {
		db.Close()
		return nil, fmt.Errorf("timeline: %w", err)
	}
	if v != SchemaVersion {
		db.Close()
		return nil, fmt.Errorf("%w %d (want %d)", ErrSchemaVersion, v, SchemaVersion)
	}
	return db, nil
}

// RunStatus is a run's state in the runs table and the manifest. A run is
// in progress from its start; only a run that ended normally is complete.
type RunStatus string

// Run states.
const (
	RunInProgress  RunStatus = "in-progress"
	RunComplete    RunStatus = "complete"
	RunInterrupted RunStatus = "interrupted" // stopped by a signal
	RunFailed      RunStatus = "failed"      // stopped by an error
)

// Run is the runs table's row for one triage run.
type Run struct {
	ToolVersion, ToolCommit, GoVersion string
	CommandLine                        []string
	Case, Examiner, TimeZone           string
	BusinessHours                      string
	Evidence                           []string
	Started                            string // TimeLayout
	// Add marks a run that added evidence to an existing case.
	Add bool
}

// StartRun records a run as in progress.
func StartRun(db *sql.DB, r Run) error {
	argv, _ := json.Marshal(r.CommandLine)
	evidence, _ := json.Marshal(r.Evidence)
	kind := "run"
	if r.Add {
		kind = "add"
	}
	_, err := db.Exec(`INSERT INTO runs (kind, tool_version, tool_commit, go_version, command_line, case_id, examiner, tz,
		business_hours, evidence, started_ts, status) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)`, kind, r.ToolVersion, r.ToolCommit, r.GoVersion,
		string(argv), r.Case, r.Examiner, r.TimeZone, r.BusinessHours, string(evidence), r.Started, string(RunInProgress))
	if err != nil {
		return fmt.Errorf("timeline: record the run: %w", err)
	}
	return nil
}

// FinishRun records how the latest run ended and when, and why the case is
// not clean (notClean, one sentence each; empty for a clean run).
func FinishRun(db *sql.DB, status RunStatus, detail, finished string, notClean []string) error {
	if notClean == nil {
		notClean = []string{}
	}
	nc, _ := json.Marshal(notClean)
	if _, err := db.Exec(`UPDATE runs SET status=?, status_detail=?, finished_ts=?, not_clean=?
		WHERE id=(SELECT max(id) FROM runs)`, string(status), detail, finished, string(nc)); err != nil {
		return fmt.Errorf("timeline: record the run's end: %w", err)
	}
	return nil
}

// RunState reads the case's status and its detail: that of the latest run
// that did not complete, else the latest run's. A case one of whose --add
// runs was cut short is not complete, whatever ran after.
func RunState(db *sql.DB) (RunStatus, string, error) {
	var status, detail string
	err := db.QueryRow(`SELECT status, status_detail FROM runs ORDER BY status = 'complete', id DESC LIMIT 1`).Scan(&status, &detail)
	if err == sql.ErrNoRows {
		return RunInProgress, "no run recorded", nil
	}
	return RunStatus(status), detail, err
}

// SetIntegrityError records that an artifact's bytes changed while it was
// examined, or could not be hashed again.
func SetIntegrityError(db *sql.DB, artifactID int64, problem string) error {
	_, err := db.Exec(`UPDATE artifacts SET integrity_error=? WHERE id=?`, problem, artifactID)
	return err
}

// UseTempDir makes SQLite create the temporary files of every connection
// of the process (sorts and index builds that outgrow the page cache) in
// dir: a run's temporary files go under its output folder, not /var/tmp.
// SQLite reads the variable each time it makes such a file.
func UseTempDir(dir string) error {
	return os.Setenv("SQLITE_TMPDIR", dir)
}
