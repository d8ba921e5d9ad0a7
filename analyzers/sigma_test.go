package analyzers

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"triage/analyzers/sigma"
	"triage/timeline"
)

const encodedPowerShellRule = `title: Encoded PowerShell
id: 11111111-2222-3333-4444-555555555555
status: test
level: high
author: Test Author
references:
  - https://example.org/ref
tags:
  - attack.execution
  - attack.t1027
logsource:
  product: windows
  category: process_creation
detection:
  sel:
    Image|endswith: '\powershell.exe'
    CommandLine|contains|windash: ' -enc '
  condition: sel
`

func TestSigmaFindings(t *testing.T) {
	db, err := timeline.Create(filepath.Join(t.TempDir(), "timeline.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	w, _ := timeline.NewWriter(db)
	art := &timeline.Artifact{Host: "h", EvidenceRoot: "r", Path: "Security.evtx", Kind: "evtx", SHA256: "ab", MD5: "cd", Status: "ok"}
	w.AddArtifact(art)
	base := time.Date(2024, 3, 5, 10, 0, 0, 0, time.UTC)
	ps := `C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe`
	for i, at := range []time.Duration{0, time.Minute, 2 * time.Hour} {
		e := timeline.Event{TS: base.Add(at), Host: "h", ArtifactID: art.ID, RecordID: int64(i + 1), Source: "evtx",
			EventID: 4688, Channel: "Security", Provider: "Microsoft-Windows-Security-Auditing", Summary: "s", Process: ps,
			Data: map[string]any{"NewProcessName": ps, "CommandLine": "powershell /enc SQBFAFgA", "SubjectUserSid": "S-1-5-18",
				"NewProcessId": "0x10", "ParentProcessName": `C:\Windows\explorer.exe`}}
		if err := w.AddEvent(&e); err != nil {
			t.Fatal(err)
		}
	}
	w.Close()
	c := &sigma.Collection{}
	c.Add("enc.yml", []byte(encodedPowerShellRule), sigma.LoadOptions{})
	opts := Options{Sigma: NewSigmaRules([]string{"enc.yml"}, c, sigma.Selection{})}
	if _, err := Run(context.Background(), db, opts); err != nil {
		t.Fatal(err)
	}
	rows, err := db.Query(`SELECT rule_id, severity, technique_id, tactic, related, title, matched, features FROM findings WHERE analyzer='sigma' ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var id, sev, tech, tactic, related, title, matched, features string
		rows.Scan(&id, &sev, &tech, &tactic, &related, &title, &matched, &features)
		got = append(got, strings.Join([]string{id, sev, tech, tactic, related, title, matched}, " | "))
		if !strings.Contains(features, "Test Author") || !strings.Contains(features, "https://example.org/ref") {
			t.Errorf("features lack author and references: %s", features)
		}
	}
	want := []string{
		`11111111-2222-3333-4444-555555555555 | high | T1027 | Execution | ["T1059.001"] | Encoded PowerShell, 2 times within 1m0s | CommandLine: powershell /enc SQBFAFgA` + "\n" + `Image: ` + ps,
		`11111111-2222-3333-4444-555555555555 | high | T1027 | Execution | ["T1059.001"] | Encoded PowerShell | CommandLine: powershell /enc SQBFAFgA` + "\n" + `Image: ` + ps,
	}
	if strings.Join(got, "\n---\n") != strings.Join(want, "\n---\n") {
		t.Errorf("findings:\n%s\nwant:\n%s", strings.Join(got, "\n---\n"), strings.Join(want, "\n---\n"))
	}
	var evidence int
	db.QueryRow(`SELECT count(*) FROM finding_evidence fe JOIN findings f ON f.id = fe.finding_id WHERE f.analyzer = 'sigma'`).Scan(&evidence)
	if evidence != 3 {
		t.Errorf("evidence rows %d, want 3", evidence)
	}
}

// The scan's workers match batches in any order; the hits must come in
// record order whatever their number.
func TestSigmaScanOrderIndependentOfWorkers(t *testing.T) {
	ps := `C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe`
	const n = 5000 // some batches
	db := syntheticTimeline(t, n, func(i int, e *timeline.Event) {
		e.EventID, e.Channel, e.Provider = 4688, "Security", "Microsoft-Windows-Security-Auditing"
		cmd := "powershell -nop"
		if i%7 == 0 || i%13 == 0 {
			cmd = fmt.Sprintf("powershell -enc SQBFAFgA%d", i%5)
		}
		e.Data = map[string]any{"NewProcessName": ps, "CommandLine": cmd, "NewProcessId": "0x10"}
	})
	defer db.Close()
	c := &sigma.Collection{}
	c.Add("enc.yml", []byte(encodedPowerShellRule), sigma.LoadOptions{})
	set := NewSigmaRules(nil, c, sigma.Selection{}).Set
	scan := func(procs int) []string {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
		var got []string
		err := scanSigmaEvents(context.Background(), sigmaSource{db: db}, set, func(*sigma.Rule) bool { return true }, func(e *Event, h sigmaHit) {
			got = append(got, fmt.Sprintf("%d %s %s %d", e.ID, h.rule.ID, h.matched, len(h.fields["CommandLine"])))
		})
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	one, four := scan(1), scan(4)
	if want := n/7 + n/13 - n/91 + 1; len(one) != want {
		t.Fatalf("%d hits, want %d", len(one), want)
	}
	if strings.Join(one, "\n") != strings.Join(four, "\n") {
		t.Error("the hits of four workers differ from one's")
	}
}

// With connections of its own (Options.TimelinePath), the Sigma pass
// reads only the columns matching needs and a matched record's others by
// id, beside the other analyzers: the findings, their evidence and the
// incidents must be those of the pass in turn, on one connection.
func TestSigmaAsideIsInTurn(t *testing.T) {
	ps := `C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe`
	fill := func(i int, e *timeline.Event) {
		e.EventID, e.Channel, e.Provider = 4688, "Security", "Microsoft-Windows-Security-Auditing"
		e.Process, e.ParentProcess, e.User = ps, `C:\Windows\explorer.exe`, fmt.Sprintf("u%d", i%3)
		e.CommandLine = "powershell -nop"
		if i%7 == 0 || i%13 == 0 {
			e.CommandLine = fmt.Sprintf("powershell -enc SQBFAFgA%d", i%5)
		}
		e.Data = map[string]any{"NewProcessName": ps, "CommandLine": e.CommandLine, "NewProcessId": "0x10"}
		if i%400 == 0 {
			e.TS = e.TS.Add(time.Hour) // some repeats fold, some do not
		}
	}
	c := &sigma.Collection{}
	c.Add("enc.yml", []byte(encodedPowerShellRule), sigma.LoadOptions{})
	rules := NewSigmaRules([]string{"enc.yml"}, c, sigma.Selection{})
	inTurn, aside := runTables(t, 3000, fill, Options{Sigma: rules}, false), runTables(t, 3000, fill, Options{Sigma: rules}, true)
	if !strings.Contains(inTurn, "Encoded PowerShell") {
		t.Fatal("no Sigma finding")
	}
	if inTurn != aside {
		t.Errorf("beside the others:\n%s\nin turn:\n%s", aside, inTurn)
	}
}

// runTables runs the analyzers with opts over a synthetic timeline of n
// events set by fill, shared and on its path when shared is true (as
// triage run gives it), and returns the rows they wrote, as text to
// compare.
func runTables(t *testing.T, n int, fill func(i int, e *timeline.Event), opts Options, shared bool) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "timeline.db")
	db := syntheticTimelineAt(t, path, n, fill)
	defer db.Close()
	if shared {
		if err := timeline.Share(db); err != nil {
			t.Fatal(err)
		}
		opts.TimelinePath = path
	}
	if _, err := Run(context.Background(), db, opts); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, q := range []string{`SELECT * FROM findings ORDER BY id`, `SELECT * FROM finding_evidence ORDER BY 1, 2`,
		`SELECT * FROM incidents ORDER BY id`, `SELECT * FROM sigma_rules ORDER BY id`} {
		rows, err := db.Query(q)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		vals := make([]any, len(cols))
		for i := range vals {
			vals[i] = new(any)
		}
		for rows.Next() {
			rows.Scan(vals...)
			for _, v := range vals {
				fmt.Fprintf(&b, "%v|", *v.(*any))
			}
			b.WriteByte('\n')
		}
		rows.Close()
	}
	return b.String()
}

// A pass of rules that read some logs, or some events of a log, reads
// only those rows, and finds what a pass over every row finds.
func TestSigmaScanReadsWhatTheRulesRead(t *testing.T) {
	ps := `C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe`
	channels := []string{"Security", "System", "Microsoft-Windows-Store/Operational"}
	db := syntheticTimeline(t, 3000, func(i int, e *timeline.Event) {
		e.EventID, e.Channel, e.Provider = 4688-64*(i%2), channels[i%3], "Microsoft-Windows-Security-Auditing"
		cmd := "powershell -nop"
		if i%7 == 0 {
			cmd = "powershell -enc SQBFAFgA"
		}
		e.Data = map[string]any{"NewProcessName": ps, "CommandLine": cmd}
	})
	defer db.Close()
	rules := func(docs ...string) *sigma.RuleSet {
		c := &sigma.Collection{}
		for i, d := range docs {
			c.Add(fmt.Sprintf("r%d.yml", i), []byte(d), sigma.LoadOptions{})
		}
		return NewSigmaRules(nil, c, sigma.Selection{}).Set
	}
	hits := func(set *sigma.RuleSet) []string {
		var got []string
		err := scanSigmaEvents(context.Background(), sigmaSource{db: db}, set, noFields, func(e *Event, h sigmaHit) {
			got = append(got, fmt.Sprintf("%d %s %s", e.ID, h.rule.ID, h.matched))
		})
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	rowsRead := func(reads sigma.Reads) (n int) {
		err := readSigmaRows(context.Background(), db, true, reads, func(rows []sigmaRow) bool {
			for _, r := range rows {
				if !reads.All && !slices.Contains(reads.Channels, r.Channel) && !slices.Contains(reads.EventIDs[r.Channel], r.EventID) {
					t.Errorf("row %d, %s %d, read", r.ID, r.Channel, r.EventID)
				}
				n++
			}
			return true
		})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	// A rule of the product alone reads every row, one of a service every
	// row of its channel, one of a category the events its ids name.
	everyLog := "title: any\nid: 00000000-0000-0000-0000-0000000000e2\nlogsource:\n  product: windows\ndetection:\n  k:\n    - 'no such text anywhere'\n  condition: k\n"
	system := "title: sys\nid: 00000000-0000-0000-0000-0000000000e3\nlogsource:\n  product: windows\n  service: system\ndetection:\n  s:\n    CommandLine|contains: ' -enc '\n  condition: s\n"
	for _, c := range []struct {
		docs []string
		rows int
	}{
		{[]string{encodedPowerShellRule}, 500},          // Security 4688
		{[]string{encodedPowerShellRule, system}, 1500}, // and all of System
		{[]string{encodedPowerShellRule, system, everyLog}, 3000},
	} {
		set := rules(c.docs...)
		reads := set.Reads()
		if n := rowsRead(reads); n != c.rows {
			t.Errorf("%d rules: %d rows read (%+v), want %d", len(c.docs), n, reads, c.rows)
		}
		got, want := hits(set), hits(rules(append(c.docs, everyLog)...))
		if len(got) == 0 || strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("%d rules: %d hits reading what they read, %d reading every row", len(c.docs), len(got), len(want))
		}
	}
}
