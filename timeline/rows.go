package timeline

import (
	"context"
	"database/sql/driver"
	"fmt"
	"io"
	"strings"

	"github.com/mattn/go-sqlite3"
)

// column is one column of the events table and how an Event fills it:
// exactly one of text and int is set. eventColumns is the one place that
// says which columns an insert writes, in which order and with which type;
// the INSERT statements, the bindings and the kinds string are made from it.
type column struct {
	name string
	text func(*Event) string
	int  func(*Event) int64
}

var eventColumns = []column{
	{name: "ts", text: func(e *Event) string { return e.ts }},
	{name: "ts_ns", int: func(e *Event) int64 { return UnixNano(e.TS) }},
	{name: "host", text: func(e *Event) string { return e.Host }},
	{name: "artifact_id", int: func(e *Event) int64 { return e.ArtifactID }},
	{name: "record_id", int: func(e *Event) int64 { return e.RecordID }},
	{name: "source", text: func(e *Event) string { return e.Source }},
	{name: "event_id", int: func(e *Event) int64 { return int64(e.EventID) }},
	{name: "channel", text: func(e *Event) string { return e.Channel }},
	{name: "provider", text: func(e *Event) string { return e.Provider }},
	{name: "computer", text: func(e *Event) string { return e.Computer }},
	{name: "user", text: func(e *Event) string { return e.User }},
	{name: "level", int: func(e *Event) int64 { return int64(e.Level) }},
	{name: "process", text: func(e *Event) string { return e.Process }},
	{name: "parent_process", text: func(e *Event) string { return e.ParentProcess }},
	{name: "command_line", text: func(e *Event) string { return e.CommandLine }},
	{name: "script_block_id", text: func(e *Event) string { return e.ScriptBlockID }},
	{name: "recovered", int: func(e *Event) int64 {
		if e.Recovered {
			return 1
		}
		return 0
	}},
	{name: "summary", text: func(e *Event) string { return e.Summary }},
	{name: "data", text: func(e *Event) string { return e.data }},
}

// columnKinds is 'i' (integer) or 't' (text) per column, in order.
func columnKinds(cols []column) string {
	var b strings.Builder
	for _, c := range cols {
		if c.int != nil {
			b.WriteByte('i')
		} else {
			b.WriteByte('t')
		}
	}
	return b.String()
}

// insertSQL is an INSERT of n rows of cols into table, with positional
// parameters row by row.
func insertSQL(table string, cols []column, n int) string {
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = c.name
	}
	row := "(" + strings.TrimSuffix(strings.Repeat("?,", len(cols)), ",") + ")"
	return fmt.Sprintf("INSERT INTO %s (%s) VALUES %s", table, strings.Join(names, ", "),
		strings.TrimSuffix(strings.Repeat(row+",", n), ","))
}

// rowsPerInsert is how many events one INSERT statement carries. go-sqlite3
// binds a statement's parameters, resets and steps it in one cgo call when
// it is run through QueryContext, so a statement of many rows crosses into
// C once for all of them: per row, that crossing and database/sql's
// bookkeeping cost more than SQLite's own insert. 64 rows of 19 columns
// stay far below SQLite's 32,766 parameters.
const rowsPerInsert = 64

// rowInserter inserts events through prepared multi-row statements of the
// driver connection it was made on; it must only be used inside that
// connection's Conn.Raw.
type rowInserter struct {
	many, one *sqlite3.SQLiteStmt // rowsPerInsert rows, and one row for the rest
	args      []driver.NamedValue
	dest      []driver.Value
}

// newRowInserter prepares the event inserts on dc, the go-sqlite3
// connection database/sql's Conn.Raw hands over.
func newRowInserter(dc any) (*rowInserter, error) {
	c, ok := dc.(*sqlite3.SQLiteConn)
	if !ok {
		return nil, fmt.Errorf("timeline: driver connection is %T, not go-sqlite3's", dc)
	}
	ins := &rowInserter{args: make([]driver.NamedValue, rowsPerInsert*len(eventColumns))}
	for i := range ins.args {
		ins.args[i].Ordinal = i + 1
	}
	for _, p := range []struct {
		stmt **sqlite3.SQLiteStmt
		n    int
	}{{&ins.many, rowsPerInsert}, {&ins.one, 1}} {
		s, err := c.Prepare(insertSQL("events", eventColumns, p.n))
		if err != nil {
			ins.close()
			return nil, fmt.Errorf("timeline: prepare insert: %w", err)
		}
		*p.stmt = s.(*sqlite3.SQLiteStmt)
	}
	return ins, nil
}

// insert writes events in order, encoding those not encoded yet.
func (ins *rowInserter) insert(events []Event) error {
	for len(events) > 0 {
		n, stmt := rowsPerInsert, ins.many
		if len(events) < rowsPerInsert {
			n, stmt = 1, ins.one
		}
		args := ins.args[:n*len(eventColumns)]
		k := 0
		for i := range events[:n] {
			e := &events[i]
			if !e.encoded {
				if err := e.Encode(); err != nil {
					return err
				}
			}
			for _, c := range eventColumns {
				setValue(&args[k], c, e)
				k++
			}
		}
		err := ins.exec(stmt, args)
		if err != nil {
			return fmt.Errorf("timeline: insert %d events: %w", n, err)
		}
		events = events[n:]
	}
	return nil
}

// setValue sets a parameter to column c of e. A value equal to the one the
// parameter held for the statement before is kept rather than boxed again:
// host, channel, provider and the like repeat from row to row, and boxing
// each of them was most of the writer's allocations.
func setValue(arg *driver.NamedValue, c column, e *Event) {
	if c.int != nil {
		v := c.int(e)
		if old, ok := arg.Value.(int64); !ok || old != v {
			arg.Value = v
		}
		return
	}
	v := c.text(e)
	if old, ok := arg.Value.(string); !ok || old != v {
		arg.Value = v
	}
}

// release drops the parameters' values, which keep the last events' text
// alive otherwise.
func (ins *rowInserter) release() {
	for i := range ins.args {
		ins.args[i].Value = nil
	}
}

// exec runs an INSERT through QueryContext, the driver's single-crossing
// path, and steps it to the end: Next returning io.EOF is what says the
// statement ran to completion, whether the driver steps eagerly or not.
func (ins *rowInserter) exec(stmt *sqlite3.SQLiteStmt, args []driver.NamedValue) error {
	rows, err := stmt.QueryContext(context.Background(), args)
	if err != nil {
		return err
	}
	if err := rows.Next(ins.dest); err != io.EOF {
		rows.Close()
		if err == nil {
			err = fmt.Errorf("timeline: an insert returned a row")
		}
		return err
	}
	return rows.Close()
}

func (ins *rowInserter) close() {
	ins.release()
	for _, s := range []*sqlite3.SQLiteStmt{ins.many, ins.one} {
		if s != nil {
			s.Close()
		}
	}
	ins.many, ins.one = nil, nil
}
