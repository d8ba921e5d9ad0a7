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
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("timeline: %w", err)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("timeline: %w", err)
	}
	// A URI, so that mode=ro reaches SQLite; the path is escaped in it.
	// As in Create, the one connection is used by one goroutine at a
	// time, so SQLite's own mutex (_mutex=no) only cost a lock and an
	// unlock on every column read: a tenth of an export. A time-ordered
	// read visits every host's pages in turn, which a 64 MiB cache keeps
	// rather than reading them again.
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(abs),
		RawQuery: "mode=ro&_foreign_keys=off&_query_only=1&_mutex=no&_cache_size=-65536"}
	db, err := sql.Open("sqlite3", u.String())
	if err != nil {
		return nil, err
	}
	return checkVersion(db)
}
