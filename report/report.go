package report

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"time"

	"triage/internal/outfile"
)

// Options control rendering.
type Options struct {
	OutDir     string         // where report.html, the CSVs and scripts/ are written
	Location   *time.Location // host-local zone for the local-time columns; nil means UTC
	ReportTime time.Time      // the generation time stated in the outputs; zero means now
	PDF        bool           // also print report.pdf through headless chromium
	// PDFTimeout bounds chromium's printing; zero means defaultPDFTimeout.
	PDFTimeout time.Duration
	// TempDir holds chromium's profile while it prints; empty means a
	// folder made under OutDir, never outside it.
	TempDir string
	// TimelineCSVWritten says the caller wrote timeline.csv already, with
	// WriteTimelineCSV beside the analyzers: Render lists it without
	// writing it again.
	TimelineCSVWritten bool
}

// Render writes the report files for the timeline in db and returns their
// paths relative to OutDir, sorted, so the caller can hash them into the
// manifest.
func Render(db *sql.DB, opts Options) ([]string, error) {
	if opts.Location == nil {
		opts.Location = time.UTC
	}
	if opts.ReportTime.IsZero() {
		opts.ReportTime = time.Now()
	}
	d, err := load(db, opts)
	if err != nil {
		return nil, err
	}
	var written []string
	for _, out := range []struct {
		name  string
		write func(io.Writer, *data) error
	}{
		{"report.html", writeHTML},
		{"findings.csv", writeFindingsCSV},
		{TimelineCSVName, func(w io.Writer, d *data) error { return writeTimelineCSV(context.Background(), w, db, d.loc) }},
	} {
		if out.name == TimelineCSVName && opts.TimelineCSVWritten {
			written = append(written, out.name)
			continue
		}
		if err := writeOutput(filepath.Join(opts.OutDir, out.name), func(w io.Writer) error { return out.write(w, d) }); err != nil {
			return written, err
		}
		written = append(written, out.name)
	}
	scripts, err := writeScripts(opts.OutDir, d)
	written = append(written, scripts...)
	if err != nil {
		return written, err
	}
	if opts.PDF {
		if err := printPDF(opts); err != nil {
			return written, err
		}
		written = append(written, "report.pdf")
	}
	sort.Strings(written)
	return written, nil
}

// writeScripts saves each reassembled script as scripts/<sha256>.txt: a
// name that can never be run by a double click.
func writeScripts(dir string, d *data) ([]string, error) {
	if len(d.Scripts) == 0 {
		return nil, nil
	}
	if err := os.MkdirAll(filepath.Join(dir, "scripts"), 0o755); err != nil {
		return nil, err
	}
	var out []string
	seen := map[string]bool{}
	for _, s := range d.Scripts {
		name := "scripts/" + s.SHA256 + ".txt"
		if seen[name] {
			continue
		}
		seen[name] = true
		text := s.Text
		err := writeOutput(filepath.Join(dir, filepath.FromSlash(name)), func(w io.Writer) error {
			_, err := io.WriteString(w, text)
			return err
		})
		if err != nil {
			return out, err
		}
		out = append(out, name)
	}
	return out, nil
}

// writeOutput writes one output file whole or not at all.
func writeOutput(path string, write func(io.Writer) error) error {
	if err := outfile.Write(path, write); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return nil
}
