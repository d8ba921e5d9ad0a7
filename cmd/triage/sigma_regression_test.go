package main

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"

	yaml "go.yaml.in/yaml/v3"

	"triage/analyzers"
	"triage/analyzers/sigma"
	"triage/internal/testcorpus"
	"triage/parsers/evtx"
	"triage/timeline"
)

// sigmaCorpus is SigmaHQ's rules and half of its regression data, shared
// beside the worktree.
const sigmaCorpus = "../../../shared/corpus/sigma"

var sigmaWindowsDirs = []string{"rules/windows", "rules-emerging-threats", "rules-threat-hunting/windows", "rules-placeholder/windows"}

func loadSigmaCorpus(t testing.TB) *sigma.Collection {
	t.Helper()
	var paths []string
	for _, d := range sigmaWindowsDirs {
		paths = append(paths, testcorpus.Dir(t, "sigma", filepath.FromSlash(d)))
	}
	return sigma.Load(paths, sigma.LoadOptions{})
}

// regressionTest is one info.yml of SigmaHQ's regression data.
type regressionTest struct {
	dir, ruleID, title, evtx string
	matchCount               int // 0 when the test gives none
}

func regressionTests(t *testing.T) []regressionTest {
	var out []regressionTest
	filepath.WalkDir(testcorpus.Dir(t, "sigma", "regression_data"), func(p string, d os.DirEntry, err error) error {
		if err != nil || d.Name() != "info.yml" {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var info struct {
			RuleMetadata []struct{ ID, Title string } `yaml:"rule_metadata"`
			Tests        []struct {
				Type       string
				Path       string
				MatchCount int `yaml:"match_count"`
			} `yaml:"regression_tests_info"`
		}
		if err := yaml.Unmarshal(data, &info); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if len(info.RuleMetadata) == 0 {
			return nil
		}
		for _, rt := range info.Tests {
			if rt.Type != "evtx" {
				continue
			}
			out = append(out, regressionTest{dir: filepath.Dir(p), ruleID: info.RuleMetadata[0].ID, title: info.RuleMetadata[0].Title,
				evtx: filepath.Join(filepath.Dir(p), filepath.Base(rt.Path)), matchCount: rt.MatchCount})
		}
		return nil
	})
	return out
}

// evtxTimeline writes one .evtx into a new timeline as ingest does.
func evtxTimeline(t testing.TB, path string) *sql.DB {
	t.Helper()
	db, err := timeline.Create(filepath.Join(t.TempDir(), "timeline.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	w, err := timeline.NewWriter(db)
	if err != nil {
		t.Fatal(err)
	}
	art := &timeline.Artifact{Host: "h", EvidenceRoot: "r", Path: filepath.Base(path), Kind: "evtx", SHA256: "00", MD5: "00", Status: "ok"}
	if _, err := w.AddArtifact(art); err != nil {
		t.Fatal(err)
	}
	f, err := evtx.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for rec, err := range f.Records() {
		if err != nil {
			continue // damage is reported by ingest; the records around it still count
		}
		e := timeline.FromEVTX("h", art.ID, rec)
		if err := w.AddEvent(&e); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return db
}

// TestSigmaRegressionData runs each regression test's rule on its .evtx
// through the timeline and the analyzers, and counts the matches on live records, as
// SigmaHQ's runner decides (SIGMA.md §4.2): at least match_count when the
// test gives it, else at least one.
func TestSigmaRegressionData(t *testing.T) {
	c := loadSigmaCorpus(t)
	byID := map[string]*sigma.Rule{}
	for _, r := range c.Rules {
		byID[r.ID] = r
	}
	refused := map[string]sigma.Refusal{}
	for _, r := range c.Refused {
		refused[r.ID] = r
	}
	tests := regressionTests(t)
	if len(tests) == 0 {
		t.Skip("no regression data")
	}
	passed := 0
	for _, rt := range tests {
		r := byID[rt.ruleID]
		if r == nil {
			t.Errorf("%s (%s): rule not loaded: %v", rt.title, rt.ruleID, refused[rt.ruleID])
			continue
		}
		db := evtxTimeline(t, rt.evtx)
		one := &sigma.Collection{Files: c.Files, Rules: []*sigma.Rule{r}}
		opts := analyzers.Options{Sigma: analyzers.NewSigmaRules(nil, one, sigma.Selection{})}
		if _, err := analyzers.Run(context.Background(), db, opts); err != nil {
			t.Fatal(err)
		}
		// Every matching event is cited by a finding of the rule, folded or
		// not; recovered (carved) records do not count (SIGMA.md §4.2).
		var count int
		if err := db.QueryRow(`SELECT count(DISTINCT fe.event_id) FROM finding_evidence fe JOIN findings f ON f.id = fe.finding_id
			JOIN events e ON e.id = fe.event_id WHERE f.rule_id = ? AND e.recovered = 0`, r.ID).Scan(&count); err != nil {
			t.Fatal(err)
		}
		want := max(rt.matchCount, 1)
		if count < want {
			t.Errorf("%s (%s, %s): %d live matches, want %d", rt.title, rt.ruleID, strings.TrimPrefix(rt.dir, sigmaCorpus), count, want)
			continue
		}
		if rt.matchCount > 0 && count > rt.matchCount {
			t.Logf("%s: %d matches, more than match_count %d (the official runner warns)", rt.title, count, rt.matchCount)
		}
		passed++
	}
	t.Logf("regression tests passed: %d of %d", passed, len(tests))
}
