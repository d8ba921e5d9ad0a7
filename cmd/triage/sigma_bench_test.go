package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"triage/analyzers"
	"triage/analyzers/sigma"
	"triage/internal/testcorpus"
)

// sigmaKAPETimeline runs triage (no rules) on the corpus KAPE host once
// and returns its timeline, for the Sigma benchmarks.
func sigmaKAPETimeline(b *testing.B) *sql.DB {
	b.Helper()
	evidence := filepath.Join(testcorpus.Dir(b), "kape", "APTSIM-WIN10")
	out := filepath.Join(b.TempDir(), "case")
	if code, _, stderr := runCLI(&testing.T{}, "run", "--out", out, evidence); code != exitOK {
		b.Fatalf("run: %s", stderr)
	}
	return openDBB(b, out)
}

func openDBB(b *testing.B, dir string) *sql.DB {
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(dir, "timeline.db")+"?mode=ro")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	return db
}

type benchEvent struct {
	channel string
	id      int
	f       sigma.Fields
}

// loadBenchEvents reads every event log record as the analyzer gives it
// to the rules.
func loadBenchEvents(b *testing.B, db *sql.DB) []benchEvent {
	rows, err := db.Query(`SELECT event_id, channel, provider, computer, level, record_id, data FROM events WHERE source='evtx' ORDER BY id`)
	if err != nil {
		b.Fatal(err)
	}
	defer rows.Close()
	var out []benchEvent
	for rows.Next() {
		var e benchEvent
		var provider, computer, data string
		var level int
		var rec int64
		rows.Scan(&e.id, &e.channel, &provider, &computer, &level, &rec, &data)
		var m map[string]any
		json.Unmarshal([]byte(data), &m)
		e.f = sigma.Fields{}
		for k, v := range m {
			e.f.Add(k, fmt.Sprint(v))
		}
		e.f.SystemFields(e.id, e.channel, provider, computer, level, rec)
		out = append(out, e)
	}
	return out
}

func sigmaCorpusPaths() []string {
	var paths []string
	for _, d := range []string{"rules/windows", "rules-emerging-threats", "rules-threat-hunting/windows", "rules-placeholder/windows"} {
		paths = append(paths, filepath.Join(sigmaCorpus, d))
	}
	return paths
}

func sigmaCorpusRules(b *testing.B) *sigma.Collection {
	return sigma.Load(sigmaCorpusPaths(), sigma.LoadOptions{})
}

// BenchmarkSigmaMatchKAPE is the engine alone, on one goroutine: every
// shared Windows rule over the KAPE host's event log records, decoded
// ahead. events/cpu-s is per core.
func BenchmarkSigmaMatchKAPE(b *testing.B) {
	events := loadBenchEvents(b, sigmaKAPETimeline(b))
	c := sigmaCorpusRules(b)
	rs := sigma.NewRuleSet(c.Rules)
	for _, e := range events { // the buckets build on first use
		rs.Match(e.channel, e.id, e.f, func(*sigma.Rule, sigma.Fields) {})
	}
	hits := 0
	b.ResetTimer()
	cpu0 := cpuTime()
	for b.Loop() {
		for _, e := range events {
			rs.Match(e.channel, e.id, e.f, func(*sigma.Rule, sigma.Fields) { hits++ })
		}
	}
	cpu := cpuTime() - cpu0
	n := float64(len(events) * b.N)
	b.ReportMetric(n/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(n/cpu.Seconds(), "events/cpu-s")
	b.ReportMetric(float64(len(c.Rules)), "rules")
	b.ReportMetric(float64(len(events)), "events/op")
	b.ReportMetric(float64(hits)/float64(b.N), "hits/op")
}

// BenchmarkSigmaAnalyzeKAPE is the analyzers stage with and without the
// rules on the KAPE host's timeline: streaming rows from SQLite, decoding,
// matching, folding and writing findings. The rules are loaded once.
func BenchmarkSigmaAnalyzeKAPE(b *testing.B) {
	evidence := filepath.Join(testcorpus.Dir(b), "kape", "APTSIM-WIN10")
	out := filepath.Join(b.TempDir(), "case")
	if code, _, stderr := runCLI(&testing.T{}, "run", "--out", out, evidence); code != exitOK {
		b.Fatalf("run: %s", stderr)
	}
	db := openDB(&testing.T{}, out)
	rules := analyzers.NewSigmaRules(nil, sigmaCorpusRules(b), sigma.Selection{})
	for _, with := range []bool{false, true} {
		b.Run(fmt.Sprintf("sigma=%v", with), func(b *testing.B) {
			opts := analyzers.Options{Location: time.UTC, IncidentWindow: 5 * time.Minute}
			if with {
				opts.Sigma = rules
			}
			cpu0 := cpuTime()
			for b.Loop() {
				if _, err := analyzers.Run(context.Background(), db, opts); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric((cpuTime()-cpu0).Seconds()/float64(b.N), "cpu-s/op")
		})
	}
}

// BenchmarkSigmaBucketsKAPE is what a run's Sigma pass spends on indexing
// before it matches: the buckets (rules, prefilters and raw-text filters)
// of every channel and event id of the KAPE host's logs, built afresh.
func BenchmarkSigmaBucketsKAPE(b *testing.B) {
	events := loadBenchEvents(b, sigmaKAPETimeline(b))
	type key struct {
		channel string
		id      int
	}
	var keys []key
	seen := map[key]bool{}
	for _, e := range events {
		if k := (key{e.channel, e.id}); !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	rules := sigmaCorpusRules(b).Rules
	b.ResetTimer()
	for b.Loop() {
		rs := sigma.NewRuleSet(rules)
		for _, k := range keys {
			rs.Wants(k.channel, k.id)
		}
	}
	b.ReportMetric(float64(len(keys)), "keys")
}

// BenchmarkSigmaManifestRecord is the manifest's record of every shared
// Windows rule document, built and encoded as a run's rules load does
// once. Each op gets SigmaRules of its own, so nothing computed is kept.
func BenchmarkSigmaManifestRecord(b *testing.B) {
	loaded := analyzers.NewSigmaRules(nil, sigmaCorpusRules(b), sigma.Selection{})
	s := &sigmaFlags{paths: sigmaCorpusPaths()}
	b.ReportAllocs()
	for b.Loop() {
		rules := &analyzers.SigmaRules{Set: loaded.Set, Collection: loaded.Collection, Selected: loaded.Selected, Dropped: loaded.Dropped, Paths: loaded.Paths}
		if len(s.newManifest(rules).indentedJSON()) == 0 {
			b.Fatal("no record")
		}
	}
}
