package analyzers

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"triage/analyzers/sigma"
	"triage/timeline"
)

var sigmaWindowsDirs = []string{"rules/windows", "rules-emerging-threats", "rules-threat-hunting/windows", "rules-placeholder/windows"}

const sigmaCorpus = "../../shared/corpus/sigma"

func sigmaCorpusPaths(tb testing.TB) []string {
	var paths []string
	for _, d := range sigmaWindowsDirs {
		p := filepath.Join(sigmaCorpus, d)
		if _, err := os.Stat(p); err != nil {
			tb.Skipf("sigma corpus not available: %v", err)
		}
		paths = append(paths, p)
	}
	return paths
}

// BenchmarkSigmaLoad is reading and compiling every shared Windows rule.
func BenchmarkSigmaLoad(b *testing.B) {
	paths := sigmaCorpusPaths(b)
	for b.Loop() {
		c := sigma.Load(paths, sigma.LoadOptions{})
		if len(c.Rules) == 0 {
			b.Fatal("no rules")
		}
	}
}

// BenchmarkSigmaTimelineDB evaluates every shared Windows rule over the
// timeline named by $TRIAGE_SIGMA_DB (e.g. a triage run's timeline.db
// of the corpus KAPE host), as the analyzer streams it.
func BenchmarkSigmaTimelineDB(b *testing.B) {
	path := os.Getenv("TRIAGE_SIGMA_DB")
	if path == "" {
		b.Skip("set TRIAGE_SIGMA_DB to a timeline.db")
	}
	db, err := timeline.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	rules := NewSigmaRules(nil, sigma.Load(sigmaCorpusPaths(b), sigma.LoadOptions{}), sigma.Selection{})
	var events int
	db.QueryRow(`SELECT count(*) FROM events WHERE source='evtx'`).Scan(&events)
	b.ResetTimer()
	hits := 0
	for b.Loop() {
		if err := scanSigmaEvents(context.Background(), db, rules.Set, func(*Event, sigma.Fields, *sigma.Rule) { hits++ }); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(events)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
