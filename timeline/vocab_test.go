package timeline

import "testing"

func TestVocabulary(t *testing.T) {
	for c := Category(0); c < numCategories; c++ {
		if categoryNames[c] == "" {
			t.Errorf("category %d has no name", c)
		}
	}
	for _, s := range Severities {
		if got, ok := ParseSeverity(s.String()); !ok || got != s {
			t.Errorf("severity %v does not round-trip: %v %v", s, got, ok)
		}
	}
	if SeverityHigh <= SeverityMedium || SeverityCritical <= SeverityHigh {
		t.Error("severities out of order")
	}
	for _, i := range Interpreters {
		if _, ok := LookupTechnique(i.Technique); !ok {
			t.Errorf("interpreter %s: technique %s not in the table", i.Image, i.Technique)
		}
		if got, ok := InterpreterOf(`C:\Windows\` + i.Image); !ok || got != i {
			t.Errorf("InterpreterOf(%s) = %v, %v", i.Image, got, ok)
		}
	}
	for id, tq := range techniques {
		if tq.ID != id || tq.Name == "" || tq.Tactic == "" {
			t.Errorf("technique %q incomplete: %+v", id, tq)
		}
	}
	if got := ShortTechniqueName("T1059.001"); got != "PowerShell" {
		t.Errorf("short name %q", got)
	}
	for _, c := range []struct {
		source, provider string
		id               int
		want             Category
	}{
		{"evtx", providerSysmon, 1, CategoryProcessStart}, {"evtx", providerSecurity, 4689, CategoryProcessEnd},
		{"evtx", providerClassicPS, 403, CategoryEngineStop}, {"evtx", "MSSQL$SQLEXPRESS", 15457, CategorySQLServer},
		{"evtx", "Other", 15457, CategoryOther}, {"prefetch", "", 0, CategoryPrefetchRun},
	} {
		if got := CategoryOf(c.source, c.provider, c.id); got != c.want {
			t.Errorf("CategoryOf(%s, %s, %d) = %v, want %v", c.source, c.provider, c.id, got, c.want)
		}
	}
}
