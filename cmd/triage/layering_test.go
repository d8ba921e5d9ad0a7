package main

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// stage orders the packages along the data flow: collectors find, parsers
// decode, timeline stores, ingest drives those three over the evidence,
// analyzers judge, report renders. A package may import its own stage and
// the stages it drives or reads, never a later one; the analyzers and the
// report read only the timeline, never the evidence, and nothing below
// ingest imports it.
var stage = map[string]int{
	"collectors": 0,
	"parsers":    1,
	"timeline":   2,
	"ingest":     3,
	"analyzers":  4,
	"report":     5,
	"export":     5,
}

// allowed lists, for each stage, the stages whose packages it may import.
var allowed = map[string][]string{
	"collectors": {"collectors"},
	"parsers":    {"parsers"},
	"timeline":   {"timeline", "parsers"},
	"ingest":     {"ingest", "collectors", "parsers", "timeline"},
	"analyzers":  {"analyzers", "timeline"},
	"report":     {"report", "timeline"},
	"export":     {"export", "timeline"},
}

func TestPackagesFollowTheDataFlow(t *testing.T) {
	root := filepath.Join("..", "..")
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		top := strings.Split(filepath.ToSlash(rel), "/")[0]
		if _, ok := stage[top]; !ok {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			// internal/ holds test support shared by every stage, no stage logic.
			if !strings.HasPrefix(p, "triage/") || strings.HasPrefix(p, "triage/internal/") {
				continue
			}
			to := strings.Split(strings.TrimPrefix(p, "triage/"), "/")[0]
			ok := false
			for _, a := range allowed[top] {
				ok = ok || a == to
			}
			if !ok {
				t.Errorf("%s imports %s: %s may only import %v", rel, p, top, allowed[top])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
