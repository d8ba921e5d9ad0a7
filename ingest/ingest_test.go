package ingest

import (
	"context"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"triage/collectors"
	"triage/internal/testcorpus"
	"triage/timeline"
)

// collectorKinds reads every constant of type Kind that the collectors
// package declares, so that a kind added there without a parser here fails
// TestEveryKindHasAParser instead of passing its artifacts as empty.
func collectorKinds(t *testing.T) []collectors.Kind {
	t.Helper()
	fset := token.NewFileSet()
	pkgs, err := parser.ParseDir(fset, filepath.Join("..", "collectors"), func(fi os.FileInfo) bool {
		return !strings.HasSuffix(fi.Name(), "_test.go")
	}, 0)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []collectors.Kind
	for _, pkg := range pkgs {
		for _, f := range pkg.Files {
			ast.Inspect(f, func(n ast.Node) bool {
				spec, ok := n.(*ast.ValueSpec)
				if !ok {
					return true
				}
				if id, ok := spec.Type.(*ast.Ident); !ok || id.Name != "Kind" {
					return true
				}
				for _, v := range spec.Values {
					if lit, ok := v.(*ast.BasicLit); ok && lit.Kind == token.STRING {
						kinds = append(kinds, collectors.Kind(strings.Trim(lit.Value, "\"`")))
					}
				}
				return true
			})
		}
	}
	if len(kinds) < 5 {
		t.Fatalf("found only %d artifact kinds in collectors: %v", len(kinds), kinds)
	}
	return kinds
}

func TestEveryKindHasAParser(t *testing.T) {
	for _, k := range collectorKinds(t) {
		if parsers[k] == nil {
			t.Errorf("artifact kind %q has no entry in the parser table", k)
		}
	}
}

// TestKindWithoutParserFails: an artifact of a kind the table lacks fails,
// saying so, instead of passing as ok with no records.
func TestKindWithoutParserFails(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.bat")
	os.WriteFile(path, []byte("dir\n"), 0o644)
	ev, err := collectors.Open(path)
	if err != nil || len(ev.Artifacts) != 1 {
		t.Fatalf("collect: %v, %d artifacts", err, len(ev.Artifacts))
	}
	defer ev.Close()
	a := ev.Artifacts[0]
	a.Kind = "unheard-of"
	p := &parsed{artifact: a, batches: make(chan []timeline.Event, batchBuffer),
		done: make(chan struct{}), stop: make(chan struct{})}
	parseArtifact(p, "h")
	if p.row.Status != statusFailed || len(p.row.Errors) != 1 || !strings.Contains(p.row.Errors[0], "no parser") {
		t.Errorf("status %q, errors %q", p.row.Status, p.row.Errors)
	}
}

// TestIngestWriterFailureFreesParsers: when the writer fails, Ingest returns
// the error and its producer and parser goroutines exit rather than block
// on sends nobody receives.
func TestIngestWriterFailureFreesParsers(t *testing.T) {
	db, err := timeline.Create(filepath.Join(t.TempDir(), "timeline.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`CREATE TRIGGER fail BEFORE INSERT ON events BEGIN SELECT RAISE(ABORT, 'disk full'); END`); err != nil {
		t.Fatal(err)
	}
	before := runtime.NumGoroutine()
	res, err := Ingest(context.Background(), db, []string{testcorpus.Dir(t, "kape", "APTSIM-WIN10")}, Options{Host: "h"})
	if err == nil {
		t.Fatal("ingest succeeded with every event insert failing")
	}
	res.Close()
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Errorf("%d goroutines after a failed ingest, %d before", n, before)
	}
}

// TestIngestStopsOnCancel: a cancelled context stops the ingest between
// artifacts with the context's error, keeps what was written, and frees
// every goroutine.
func TestIngestStopsOnCancel(t *testing.T) {
	db, err := timeline.Create(filepath.Join(t.TempDir(), "timeline.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	written := 0
	before := runtime.NumGoroutine()
	res, err := Ingest(ctx, db, []string{testcorpus.Dir(t, "kape", "APTSIM-WIN10")}, Options{Host: "h",
		Progress: func(p Progress) {
			if written = p.Artifact; written == 10 {
				cancel()
			}
		}})
	if err != context.Canceled {
		t.Fatalf("err %v, want context.Canceled", err)
	}
	if len(res.Hosts) != 1 || len(res.Hosts[0].Artifacts) != 10 {
		t.Fatalf("%d hosts, artifacts %d", len(res.Hosts), len(res.Hosts[0].Artifacts))
	}
	var n int
	db.QueryRow(`SELECT count(*) FROM artifacts`).Scan(&n)
	if n != 10 {
		t.Errorf("%d artifacts in the timeline, want the 10 written", n)
	}
	res.Close()
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Errorf("%d goroutines after a cancelled ingest, %d before", n, before)
	}
}

// TestNotClean: files skipped for a reason that loses content, roots not
// opened and changed artifacts make a run not clean; files that are not
// artifacts, links and special files do not.
func TestNotClean(t *testing.T) {
	benign := &Result{Hosts: []*Host{{Skipped: []collectors.Skipped{
		{Path: "a", Reason: collectors.SkipNotArtifact}, {Path: "b", Reason: collectors.SkipSymlink},
		{Path: "c", Reason: collectors.SkipSpecial}}}}}
	if got := benign.NotClean(); len(got) != 0 {
		t.Errorf("benign skips: %q", got)
	}
	r := &Result{
		Hosts: []*Host{{Skipped: []collectors.Skipped{{Path: "a", Reason: collectors.SkipUnreadable},
			{Path: "b", Reason: collectors.SkipTooLarge}, {Path: "c", Reason: collectors.SkipNotArtifact}},
			Artifacts: []timeline.Artifact{{Status: statusFailed, Errors: []string{hashFailed + "read: i/o error"}}}}},
		EvidenceErrors: []string{"x: bad zip"},
		verified:       []Artifact{{IntegrityError: "CHANGED DURING THE RUN: …"}},
	}
	got := strings.Join(r.NotClean(), "\n")
	for _, want := range []string{"2 files could not be examined (1 too-large, 1 unreadable)", "1 artifacts could not be read",
		"1 evidence roots could not be opened", "INTEGRITY: 1 artifacts changed"} {
		if !strings.Contains(got, want) {
			t.Errorf("NotClean lacks %q:\n%s", want, got)
		}
	}
}

// TestBatchBoundedByBytes: events of large text end a batch before it holds
// batchLen of them, so a file cut in 1 MiB pieces is not held 256 at a time.
func TestBatchBoundedByBytes(t *testing.T) {
	p := &parsed{batches: make(chan []timeline.Event, 16), stop: make(chan struct{})}
	piece := strings.Repeat("x", 1<<20)
	for i := 0; i < 10; i++ {
		p.emit(timeline.Event{Source: "script", CommandLine: piece})
	}
	p.flush()
	close(p.batches)
	n := 0
	for b := range p.batches {
		size := 0
		for i := range b {
			size += b[i].TextSize()
		}
		if size > batchBytes+len(piece)*2 {
			t.Errorf("a batch holds %d bytes", size)
		}
		n++
	}
	if n < 3 {
		t.Errorf("10 MiB of events in %d batches", n)
	}
}
