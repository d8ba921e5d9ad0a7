package report

import (
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
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
// memory.
func writeTimelineCSV(w io.Writer, db *sql.DB, d *data) error {
	rows, err := db.Query(`SELECT e.id, e.ts, e.host, e.source, e.event_id, e.channel, e.provider, e.computer, e.user,
		e.process, e.parent_process, e.command_line, e.script_block_id, e.recovered, e.summary, a.path, e.record_id, a.sha256
		FROM events e JOIN artifacts a ON a.id = e.artifact_id ORDER BY e.ts_ns, e.id`)
	if err != nil {
		return err
	}
	defer rows.Close()
	cw := newCSV(w)
	writeRow(cw, "event_id_in_db", "time_utc", "time_local", "host", "source", "event_id", "channel", "provider", "computer",
		"user", "process", "parent_process", "command_line", "script_block_id", "recovered", "summary", "artifact", "record_id",
		"artifact_sha256")
	for rows.Next() {
		var id, eventID, recordID int64
		var recovered bool
		var ts, host, source, channel, provider, computer, user, process, parent, cmd, sb, summary, path, sha string
		if err := rows.Scan(&id, &ts, &host, &source, &eventID, &channel, &provider, &computer, &user, &process, &parent,
			&cmd, &sb, &recovered, &summary, &path, &recordID, &sha); err != nil {
			return err
		}
		if err := writeRow(cw, strconv.FormatInt(id, 10), ts, d.local(ts), host, source, strconv.FormatInt(eventID, 10), channel,
			provider, computer, user, process, parent, cmd, sb, strconv.FormatBool(recovered), summary, path,
			strconv.FormatInt(recordID, 10), sha); err != nil {
			return err
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return err
	}
	return rows.Err()
}
