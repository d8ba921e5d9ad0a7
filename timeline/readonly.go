package timeline

import (
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
)

// OpenReadOnly opens an existing timeline database for reading only, as
// the stages that hand a finished case on (export) do: SQLite refuses any
// write through it, so a reader cannot change the case it reads.
func OpenReadOnly(path string) (*sql.DB, error) {
	// As in Create, the one connection is used by one goroutine at a
	// time, so SQLite's own mutex (_mutex=no) only cost a lock and an
	// unlock on every column read: a tenth of an export. A time-ordered
	// read visits every host's pages in turn, which a 64 MiB cache keeps
	// rather than reading them again.
	return openReadOnly(path, 65536)
}

// openReadOnly opens the timeline at path read-only, without SQLite's
// per-connection mutex, with a page cache of cacheKiB, on one connection.
func openReadOnly(path string, cacheKiB int) (*sql.DB, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("timeline: %w", err)
	}
	uri, err := readOnlyURI(path, fmt.Sprintf("&_foreign_keys=off&_query_only=1&_mutex=no&_cache_size=-%d", cacheKiB))
	if err != nil {
		return nil, err
	}
	db, err := sql.Open("sqlite3", uri)
	if err != nil {
		return nil, err
	}
	return checkVersion(db)
}

// readOnlyURI is the URI that opens the database at path read-only, with
// the query parameters in more: a URI, so that mode=ro reaches SQLite, in
// which the path is escaped.
func readOnlyURI(path, more string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", fmt.Errorf("timeline: %w", err)
	}
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(abs), RawQuery: "mode=ro" + more}
	return u.String(), nil
}

// OpenLane opens an existing timeline read-only for an analyzer run beside
// those on the run's own connection: its cache is a quarter of the run's,
// since each lane adds its own to the run's peak.
func OpenLane(path string) (*sql.DB, error) {
	return openReadOnly(path, 16384)
}

// OpenPass opens an existing timeline read-only for a pass that streams
// its events once, in id order, on one connection, and reads a few rows by
// id on a second: each connection's cache is small, since the stream
// visits each page once.
func OpenPass(path string) (*sql.DB, error) {
	db, err := openReadOnly(path, 4096)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(2)
	return db, nil
}
