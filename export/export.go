package export

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"io"
	"strings"
	"time"

	"triage/internal/gctune"
)

// Format names an output format of Export.
type Format string

// The formats, one file each.
const (
	JSONL      Format = "jsonl"      // our columns, one event per line
	Timesketch Format = "timesketch" // Timesketch's JSONL importer
	ECS        Format = "ecs"        // Elastic Common Schema NDJSON for _bulk
)

// Formats lists every format, in the order --help shows them.
var Formats = []Format{Timesketch, ECS, JSONL}

// Options selects what Export writes.
type Options struct {
	Format Format
	// Host, if set, keeps only that host's events and findings.
	Host string
	// Since and Until, if set, keep what happened in [Since, Until).
	Since, Until time.Time
	// BulkIndex, with the ECS format, writes an index action line naming
	// this index before each document, as the _bulk API reads them.
	BulkIndex string
}

// Stats counts what Export wrote.
type Stats struct {
	Events, Findings int64
}

// encoder appends one format's lines. Each method appends whole lines,
// ending in '\n', except a finding, which is appended in three steps so
// that the records it cites stream through without being held; by
// findingEnd the finding's row is gone, so it takes only the count.
type encoder interface {
	event(dst []byte, e *eventRow) []byte
	findingStart(dst []byte, f *findingRow) []byte
	evidence(dst []byte, n int, ev *evidenceRow) []byte
	findingEnd(dst []byte, n int) []byte
}

func newEncoder(o Options) (encoder, error) {
	switch o.Format {
	case JSONL:
		return jsonlEncoder{}, nil
	case Timesketch:
		return timesketchEncoder{}, nil
	case ECS:
		return newECSEncoder(o.BulkIndex), nil
	}
	return nil, fmt.Errorf("export: unknown format %q (want one of %s)", o.Format, formatList())
}

func formatList() string {
	names := make([]string, len(Formats))
	for i, f := range Formats {
		names[i] = string(f)
	}
	return strings.Join(names, ", ")
}

// artifact is the provenance every line of an artifact's events repeats.
type artifact struct {
	path, sha256, kind string
}

// eventRow is one events row with its artifact. Its byte slices view the
// row's own strings (rows.go) and are only read.
type eventRow struct {
	id, tsNS, recordID, eventID, level  int64
	artifactID                          int64
	recovered                           bool
	ts, host, source, channel, provider []byte
	computer, user, process, parent     []byte
	commandLine, scriptBlockID, summary []byte
	data                                []byte
	art                                 *artifact
}

// findingRow is one findings row.
type findingRow struct {
	id, tsNS, score, incident                  int64
	analyzer, host, ts, techniqueID, technique []byte
	tactic, related, severity, confidence      []byte
	title, rule, matched, decoded, features    []byte
}

// evidenceRow is one record a finding cites.
type evidenceRow struct {
	eventID, recordID    int64
	artifactPath, sha256 []byte
}

// Export writes the events of the timeline db, then its findings, to w in
// the format o names, in time order. It holds one line and the artifacts
// table in memory, whatever the size of the timeline.
func Export(ctx context.Context, db *sql.DB, w io.Writer, o Options) (Stats, error) {
	var st Stats
	enc, err := newEncoder(o)
	if err != nil {
		return st, err
	}
	if o.BulkIndex != "" && o.Format != ECS {
		return st, fmt.Errorf("export: a bulk index is for the %s format only", ECS)
	}
	if err := checkIndexName(o.BulkIndex); err != nil {
		return st, err
	}
	arts, err := loadArtifacts(ctx, db)
	if err != nil {
		return st, err
	}
	bw := bufio.NewWriterSize(w, 256<<10)
	defer gctune.Trade(64 << 20)() // every text column of every row is garbage a line later
	if st.Events, err = exportEvents(ctx, db, bw, enc, arts, o); err != nil {
		return st, err
	}
	if st.Findings, err = exportFindings(ctx, db, bw, enc, o); err != nil {
		return st, err
	}
	return st, bw.Flush()
}

func loadArtifacts(ctx context.Context, db *sql.DB) (map[int64]*artifact, error) {
	rows, err := db.QueryContext(ctx, `SELECT id, path, sha256, kind FROM artifacts`)
	if err != nil {
		return nil, fmt.Errorf("export: artifacts: %w", err)
	}
	defer rows.Close()
	arts := map[int64]*artifact{}
	for rows.Next() {
		var id int64
		a := &artifact{}
		if err := rows.Scan(&id, &a.path, &a.sha256, &a.kind); err != nil {
			return nil, fmt.Errorf("export: artifacts: %w", err)
		}
		arts[id] = a
	}
	return arts, rows.Err()
}

// where renders the host and time filters on a table with host and ts_ns.
func where(o Options) (string, []any) {
	var conds []string
	var args []any
	if o.Host != "" {
		conds, args = append(conds, "host = ?"), append(args, o.Host)
	}
	if !o.Since.IsZero() {
		conds, args = append(conds, "ts_ns >= ?"), append(args, o.Since.UnixNano())
	}
	if !o.Until.IsZero() {
		conds, args = append(conds, "ts_ns < ?"), append(args, o.Until.UnixNano())
	}
	if len(conds) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

// missingArtifact stands for an artifact id the artifacts table lacks, which
// only a damaged or edited database gives; the line still says so.
var missingArtifact = &artifact{path: "", sha256: "", kind: ""}

func exportEvents(ctx context.Context, db *sql.DB, w *bufio.Writer, enc encoder, arts map[int64]*artifact, o Options) (int64, error) {
	cond, args := where(o)
	r := readEvents(ctx, db, cond, args, arts)
	var (
		line []byte
		n    int64
	)
	for b := range r.batches {
		for i := range b.rows {
			line = enc.event(line[:0], &b.rows[i])
			if _, err := w.Write(line); err != nil {
				r.close()
				return n, fmt.Errorf("export: %w", err)
			}
			n++
		}
		r.free <- b
	}
	return n, r.close()
}

// exportFindings streams each finding with the records it cites, through
// one query joined on finding_evidence: a folded finding may cite
// thousands of records, and they go out as they are read.
func exportFindings(ctx context.Context, db *sql.DB, w *bufio.Writer, enc encoder, o Options) (int64, error) {
	cond, args := where(o)
	cond = strings.NewReplacer("host", "f.host", "ts_ns", "f.ts_ns").Replace(cond)
	rows, err := db.QueryContext(ctx, `SELECT f.id, f.analyzer, f.host, f.ts, f.ts_ns, f.technique_id, f.technique_name,
	f.tactic, f.related, f.severity, f.confidence, f.title, f.rule, f.matched, f.decoded, f.score, f.features,
	COALESCE(f.incident_id, 0), fe.event_id, fe.artifact_path, fe.record_id, fe.artifact_sha256
	FROM findings f LEFT JOIN finding_evidence fe ON fe.finding_id = f.id`+cond+`
	ORDER BY f.ts_ns, f.id, fe.event_id`, args...)
	if err != nil {
		return 0, fmt.Errorf("export: findings: %w", err)
	}
	defer rows.Close()
	var (
		f             findingRow
		ev            evidenceRow
		evID, evRec   sql.NullInt64
		evPath, evSHA sql.RawBytes
		line          []byte
		count         int64
		cited         int
		open          bool
		current       int64
	)
	flush := func() error {
		_, err := w.Write(line)
		line = line[:0]
		return err
	}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id, (*sql.RawBytes)(&f.analyzer), (*sql.RawBytes)(&f.host), (*sql.RawBytes)(&f.ts), &f.tsNS,
			(*sql.RawBytes)(&f.techniqueID), (*sql.RawBytes)(&f.technique), (*sql.RawBytes)(&f.tactic),
			(*sql.RawBytes)(&f.related), (*sql.RawBytes)(&f.severity), (*sql.RawBytes)(&f.confidence),
			(*sql.RawBytes)(&f.title), (*sql.RawBytes)(&f.rule), (*sql.RawBytes)(&f.matched),
			(*sql.RawBytes)(&f.decoded), &f.score, (*sql.RawBytes)(&f.features), &f.incident,
			&evID, &evPath, &evRec, &evSHA); err != nil {
			return count, fmt.Errorf("export: finding: %w", err)
		}
		if !open || id != current {
			if open {
				line = enc.findingEnd(line, cited)
				if err := flush(); err != nil {
					return count, fmt.Errorf("export: %w", err)
				}
			}
			f.id, current, open, cited = id, id, true, 0
			count++
			line = enc.findingStart(line, &f)
		}
		if evID.Valid {
			ev = evidenceRow{eventID: evID.Int64, recordID: evRec.Int64, artifactPath: evPath, sha256: evSHA}
			line = enc.evidence(line, cited, &ev)
			cited++
			if len(line) >= 64<<10 {
				if err := flush(); err != nil {
					return count, fmt.Errorf("export: %w", err)
				}
			}
		}
	}
	if err := rows.Err(); err != nil {
		return count, fmt.Errorf("export: findings: %w", err)
	}
	if open {
		line = enc.findingEnd(line, cited)
		if err := flush(); err != nil {
			return count, fmt.Errorf("export: %w", err)
		}
	}
	return count, nil
}

// zeroTime is what a line states as the time of a record that has none:
// formats that require a time get the Unix epoch, and a field says why
// (Timesketch's timestamp_desc, ECS's triage.no_time).
const zeroTime = "1970-01-01T00:00:00.0000000Z"

func tsOrEpoch(ts []byte) []byte {
	if len(ts) == 0 {
		return []byte(zeroTime)
	}
	return ts
}
