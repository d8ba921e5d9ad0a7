package report

import (
	"database/sql"
	"io"
	"time"
)

// Options control rendering.
type Options struct {
	OutDir     string         // where report.html, the CSVs and scripts/ are written
	Location   *time.Location // host-local zone for the local-time columns; nil means UTC
	ReportTime time.Time      // the generation time stated in the outputs; zero means now
	PDF        bool           // also print report.pdf through headless chromium
}

// Render writes the report files for the timeline in db and returns their
// paths relative to OutDir, sorted, so the caller can hash them into the
// manifest.
func Render(db *sql.DB, opts Options) ([]string, error) { return nil, nil }

// ConsoleSummary prints a table of findings by technique and severity.
func ConsoleSummary(db *sql.DB, w io.Writer) error { return nil }
