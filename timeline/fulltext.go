package timeline

import (
	"context"
	"database/sql"
	"fmt"
	"os"
)

// The full-text indexes are read by no stage of a run, only by the
// examiner's searches afterwards, and they cost as much as the analyzers
// on a large log: a timeline has them only when a run asks for them
// (events_fts and scripts_fts are made then, not by schema.sql), so that
// a search of a timeline without them fails rather than finding nothing.
//
// A run builds them into a database of their own (BuildFullText), on a
// connection of its own beside the analyzers, and copies them into the
// timeline (AddFullText) once the analyzers have written: the timeline's
// writes stay in one order, so a rerun gives the same bytes. A timeline
// that has them keeps them up to date when it is added to (Writer.Close).
//
// Each index is built there as a contentless FTS5 table filled in id order
// by one statement, which gives the same rows in its shadow tables as the
// timeline's own 'rebuild' of its external-content table: both tokenize
// the same rows in the same order through the same calls
// (TestFullTextIsRebuild).

// fullTextIndex is one FTS5 table of schema.sql and the table it indexes.
type fullTextIndex struct {
	table, columns, content string
}

// fullTextIndexes are schema.sql's FTS5 tables (TestFullTextIndexesAreSchemas).
var fullTextIndexes = []fullTextIndex{
	{table: "events_fts", columns: "command_line, summary", content: "events"},
	{table: "scripts_fts", columns: "text", content: "scripts"},
}

// create is the statement that makes the index in a timeline, over its
// table's rows.
func (ix fullTextIndex) create() string {
	return fmt.Sprintf(`CREATE VIRTUAL TABLE %s USING fts5(%s, content='%s', content_rowid='id')`, ix.table, ix.columns, ix.content)
}

// fullTextShadows are the tables in which FTS5 keeps an external-content
// or contentless table: what AddFullText copies.
var fullTextShadows = []string{"data", "idx", "docsize", "config"}

// HasFullText reports whether the timeline in db has its full-text
// indexes.
func HasFullText(db *sql.DB) (bool, error) {
	var n int
	err := db.QueryRow(`SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?`, fullTextIndexes[0].table).Scan(&n)
	return n > 0, err
}

// RebuildFullText gives the timeline in db full-text indexes over every
// event and script, built in place on db's connection.
func RebuildFullText(db *sql.DB) error {
	for _, ix := range fullTextIndexes {
		for _, q := range []string{ix.create(), fmt.Sprintf(`INSERT INTO %s(%s) VALUES('rebuild')`, ix.table, ix.table)} {
			if _, err := db.Exec(q); err != nil {
				return fmt.Errorf("timeline: full-text index %s: %w", ix.table, err)
			}
		}
	}
	return nil
}

// BuildFullText builds the full-text indexes of the timeline at
// timelinePath into a new database at into, reading the timeline through a
// read-only connection of its own. The timeline must be in WAL mode (Share)
// if anything writes to it meanwhile. The events' index is built first;
// the scripts' waits for scripts, when not nil, to be closed: the scripts
// are reassembled while the events are indexed.
func BuildFullText(ctx context.Context, timelinePath, into string, scripts <-chan struct{}) error {
	if _, err := os.Stat(into); err == nil {
		return fmt.Errorf("timeline: %s already exists", into)
	}
	source, err := readOnlyURI(timelinePath, "")
	if err != nil {
		return err
	}
	// Written once and thrown away: no journal and no syncs, as in Create.
	db, err := sql.Open("sqlite3", "file:"+into+"?_journal_mode=OFF&_synchronous=OFF&_foreign_keys=off&_mutex=no")
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.ExecContext(ctx, `ATTACH DATABASE ? AS timeline`, source); err != nil {
		return fmt.Errorf("timeline: full-text indexes: %w", err)
	}
	for _, ix := range fullTextIndexes {
		if ix.content == "scripts" && scripts != nil {
			select {
			case <-scripts:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		create := fmt.Sprintf(`CREATE VIRTUAL TABLE main.%s USING fts5(%s, content='')`, ix.table, ix.columns)
		fill := fmt.Sprintf(`INSERT INTO main.%s(rowid, %s) SELECT id, %s FROM timeline.%s ORDER BY id`,
			ix.table, ix.columns, ix.columns, ix.content)
		for _, q := range []string{create, fill} {
			if _, err := db.ExecContext(ctx, q); err != nil {
				return fmt.Errorf("timeline: full-text index %s: %w", ix.table, err)
			}
		}
	}
	return db.Close()
}

// AddFullText gives the timeline in db, which has none, the full-text
// indexes BuildFullText wrote at from, in one transaction.
func AddFullText(ctx context.Context, db *sql.DB, from string) error {
	source, err := readOnlyURI(from, "")
	if err != nil {
		return err
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `ATTACH DATABASE ? AS fulltext`, source); err != nil {
		return fmt.Errorf("timeline: full-text indexes: %w", err)
	}
	err = copyFullText(ctx, conn)
	if _, derr := conn.ExecContext(context.Background(), `DETACH DATABASE fulltext`); err == nil && derr != nil {
		err = fmt.Errorf("timeline: full-text indexes: %w", derr)
	}
	return err
}

func copyFullText(ctx context.Context, conn *sql.Conn) error {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, ix := range fullTextIndexes {
		// The shadow rows CREATE writes are replaced by those built.
		if _, err := tx.ExecContext(ctx, ix.create()); err != nil {
			return fmt.Errorf("timeline: full-text index %s: %w", ix.table, err)
		}
		for _, shadow := range fullTextShadows {
			t := ix.table + "_" + shadow
			for _, q := range []string{`DELETE FROM main.` + t, `INSERT INTO main.` + t + ` SELECT * FROM fulltext.` + t} {
				if _, err := tx.ExecContext(ctx, q); err != nil {
					return fmt.Errorf("timeline: full-text index %s: %w", ix.table, err)
				}
			}
		}
	}
	return tx.Commit()
}

// Share lets connections of their own read the timeline in db while db
// writes to it, once its bulk load is done: it puts the timeline in WAL
// mode, in which readers and the one writer do not wait for each other.
// Unshare ends it.
func Share(db *sql.DB) error {
	return journalMode(db, "wal")
}

// Unshare puts the timeline back out of WAL mode, as Create made it, with
// every page in the database file: the timeline is one file again, which a
// reader can open read-only. Every other connection to it must be closed.
func Unshare(db *sql.DB) error {
	return journalMode(db, "off")
}

func journalMode(db *sql.DB, mode string) error {
	var got string
	if err := db.QueryRow(`PRAGMA journal_mode = ` + mode).Scan(&got); err != nil {
		return fmt.Errorf("timeline: journal mode %s: %w", mode, err)
	}
	if got != mode {
		return fmt.Errorf("timeline: journal mode %s: still %s", mode, got)
	}
	return nil
}
