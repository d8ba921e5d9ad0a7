package report

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
	"unsafe"

	"triage/timeline"
)

// maxCell is the most characters (UTF-16 units) an Excel cell holds; a
// longer cell is cut, or Excel cuts it without a word.
const maxCell = 32767

// nulMark stands for a NUL byte in a cell: a raw NUL ends the text for many
// readers of CSV, and U+2400 SYMBOL FOR NULL cannot be taken for a path
// character or for data the way an escape like "\x00" can.
const nulMark = "\u2400"

// safeCell makes one cell safe to open in a spreadsheet. A NUL byte is
// shown as nulMark. A cell longer than Excel holds is cut with a visible
// marker saying where and how long the text was; the full text stays in
// timeline.db. A cell a spreadsheet would run as a formula (one that starts
// with = + - @, a tab or a carriage return) gets a leading apostrophe, which
// Excel and Timeline Explorer show as text.
func safeCell(s string) string {
	s = strings.ReplaceAll(s, "\x00", nulMark)
	formula := s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0]))
	room := maxCell
	if formula {
		room--
	}
	s = capCell(s, room)
	if formula {
		return "'" + s
	}
	return s
}

// capCell cuts s to at most room UTF-16 units, marker included.
func capCell(s string, room int) string {
	if len(s) <= room {
		return s // even all ASCII, within bounds
	}
	units, total := 0, utf16Len(s)
	if total <= room {
		return s
	}
	marker := func(at int) string {
		return fmt.Sprintf(" [… cut here at character %d of %d: the full text is in timeline.db]", at, total)
	}
	keep := room - utf16Len(marker(room))
	for i, r := range s {
		w := 1
		if r > 0xffff {
			w = 2
		}
		if units+w > keep {
			return s[:i] + marker(units)
		}
		units += w
	}
	return s
}

func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n++
		if r > 0xffff {
			n++
		}
	}
	return n
}

// newCSV writes RFC 4180 CSV with a UTF-8 byte order mark, which Excel needs
// to read UTF-8.
func newCSV(w io.Writer) *csv.Writer {
	io.WriteString(w, "\ufeff")
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	return cw
}

func writeRow(cw *csv.Writer, cells ...string) error {
	for i := range cells {
		cells[i] = safeCell(cells[i])
	}
	return cw.Write(cells)
}

// writeFindingsCSV writes every finding with every record it cites, read
// from the timeline a chunk of findings at a time: the report lists at most
// maxEvidenceShown records a finding, the CSV all of them.
func writeFindingsCSV(w io.Writer, db *sql.DB, d *data) error {
	cw := newCSV(w)
	writeRow(cw, "finding_id", "time_utc", "time_local", "host", "technique_id", "technique_name", "tactic", "related",
		"severity", "confidence", "score", "title", "rule", "matched", "decoded", "incident_id",
		"evidence_event_ids", "evidence_artifacts", "evidence_record_ids", "evidence_sha256", "rule_id")
	var after int64
	for {
		fs, err := findingsAfter(db, d, after)
		if err != nil {
			return err
		}
		for _, f := range fs {
			if err := writeFindingRow(cw, &f); err != nil {
				return err
			}
		}
		if len(fs) < findingsChunk {
			break
		}
		after = fs[len(fs)-1].ID
	}
	cw.Flush()
	return cw.Error()
}

// TimelineCSVName is the timeline's CSV export, written by Render or, in a
// run, by WriteTimelineCSV beside the analyzers.
const TimelineCSVName = "timeline.csv"

// WriteTimelineCSV writes timeline.csv into dir from the events in db, in
// time order, with local times in loc. It only reads the events and
// artifacts tables, which are final once the ingest has closed its writer,
// so a run calls it on a connection of its own while the analyzers write
// their findings through another: it reads the events in pages, each a
// statement of its own, so that a writer waits for one page at most, never
// for the whole file. It stops with ctx's error once ctx is done.
func WriteTimelineCSV(ctx context.Context, db *sql.DB, dir string, loc *time.Location) error {
	if loc == nil {
		loc = time.UTC
	}
	return writeOutput(filepath.Join(dir, TimelineCSVName), func(w io.Writer) error {
		return writeTimelineCSV(ctx, w, db, loc)
	})
}

// timelinePage is how many events one statement of writeTimelineCSV reads.
const timelinePage = 4096

// The events in (ts_ns, id) order, a page at a time: those at the last
// page's time after its last id, then those after that time. Split in two,
// each is a seek in the events_ts index (whose entries end with the id),
// where one condition on both would scan again every event at the same
// time on every page.
const (
	timelineColumns = `SELECT id, ts, ts_ns, host, source, event_id, channel, provider, computer, user, process,
		parent_process, command_line, script_block_id, recovered, summary, artifact_id, record_id FROM events `
	timelineSameTime = timelineColumns + `WHERE ts_ns = ? AND id > ? ORDER BY id LIMIT ?`
	timelineLater    = timelineColumns + `WHERE ts_ns > ? ORDER BY ts_ns, id LIMIT ?`
)

// findingsChunk is how many findings writeFindingsCSV reads at a time.
const findingsChunk = 256

// findingsAfter reads the findingsChunk findings after id after, each
// with every record it cites.
func findingsAfter(db *sql.DB, d *data, after int64) ([]finding, error) {
	rows, err := db.Query(`SELECT id, host, ts, technique_id, technique_name, tactic, related, severity, confidence,
		title, rule, matched, decoded, score, coalesce(incident_id, 0), rule_id FROM findings WHERE id > ? ORDER BY id LIMIT ?`, after, findingsChunk)
	if err != nil {
		return nil, err
	}
	var fs []finding
	for rows.Next() {
		var f finding
		var related string
		if err := rows.Scan(&f.ID, &f.Host, &f.TS, &f.TechniqueID, &f.TechniqueName, &f.Tactic, &related, &f.Severity,
			&f.Confidence, &f.Title, &f.Rule, &f.Matched, &f.Decoded, &f.Score, &f.Incident, &f.RuleID); err != nil {
			rows.Close()
			return nil, err
		}
		json.Unmarshal([]byte(related), &f.Related)
		f.TechniqueName = techniqueName(f.TechniqueID, f.TechniqueName)
		f.Local = d.local(f.TS)
		fs = append(fs, f)
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(fs) == 0 {
		return fs, err
	}
	index := map[int64]int{}
	for i := range fs {
		index[fs[i].ID] = i
	}
	rows, err = db.Query(`SELECT fe.finding_id, fe.event_id, fe.artifact_path, fe.record_id, fe.artifact_sha256
		FROM finding_evidence fe JOIN events e ON e.id = fe.event_id WHERE fe.finding_id BETWEEN ? AND ? ORDER BY fe.finding_id, fe.event_id`,
		fs[0].ID, fs[len(fs)-1].ID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var e evidence
		if err := rows.Scan(&id, &e.EventID, &e.Path, &e.RecordID, &e.SHA256); err != nil {
			return nil, err
		}
		if i, ok := index[id]; ok {
			fs[i].Evidence = append(fs[i].Evidence, e)
		}
	}
	return fs, rows.Err()
}

func writeFindingRow(cw *csv.Writer, f *finding) error {
	var ids, paths, recs, hashes []string
	for _, e := range f.Evidence {
		ids = append(ids, strconv.FormatInt(e.EventID, 10))
		paths = append(paths, e.Path)
		recs = append(recs, strconv.FormatInt(e.RecordID, 10))
		hashes = append(hashes, e.SHA256)
	}
	incident := ""
	if f.Incident > 0 {
		incident = strconv.FormatInt(f.Incident, 10)
	}
	return writeRow(cw, strconv.FormatInt(f.ID, 10), f.TS, f.Local, f.Host, f.TechniqueID, f.TechniqueName, f.Tactic,
		strings.Join(f.Related, " "), f.Severity, f.Confidence, strconv.Itoa(f.Score), f.Title, f.Rule, f.Matched, f.Decoded,
		incident, strings.Join(ids, " "), strings.Join(paths, " | "), strings.Join(recs, " "), strings.Join(hashes, " "), f.RuleID)
}

// writeTimelineCSV streams the events table, so its size does not bound
// memory. The artifact's path and hash come from a map of the artifacts,
// which are few, rather than a join per event.
func writeTimelineCSV(ctx context.Context, w io.Writer, db *sql.DB, loc *time.Location) error {
	artifacts, err := loadArtifactNames(db)
	if err != nil {
		return err
	}
	same, err := db.Prepare(timelineSameTime)
	if err != nil {
		return err
	}
	defer same.Close()
	later, err := db.Prepare(timelineLater)
	if err != nil {
		return err
	}
	defer later.Close()
	bw := bufio.NewWriterSize(w, 1<<20)
	bw.WriteString("\ufeff")
	t := &timelineWriter{w: bw, artifacts: artifacts, loc: loc, lastSecond: math.MinInt64, ns: math.MinInt64, id: math.MinInt64}
	t.row = appendRow(t.row[:0], "event_id_in_db", "time_utc", "time_local", "host", "source", "event_id", "channel", "provider",
		"computer", "user", "process", "parent_process", "command_line", "script_block_id", "recovered", "summary", "artifact",
		"record_id", "artifact_sha256")
	bw.Write(t.row)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		// The rows at the last time first; when they run out, the page is
		// finished with the rows after it.
		n, err := t.page(same, t.ns, t.id, timelinePage)
		if err != nil {
			return err
		}
		if n == timelinePage {
			continue
		}
		m, err := t.page(later, t.ns, timelinePage-n)
		if err != nil {
			return err
		}
		if n+m == 0 {
			break
		}
	}
	return bw.Flush()
}

// loadArtifactNames maps each artifact's id to its path and SHA-256.
func loadArtifactNames(db *sql.DB) (map[int64][2]string, error) {
	rows, err := db.Query(`SELECT id, path, sha256 FROM artifacts`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int64][2]string{}
	for rows.Next() {
		var id int64
		var path, sha string
		if err := rows.Scan(&id, &path, &sha); err != nil {
			return nil, err
		}
		out[id] = [2]string{path, sha}
	}
	return out, rows.Err()
}

// timelineWriter is writeTimelineCSV's state between pages.
type timelineWriter struct {
	w         *bufio.Writer
	artifacts map[int64][2]string
	loc       *time.Location
	ns, id    int64  // the last row written: where the next page starts
	row       []byte // the row being encoded
	// The local time of the last second seen: the rows are in time order,
	// and a burst of events shares its second.
	lastSecond int64
	lastLocal  string
	num        [4][]byte // scratch for the numbers of a row
}

// page writes the rows of one statement and returns how many there were.
func (t *timelineWriter) page(stmt *sql.Stmt, args ...any) (int, error) {
	rows, err := stmt.Query(args...)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	n := 0
	var id, ns, eventID, artifactID, recordID int64
	var recovered bool
	// The text columns are read in place (RawBytes, valid until the next
	// row) and seen as strings only while the row is encoded: a string per
	// cell was most of what the writer allocated.
	var text [12]sql.RawBytes
	ts, host, source, channel, provider, computer := &text[0], &text[1], &text[2], &text[3], &text[4], &text[5]
	user, process, parent, cmd, sb, summary := &text[6], &text[7], &text[8], &text[9], &text[10], &text[11]
	for rows.Next() {
		if err := rows.Scan(&id, ts, &ns, host, source, &eventID, channel, provider, computer, user, process, parent,
			cmd, sb, &recovered, summary, &artifactID, &recordID); err != nil {
			return n, err
		}
		a := t.artifacts[artifactID]
		t.num[0] = strconv.AppendInt(t.num[0][:0], id, 10)
		t.num[1] = strconv.AppendInt(t.num[1][:0], eventID, 10)
		t.num[2] = strconv.AppendInt(t.num[2][:0], recordID, 10)
		t.row = appendRow(t.row[:0], view(t.num[0]), view(*ts), t.local(view(*ts), ns), view(*host), view(*source),
			view(t.num[1]), view(*channel), view(*provider), view(*computer), view(*user), view(*process), view(*parent),
			view(*cmd), view(*sb), strconv.FormatBool(recovered), view(*summary), a[0], view(t.num[2]), a[1])
		if _, err := t.w.Write(t.row); err != nil {
			return n, err
		}
		t.ns, t.id = ns, id
		n++
	}
	return n, rows.Err()
}

// view is b as a string without a copy, for a cell encoded before b is
// reused; nothing may keep it.
func view(b []byte) string {
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// local is ts in the writer's zone, as data.local renders it. The stored
// nanoseconds stand for ts when they render back to it (not for a time
// outside the years they can hold), which saves parsing the text.
func (t *timelineWriter) local(ts string, ns int64) string {
	if ts == "" {
		return ""
	}
	var tm time.Time
	var b [len(timeline.TimeLayout)]byte
	if u := time.Unix(0, ns).UTC(); string(timeline.AppendTime(b[:0], u)) == ts {
		tm = u
	} else {
		var err error
		if tm, err = timeline.ParseTime(ts); err != nil || tm.IsZero() {
			return ""
		}
	}
	sec := tm.Unix()
	if sec != t.lastSecond || t.lastLocal == "" {
		t.lastSecond, t.lastLocal = sec, tm.In(t.loc).Format("2006-01-02 15:04:05 MST")
	}
	return t.lastLocal
}

// appendRow appends cells as one CSV row, each made safe by safeCell, in
// the bytes encoding/csv writes with UseCRLF (newCSV's writer): a cell is
// quoted when it holds a comma, a quote or a line break or starts with a
// space, or is \.; inside quotes a quote is doubled, a line feed becomes
// CR LF and a carriage return is dropped.
func appendRow(dst []byte, cells ...string) []byte {
	for i, c := range cells {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendCell(dst, safeCell(c))
	}
	return append(dst, '\r', '\n')
}

func appendCell(dst []byte, s string) []byte {
	if !needsQuotes(s) {
		return append(dst, s...)
	}
	dst = append(dst, '"')
	for len(s) > 0 {
		i := strings.IndexAny(s, "\"\r\n")
		if i < 0 {
			i = len(s)
		}
		dst = append(dst, s[:i]...)
		s = s[i:]
		if len(s) > 0 {
			switch s[0] {
			case '"':
				dst = append(dst, '"', '"')
			case '\n':
				dst = append(dst, '\r', '\n')
			}
			s = s[1:]
		}
	}
	return append(dst, '"')
}

// needsQuotes is encoding/csv's rule for a comma-separated cell.
func needsQuotes(s string) bool {
	if s == "" {
		return false
	}
	if s == `\.` {
		return true
	}
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\n', '\r', '"', ',':
			return true
		}
	}
	r, _ := utf8.DecodeRuneInString(s)
	return unicode.IsSpace(r)
}
