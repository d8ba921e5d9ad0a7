package report

import (
	"database/sql"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
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
		{"timeline.csv", func(w io.Writer, d *data) error { return writeTimelineCSV(w, db, d) }},
	} {
		if err := writeFile(filepath.Join(opts.OutDir, out.name), func(w io.Writer) error { return out.write(w, d) }); err != nil {
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
		if err := printPDF(opts.OutDir); err != nil {
			return written, err
		}
		written = append(written, "report.pdf")
	}
	sort.Strings(written)
	return written, nil
}

func writeFile(path string, write func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return fmt.Errorf("report: %s: %w", filepath.Base(path), err)
	}
	return f.Close()
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
		if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(name)), []byte(s.Text), 0o644); err != nil {
			return out, err
		}
		out = append(out, name)
	}
	return out, nil
}
