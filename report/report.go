package report

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"triage/internal/outfile"
	"triage/internal/phases"
	"triage/timeline"
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
	// TimelineCSV asks for timeline.csv, every event in time order; a run
	// writes it only on request, since it repeats timeline.db at a sixth of
	// a large run's CPU.
	TimelineCSV bool
	// TimelineCSVWritten says the caller wrote timeline.csv already, with
	// WriteTimelineCSV beside the analyzers: Render lists it without
	// writing it again.
	TimelineCSVWritten bool
	// Dated, when set, are each host's first and last event dated after
	// 1970 (timeline.EventSpans.Dated), which a run kept as it wrote the
	// events: Render reads them from the timeline otherwise, a scan of
	// every event for the case's page.
	Dated map[string]timeline.Span
	// Prepared, when set, is what Prepare read for the case's page from
	// the same timeline with the same Location.
	Prepared *Prepared
	// hostRuns are the case page's count of each host's runs, which
	// Render hands to the host pages' charts.
	hostRuns map[string]*runBins
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
	split, err := splitByHost(db)
	if err != nil {
		return nil, err
	}
	// scripts/ first: its files are made durable by one sync of the file
	// system, which waits on the disk (0.4 s on the 30-host case,
	// timeline.db's pages included) while the pages are loaded and
	// rendered. Before the case page is loaded, so that the scripts read
	// and the page's data are not held at once (95 MiB more peak on the
	// 1.1 GiB synthetic log).
	written, synced, err := writeScripts(db, opts.OutDir)
	if err != nil {
		return written, err
	}
	phases.Mark("report: scripts written")
	d, err := loadPage(db, opts, "", split)
	if err != nil {
		return written, err
	}
	phases.Mark("report: case page loaded")
	if split {
		opts.hostRuns = d.hostRuns
		pages, err := writeHostPages(db, opts, d.Hosts)
		written = append(written, pages...)
		if err != nil {
			return written, err
		}
	}
	phases.Mark("report: host pages")
	if err := removeStaleHostPages(opts.OutDir, written); err != nil {
		return written, err
	}
	for _, out := range []struct {
		name  string
		write func(io.Writer, *data) error
	}{
		{"report.html", writeHTML},
		{"findings.csv", func(w io.Writer, d *data) error { return writeFindingsCSV(w, db, d) }},
		{TimelineCSVName, func(w io.Writer, d *data) error { return writeTimelineCSV(context.Background(), w, db, d.loc) }},
	} {
		if out.name == TimelineCSVName && (opts.TimelineCSVWritten || !opts.TimelineCSV) {
			if opts.TimelineCSVWritten {
				written = append(written, out.name)
			}
			continue
		}
		if err := writeOutput(filepath.Join(opts.OutDir, out.name), func(w io.Writer) error { return out.write(w, d) }); err != nil {
			return written, err
		}
		written = append(written, out.name)
		phases.Mark("report: %s", out.name)
	}
	if err := synced(); err != nil {
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

// writeHostPages writes the page of each host of a case split by host,
// loading one host's data at a time on each of two connections: the
// second, read-only, lets two pages be read and rendered at once, on both
// cores. The pages written are listed in host order, up to the first that
// failed.
func writeHostPages(db *sql.DB, opts Options, hosts []string) ([]string, error) {
	if err := os.MkdirAll(filepath.Join(opts.OutDir, "hosts"), 0o755); err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	names := hostPageNames(hosts)
	readers := []*sql.DB{db}
	if len(hosts) > 1 {
		if second, err := secondReader(db); err == nil {
			defer second.Close()
			readers = append(readers, second)
		}
	}
	errs := make([]error, len(hosts))
	next := make(chan int)
	var failed atomic.Bool
	var wg sync.WaitGroup
	for _, r := range readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if errs[i] = writeHostPage(r, opts, hosts[i], names[hosts[i]]); errs[i] != nil {
					failed.Store(true)
				}
			}
		}()
	}
	for i := range hosts {
		if failed.Load() {
			errs[i] = errNotRendered
			continue
		}
		next <- i
	}
	close(next)
	wg.Wait()
	var written []string
	for i, err := range errs {
		if err != nil {
			// As if written one at a time: no page after the one that
			// failed is left, whose findings the manifest would not list.
			for j := i + 1; j < len(hosts); j++ {
				if errs[j] == nil {
					os.Remove(filepath.Join(opts.OutDir, filepath.FromSlash(names[hosts[j]])))
				}
			}
			return written, err
		}
		written = append(written, names[hosts[i]])
	}
	return written, nil
}

// errNotRendered marks the host pages left out once one failed; it always
// follows the failure in host order, so it is never what is returned.
var errNotRendered = errors.New("report: host page not rendered")

func writeHostPage(db *sql.DB, opts Options, host, name string) error {
	d, err := loadPage(db, opts, host, false)
	if err != nil {
		return err
	}
	return writeOutput(filepath.Join(opts.OutDir, filepath.FromSlash(name)), func(w io.Writer) error { return writeHTML(w, d) })
}

// secondReader opens another, read-only, connection to the timeline db
// reads, with a cache of 16 MiB: a host page reads that host's rows.
func secondReader(db *sql.DB) (*sql.DB, error) {
	var seq int
	var name, path string
	if err := db.QueryRow(`SELECT seq, name, file FROM pragma_database_list WHERE name = 'main'`).Scan(&seq, &name, &path); err != nil {
		return nil, err
	}
	if path == "" {
		return nil, errors.New("report: the timeline is not a file")
	}
	second, err := timeline.OpenReadOnly(path)
	if err != nil {
		return nil, err
	}
	if _, err := second.Exec(`PRAGMA cache_size = -16384`); err != nil {
		second.Close()
		return nil, err
	}
	return second, nil
}

// removeStaleHostPages deletes the host pages an earlier render of this case
// wrote that this one did not (a hunt can leave a case too small to split):
// a page left behind would state findings the manifest no longer vouches for.
func removeStaleHostPages(dir string, written []string) error {
	keep := map[string]bool{}
	for _, name := range written {
		keep[name] = true
	}
	entries, err := os.ReadDir(filepath.Join(dir, "hosts"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	} else if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	for _, e := range entries {
		name := "hosts/" + e.Name()
		if e.Type().IsRegular() && strings.HasSuffix(name, ".html") && !keep[name] {
			if err := os.Remove(filepath.Join(dir, "hosts", e.Name())); err != nil {
				return fmt.Errorf("report: %w", err)
			}
		}
	}
	return nil
}

// writeScripts saves each reassembled script as scripts/<sha256>.txt: a
// name that can never be run by a double click. The scripts come in the
// order the report lists them, and a name already written this run is the
// same text (the name is its hash) and is not written again. Past
// maxScriptFiles texts it stops: a log of a million generated blocks gave
// as many files (1.4 GB of disk for 35 MB of text) and a manifest listing
// each, which no one reads one by one; the scripts table of timeline.db
// holds every one. The files are synced once, all together, when the last
// is written.
func writeScripts(db *sql.DB, dir string) (written []string, synced func() error, err error) {
	synced = func() error { return nil }
	rows, err := db.Query(`SELECT sha256, text FROM scripts ORDER BY ` + scriptsOrder)
	if err != nil {
		return nil, synced, err
	}
	defer rows.Close()
	var out []string
	seen := map[string]bool{}
	var batch *outfile.Batch
	for len(out) < maxScriptFiles && rows.Next() {
		var sha256, text string
		if err := rows.Scan(&sha256, &text); err != nil {
			return out, synced, err
		}
		name := "scripts/" + sha256 + ".txt"
		if seen[name] {
			continue
		}
		seen[name] = true
		if batch == nil {
			if err := os.MkdirAll(filepath.Join(dir, "scripts"), 0o755); err != nil {
				return nil, synced, err
			}
			batch = outfile.NewBatch(filepath.Join(dir, "scripts"))
		}
		err := batch.Write(filepath.Join(dir, filepath.FromSlash(name)), func(w io.Writer) error {
			_, err := io.WriteString(w, text)
			return err
		})
		if err != nil {
			return out, synced, fmt.Errorf("report: %w", err)
		}
		out = append(out, name)
	}
	if err := rows.Err(); err != nil {
		return out, synced, err
	}
	sort.Strings(out)
	if batch == nil {
		return out, synced, nil
	}
	done := make(chan error, 1)
	go func() { done <- batch.Sync() }()
	return out, sync.OnceValue(func() error {
		if err := <-done; err != nil {
			return fmt.Errorf("report: %w", err)
		}
		return nil
	}), nil
}

// maxScriptFiles bounds the distinct script texts saved in scripts/.
const maxScriptFiles = 10000

// scriptsOrder is the order the report lists scripts in, and the order in
// which they are saved until maxScriptFiles.
const scriptsOrder = `host, first_ts, script_block_id`

// writeOutput writes one output file whole or not at all.
func writeOutput(path string, write func(io.Writer) error) error {
	if err := outfile.Write(path, write); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return nil
}
