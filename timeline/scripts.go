package timeline

import (
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"sort"
	"strconv"
	"strings"
)

// part is one 4104 fragment of a script block.
type part struct {
	eventID       int64
	ts            string
	number, total int
	text, path    string
}

// reassembleScripts groups 4104 fragments by host and ScriptBlockId,
// orders them by MessageNumber, drops identical copies of a part (the same
// log seen in a shadow copy or Windows.old) and records the missing parts.
// The fragments come sorted by block, so each block is written as soon as
// its last fragment is read: what is held is one block's parts, not every
// block's (a log of a million one-part blocks held them all before).
func reassembleScripts(db *sql.DB) error {
	tx, err := db.Begin()
	if err != nil {
		return err
	}
	// A run that adds to a case reassembles every host's blocks again.
	if _, err := tx.Exec(`DELETE FROM scripts`); err != nil {
		tx.Rollback()
		return err
	}
	if err := reassembleIn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// reassembleIn reads the fragments and inserts the blocks in one
// transaction: its single connection steps the read while it inserts.
// The blocks go in scriptsPerInsert to a statement: one INSERT per block
// was, by database/sql's work on each, a third of a log of 350k one-part
// blocks' reassembly.
func reassembleIn(tx *sql.Tx) error {
	ins := scriptInserts{tx: tx}
	defer ins.close()
	rows, err := tx.Query(`SELECT id, host, script_block_id, ts, data FROM events
		WHERE source='evtx' AND event_id=4104 AND script_block_id != '' ORDER BY host, script_block_id, id`)
	if err != nil {
		return err
	}
	defer rows.Close()
	type key struct{ host, id string }
	var block key
	var parts []part
	add := func() error {
		if len(parts) == 0 {
			return nil
		}
		s := assemble(parts)
		missing, _ := json.Marshal(s.missing)
		ids, _ := json.Marshal(s.eventIDs)
		sum := sha256.Sum256([]byte(s.text))
		clear(parts)
		parts = parts[:0]
		return ins.add(block.host, block.id, s.first, s.last, s.expected, s.found, string(missing),
			hex.EncodeToString(sum[:]), s.text, s.path, string(ids))
	}
	for rows.Next() {
		var k key
		var p part
		var data string
		if err := rows.Scan(&p.eventID, &k.host, &k.id, &p.ts, &data); err != nil {
			return err
		}
		if k != block {
			if err := add(); err != nil {
				return err
			}
			block = k
		}
		p.setFields(data)
		parts = append(parts, p)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if err := add(); err != nil {
		return err
	}
	return ins.flush()
}

// scriptColumns is how many columns a scripts row inserts (insertScripts),
// and scriptTextColumn which of them is the text.
const (
	scriptColumns    = 11
	scriptTextColumn = 8
)

// scriptsPerInsert is how many blocks one INSERT carries, and
// maxPendingText the most text held for one before it is sent anyway (a
// block can hold megabytes).
const (
	scriptsPerInsert = 64
	maxPendingText   = 8 << 20
)

// scriptInserts gathers blocks' rows and inserts them scriptsPerInsert at
// a time, in the order given, so that ids are as one insert each gave.
type scriptInserts struct {
	tx        *sql.Tx
	many, one *sql.Stmt
	args      []any
	text      int
}

func (ins *scriptInserts) add(row ...any) error {
	ins.args = append(ins.args, row...)
	ins.text += len(row[scriptTextColumn].(string))
	if len(ins.args) == scriptsPerInsert*scriptColumns || ins.text > maxPendingText {
		return ins.flush()
	}
	return nil
}

// flush inserts the rows gathered: a whole batch in one statement, fewer
// one by one.
func (ins *scriptInserts) flush() (err error) {
	args := ins.args
	defer func() { clear(ins.args); ins.args, ins.text = ins.args[:0], 0 }()
	if len(args) == scriptsPerInsert*scriptColumns {
		if ins.many == nil {
			if ins.many, err = ins.tx.Prepare(insertScripts(scriptsPerInsert)); err != nil {
				return err
			}
		}
		_, err = ins.many.Exec(args...)
		return err
	}
	for ; len(args) > 0; args = args[scriptColumns:] {
		if ins.one == nil {
			if ins.one, err = ins.tx.Prepare(insertScripts(1)); err != nil {
				return err
			}
		}
		if _, err = ins.one.Exec(args[:scriptColumns]...); err != nil {
			return err
		}
	}
	return nil
}

func (ins *scriptInserts) close() {
	for _, s := range []*sql.Stmt{ins.many, ins.one} {
		if s != nil {
			s.Close()
		}
	}
}

// insertScripts is an INSERT of n scripts rows.
func insertScripts(n int) string {
	row := "(" + strings.TrimSuffix(strings.Repeat("?,", scriptColumns), ",") + ")"
	return `INSERT INTO scripts (host, script_block_id, first_ts, last_ts, parts_expected, parts_found, missing_parts, sha256, text, path, event_ids) VALUES ` +
		strings.TrimSuffix(strings.Repeat(row+",", n), ",")
}

// setFields sets p's number, total, text and path from a 4104 event's
// data.
func (p *part) setFields(data string) {
	var number, total string
	if !ReadFlatJSON(data, func(k, v string) {
		switch k {
		case "MessageNumber":
			number = v
		case "MessageTotal":
			total = v
		case "ScriptBlockText":
			p.text = v
		case "Path":
			p.path = v
		}
	}) {
		var fields map[string]any
		json.Unmarshal([]byte(data), &fields)
		number, total = str(fields["MessageNumber"]), str(fields["MessageTotal"])
		p.text, p.path = str(fields["ScriptBlockText"]), str(fields["Path"])
	}
	p.number, _ = strconv.Atoi(number)
	p.total, _ = strconv.Atoi(total)
}

type assembled struct {
	first, last, text, path string
	expected, found         int
	missing                 []int
	eventIDs                []int64
}

func assemble(parts []part) assembled {
	sort.SliceStable(parts, func(i, j int) bool { return parts[i].number < parts[j].number })
	var s assembled
	s.missing = []int{}
	byNumber := map[int]bool{}
	var text strings.Builder
	for _, p := range parts {
		if p.total > s.expected {
			s.expected = p.total
		}
		if p.ts != "" && (s.first == "" || p.ts < s.first) { // a part without a time bounds nothing
			s.first = p.ts
		}
		if p.ts > s.last {
			s.last = p.ts
		}
		if s.path == "" {
			s.path = p.path
		}
		if byNumber[p.number] {
			continue // a copy of a part already taken
		}
		byNumber[p.number] = true
		s.eventIDs = append(s.eventIDs, p.eventID)
		text.WriteString(p.text)
	}
	s.found = len(byNumber)
	if s.expected < s.found {
		s.expected = s.found
	}
	for n := 1; n <= s.expected && n <= 1<<16; n++ {
		if !byNumber[n] {
			s.missing = append(s.missing, n)
		}
	}
	s.text = text.String()
	return s
}

func str(v any) string {
	s, _ := v.(string)
	return s
}
