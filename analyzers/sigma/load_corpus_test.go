package sigma

import (
	"path/filepath"
	"sort"
	"testing"

	"triage/internal/testcorpus"
)

// corpusRoot is SigmaHQ's rule set as shared beside the worktree.
const corpusRoot = "../../../shared/corpus/sigma"

// windowsRuleDirs are the shared folders of Windows rules.
var windowsRuleDirs = []string{"rules/windows", "rules-emerging-threats", "rules-threat-hunting/windows", "rules-placeholder/windows"}

func windowsRulePaths(t testing.TB) []string {
	var out []string
	for _, d := range windowsRuleDirs {
		out = append(out, testcorpus.Dir(t, "sigma", filepath.FromSlash(d)))
	}
	return out
}

func TestLoadWindowsRules(t *testing.T) {
	c := Load(windowsRulePaths(t), LoadOptions{})
	reasons := map[string]int{}
	for _, r := range c.Refused {
		reasons[r.Reason]++
		if r.Reason == "" || r.Detail == "" {
			t.Errorf("refusal without a reason: %+v", r)
		}
	}
	var keys []string
	for k := range reasons {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	t.Logf("files %d, rules loaded %d, refused %d", len(c.Files), len(c.Rules), len(c.Refused))
	for _, k := range keys {
		t.Logf("  %s: %d", k, reasons[k])
	}
	for _, r := range c.Refused {
		if testing.Verbose() {
			t.Logf("refused %s: %s: %s", r.Path, r.Reason, r.Detail)
		}
	}
	if got := len(c.Rules) + len(c.Refused); got != len(c.Files) {
		t.Errorf("%d files gave %d rules and refusals", len(c.Files), got)
	}
}
