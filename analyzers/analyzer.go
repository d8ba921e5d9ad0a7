package analyzers

import (
	"context"
	"database/sql"
	"encoding/json"
	"iter"
	"sort"
	"strings"
	"time"

	"triage/timeline"
)

// Technique is a MITRE ATT&CK technique or sub-technique, from the
// timeline's vocabulary.
type Technique = timeline.Technique

// Meta describes an analyzer for the report and the registry.
type Meta struct {
	ID          string // stable, lowercase, sorted in the registry
	Technique   Technique
	Severity    timeline.Severity // the highest severity it assigns
	Description string
	References  []string
}

// Analyzer finds one technique in the timeline.
type Analyzer interface {
	Meta() Meta
	Analyze(ctx context.Context, in *Input) ([]Finding, error)
}

// Finding is one detection, with why it fired and the events behind it.
type Finding struct {
	Host       string
	TS         time.Time
	Technique  Technique
	Related    []string // further technique ids the evidence shows
	Severity   timeline.Severity
	Confidence string // low, medium, high
	Title      string
	Rule       string // why it fired, one sentence
	Matched    string // the text that matched, verbatim
	Decoded    string // decoded or deobfuscated form
	Score      int    // 0..100 where the analyzer scores
	Features   map[string]any
	EventIDs   []int64 // timeline events, first the one that fired
	RuleID     string  // the Sigma rule id, for analyzer sigma

	analyzer string
	incident int64
	keys     map[string]bool
	// kinds are the record kinds (timeline.RecordKind) of the events
	// linked, a few at most: a map each was a fifth of the memory of the
	// findings an analyzer holds until it folds them.
	kinds   []string
	started string // the program whose process start the finding is about, lowercase file name
}

// Event is a timeline event as the analyzers read it.
type Event struct {
	ID, ArtifactID                      int64
	TS                                  time.Time
	Host, Source                        string
	EventID, Level                      int
	Process, ParentProcess, CommandLine string
	ScriptBlockID, User, Channel        string
	Provider                            string
	Category                            timeline.Category
	imageName                           string // lowercase file name of Process, once asked for
	data                                string
	fields                              map[string]any
}

// image is the lowercase file name of the event's process, computed once:
// the analyzers ask for it of every process start many times.
func (e *Event) image() string {
	if e.imageName == "" {
		e.imageName = base(e.Process)
	}
	return e.imageName
}

// Field returns a data field as text ("" when absent).
func (e *Event) Field(name string) string {
	if e.fields == nil {
		e.fields = map[string]any{}
		json.Unmarshal([]byte(e.data), &e.fields)
	}
	switch v := e.fields[name].(type) {
	case string:
		return v
	case nil:
		return ""
	default:
		b, _ := json.Marshal(v)
		return string(b)
	}
}

// dataText is every text field of the event's data, one per line, in key
// order: what a pattern over the whole record reads, without the escaping
// of the JSON column.
func (e *Event) dataText() string {
	e.Field("")
	keys := make([]string, 0, len(e.fields))
	for k := range e.fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		if v, ok := e.fields[k].(string); ok {
			b.WriteString(v)
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// Strings returns a data field holding a list of strings.
func (e *Event) Strings(name string) []string {
	e.Field(name)
	list, _ := e.fields[name].([]any)
	out := make([]string, 0, len(list))
	for _, v := range list {
		if s, ok := v.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// Script is a reassembled 4104 script block.
type Script struct {
	ID                     int64
	Host, BlockID, Path    string
	TS                     time.Time
	Text                   string
	EventIDs               []int64
	PartsExpected, PartsOK int
}

// Input gives analyzers read access to the timeline and the run options.
type Input struct {
	db   *sql.DB
	Opts Options
	// reader, when not nil, is the read-only connections to the same
	// timeline on which the Sigma pass reads (aside.go).
	reader *sql.DB

	// ctx is Run's, for the streams (see stream.go), which yield events
	// and keep their first error in err for Run to return.
	ctx context.Context
	err error
	// reads are the distinct image paths and event ids of the streamed
	// sets, read once for every analyzer (see stream.go).
	reads *sharedReads
}

// Events returns the events matching a SQL condition, in id order. A
// condition needs no lower() before a LIKE: SQLite's LIKE folds ASCII
// case as its lower() does (ASCII alone, without ICU), and lower() copied
// the column for every term (TestLikeFoldsAsLowerDoes).
func (in *Input) Events(ctx context.Context, where string, args ...any) ([]Event, error) {
	events, err := readEvents(ctx, in.db, `SELECT `+eventColumns+` FROM events WHERE `+where+` ORDER BY id`, args, nil)
	if err != nil {
		return nil, err
	}
	out := make([]Event, len(events))
	for i, e := range events {
		out[i] = *e
	}
	return out, nil
}

const scriptColumns = `id, host, script_block_id, path, first_ts, text, event_ids, parts_expected, parts_found`

// scanScripts yields the scripts of rows, closing rows at the end.
func scanScripts(rows *sql.Rows) iter.Seq2[*Script, error] {
	return func(yield func(*Script, error) bool) {
		defer rows.Close()
		for rows.Next() {
			var s Script
			var ts, ids string
			if err := rows.Scan(&s.ID, &s.Host, &s.BlockID, &s.Path, &ts, &s.Text, &ids, &s.PartsExpected, &s.PartsOK); err != nil {
				yield(nil, err)
				return
			}
			s.TS, _ = timeline.ParseTime(ts)
			json.Unmarshal([]byte(ids), &s.EventIDs)
			if !yield(&s, nil) {
				return
			}
		}
		if err := rows.Err(); err != nil {
			yield(nil, err)
		}
	}
}

// scripts yields every reassembled script block in id order, a chunk at a
// time, as the event streams do (see stream.go).
func (in *Input) scripts() iter.Seq[*Script] {
	return func(yield func(*Script) bool) {
		var after int64
		for {
			rows, err := in.db.QueryContext(in.ctx, `SELECT `+scriptColumns+` FROM scripts WHERE id > ? ORDER BY id LIMIT ?`, after, scriptChunk)
			if err != nil {
				in.fail(err)
				return
			}
			var chunk []*Script
			for s, err := range scanScripts(rows) {
				if err != nil {
					in.fail(err)
					return
				}
				chunk = append(chunk, s)
			}
			for _, s := range chunk {
				if !yield(s) {
					return
				}
			}
			if len(chunk) < scriptChunk {
				return
			}
			after = chunk[len(chunk)-1].ID
		}
	}
}

// scriptChunk is how many scripts a chunk holds: scripts run to megabytes.
const scriptChunk = 64

// base is the lowercase file name of a Windows path.
func base(p string) string {
	// Lowered after the cut, where the name is often lower case already:
	// the analyzers ask this of every process start several times.
	return strings.ToLower(p[strings.LastIndexAny(p, `\/`)+1:])
}

// processEvents is the condition for process-creation events, whichever
// log recorded them.
const processEvents = `((source='` + timeline.SourceEVTX + `' AND event_id=4688 AND provider='` + timeline.ProviderSecurity + `')
	OR (source='` + timeline.SourceEVTX + `' AND event_id=1 AND provider='` + timeline.ProviderSysmon + `'))`
