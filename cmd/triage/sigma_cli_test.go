package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"triage/internal/testcorpus"
	"triage/timeline"
)

// The regression test of "WerFaultSecure Loading DbgCore or DbgHelp":
// one Sysmon 7 record its rule matches.
const (
	werFaultDir  = sigmaCorpus + "/regression_data/rules-threat-hunting/windows/image_load/image_load_win_werfaultsecure_dbgcore_dbghelp_load"
	werFaultEVTX = werFaultDir + "/8a2f4b1c-3d5e-4f7a-9b2c-1e4f6d8a9c2b.evtx"
	werFaultRule = "8a2f4b1c-3d5e-4f7a-9b2c-1e4f6d8a9c2b"
)

func werFaultRulePath(t *testing.T) string {
	testcorpus.Dir(t, "sigma") // skips, or fails in CI, without the corpus
	matches, _ := filepath.Glob(sigmaCorpus + "/rules-threat-hunting/windows/image_load/image_load_win_werfaultsecure_dbgcore_dbghelp_load.yml")
	if len(matches) != 1 {
		t.Skip("sigma corpus not available")
	}
	return matches[0]
}

func TestRunAndHuntWithSigma(t *testing.T) {
	rule := werFaultRulePath(t)
	rules := t.TempDir()
	// A folder of our own: the rule, a refused rule and a rule filtered out by level.
	data, _ := os.ReadFile(rule)
	os.WriteFile(filepath.Join(rules, "a.yml"), data, 0o644)
	os.WriteFile(filepath.Join(rules, "bad.yml"), []byte("title: bad\nid: b1\nlogsource:\n  product: windows\n  category: image_load\ndetection:\n  sel:\n    ImageLoaded|nosuch: x\n  condition: sel\n"), 0o644)
	os.WriteFile(filepath.Join(rules, "low.yaml"), []byte("title: low\nid: l1\nlevel: low\nstatus: test\nlogsource:\n  product: windows\n  category: image_load\ndetection:\n  sel:\n    ImageLoaded|endswith: '.dll'\n  condition: sel\n"), 0o644)
	out := filepath.Join(t.TempDir(), "case")
	code, _, stderr := runCLI(t, "run", "--out", out, "--report-time", "2026-01-01T00:00:00Z", "--sigma", rules,
		"--sigma-min-level", "medium", werFaultEVTX)
	if code != exitOK {
		t.Fatalf("run: %d %s", code, stderr)
	}
	var m struct{ Sigma *manifestSigma }
	b, _ := os.ReadFile(filepath.Join(out, "manifest.json"))
	if err := json.Unmarshal(b, &m); err != nil || m.Sigma == nil {
		t.Fatalf("manifest sigma: %v %v", err, m.Sigma)
	}
	if m.Sigma.Loaded != 1 || m.Sigma.NotLoaded != 2 || m.Sigma.NotLoadedByReason["unsupported modifier"] != 1 ||
		m.Sigma.NotLoadedByReason["not selected"] != 1 || len(m.Sigma.RuleSetSHA256) != 64 {
		t.Errorf("manifest sigma: %+v", m.Sigma)
	}
	for _, r := range m.Sigma.Rules {
		if r.FileSHA256 == "" || r.Path == "" || r.State == "" {
			t.Errorf("rule record without provenance: %+v", r)
		}
	}
	db := openDB(t, out)
	var n int
	var related string
	if err := db.QueryRow(`SELECT count(*), coalesce(max(related), '') FROM findings WHERE analyzer='sigma' AND rule_id=?`, werFaultRule).Scan(&n, &related); err != nil || n != 1 {
		t.Fatalf("sigma findings: %d %v", n, err)
	}
	var evidence int
	db.QueryRow(`SELECT count(*) FROM finding_evidence fe JOIN findings f ON f.id = fe.finding_id WHERE f.rule_id=? AND fe.artifact_sha256 != ''`, werFaultRule).Scan(&evidence)
	if evidence != 1 {
		t.Errorf("evidence rows %d", evidence)
	}
	db.Close()
	html, _ := os.ReadFile(filepath.Join(out, "report.html"))
	if !bytes.Contains(html, []byte(`<section id="sigma">`)) || !bytes.Contains(html, []byte("WerFaultSecure Loading DbgCore")) {
		t.Error("report has no Sigma section naming the rule")
	}
	csv, _ := os.ReadFile(filepath.Join(out, "findings.csv"))
	if !bytes.Contains(csv, []byte(werFaultRule)) {
		t.Error("findings.csv lacks the rule id")
	}
	// hunt: the same rules again give the same bytes; other rules refresh.
	hunt := func(args ...string) []byte {
		t.Helper()
		code, _, stderr := runCLI(t, append(append([]string{"hunt", "--report-time", "2026-01-01T00:00:00Z"}, args...), out)...)
		if code != exitOK {
			t.Fatalf("hunt: %d %s", code, stderr)
		}
		b, _ := os.ReadFile(filepath.Join(out, "report.html"))
		return b
	}
	h1 := hunt("--sigma", rules, "--sigma-min-level", "medium")
	h2 := hunt("--sigma", rules, "--sigma-min-level", "medium")
	if !bytes.Equal(h1, h2) {
		t.Error("hunt twice with the same rules differs")
	}
	h3 := hunt("--sigma", rules)
	if !bytes.Contains(h3, []byte(">low<")) {
		t.Error("hunt with the low rule selected does not report it")
	}
	b, _ = os.ReadFile(filepath.Join(out, "manifest.json"))
	json.Unmarshal(b, &m)
	if m.Sigma.Loaded != 2 || !strings.Contains(strings.Join(m.Sigma.CommandLine, " "), "hunt") {
		t.Errorf("manifest after hunt: loaded %d, command %v", m.Sigma.Loaded, m.Sigma.CommandLine)
	}
}

func TestSigmaFlagErrors(t *testing.T) {
	for _, args := range [][]string{
		{"run", "--sigma", "/no/such/rules", "x"},
		{"run", "--sigma", ".", "--sigma-min-level", "severe", "x"},
		{"run", "--sigma", ".", "--sigma-status", "beta", "x"},
		{"run", "--sigma-exclude", "x", "x"},
		{"hunt", "somedir"},
	} {
		if code, _, _ := runCLI(t, args...); code != exitUsage {
			t.Errorf("%v: exit %d, want %d", args, code, exitUsage)
		}
	}
}

// TestHuntReadsTheRunsHours: a hunt analyzes with the hours the run was
// given, read as the flag was, so an end of 00 stays midnight.
func TestHuntReadsTheRunsHours(t *testing.T) {
	db, err := timeline.Create(filepath.Join(t.TempDir(), "timeline.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := timeline.StartRun(db, timeline.Run{TimeZone: "Europe/Berlin", BusinessHours: "22-00"}); err != nil {
		t.Fatal(err)
	}
	o, err := runAnalyzerOptions(db)
	if err != nil || o.BusinessStart != 22 || o.BusinessEnd != 24 || o.Location.String() != "Europe/Berlin" {
		t.Errorf("options %+v, %v", o, err)
	}
}
