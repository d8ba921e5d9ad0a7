package sigma

import "testing"

// Tests for the mistakes SIGMA.md §5 lists in other engines.

// Hayabusa picks rules by the first record's channel; a file (or a
// timeline) mixing channels must still meet each event's own rules.
func TestMixedChannelsEachMeetTheirRules(t *testing.T) {
	sysmonRule := compileOne(t, ruleWith("  sel:\n    Image|endswith: '\\x.exe'\n  condition: sel\n"), LoadOptions{})
	secRule := compileOne(t, "title: s\nid: s1\nlogsource:\n  product: windows\n  service: security\ndetection:\n  sel:\n    EventID: 4625\n  condition: sel\n", LoadOptions{})
	rs := NewRuleSet([]*Rule{sysmonRule, secRule})
	got := map[string]int{}
	events := []struct {
		ch string
		id int
		f  Fields
	}{
		{"Security", 4625, ev("EventID", "4625")},
		{chSysmon, 1, ev("Image", `c:\x.exe`, "EventID", "1")},
		{"Security", 4625, ev("EventID", "4625")},
		{chSysmon, 11, ev("Image", `c:\x.exe`, "EventID", "11")}, // file_event, not process_creation
	}
	for _, e := range events {
		rs.Match(e.ch, e.id, e.f, func(r *Rule, _ Fields) { got[r.Title]++ })
	}
	if got["t"] != 1 || got["s"] != 2 {
		t.Errorf("matches %v", got)
	}
}

// Chainsaw tries system/application rules on every event; a service rule
// meets only its channel.
func TestServiceRuleOnlyOnItsChannel(t *testing.T) {
	r := compileOne(t, "title: sys\nid: x\nlogsource:\n  product: windows\n  service: system\ndetection:\n  sel:\n    EventID: 7045\n  condition: sel\n", LoadOptions{})
	rs := NewRuleSet([]*Rule{r})
	n := 0
	rs.Match("Application", 7045, ev("EventID", "7045"), func(*Rule, Fields) { n++ })
	rs.Match("System", 7045, ev("EventID", "7045"), func(*Rule, Fields) { n++ })
	if n != 1 {
		t.Errorf("%d matches, want 1 (System only)", n)
	}
}

// Hayabusa matches keywords against the record's JSON text, field names
// included; ours look at values only.
func TestKeywordsReadValuesNotFieldNames(t *testing.T) {
	check(t, "  keywords:\n    - 'CommandLine'\n  condition: keywords\n",
		vector{"field name only", ev("CommandLine", "whoami"), false},
		vector{"in a value", ev("X", "the commandline was"), true})
	check(t, "  keywords:\n    - 'a\"b'\n  condition: keywords\n",
		vector{"no JSON escaping", ev("X", `a"b`), true})
}

// Zircolite flattens Data lists to text, so an exact match on one
// element fails; here any element may equal the value.
func TestDataExactMatchOnOneElement(t *testing.T) {
	check(t, "  sel:\n    Data: 'Stopped'\n  condition: sel\n",
		vector{"second element", ev("Data[0]", "Available", "Data[1]", "Stopped"), true})
}

// Hayabusa replaces only the first dash; windash with wildcards must also
// expand every dash.
func TestWindashEveryDashWithWildcards(t *testing.T) {
	check(t, "  sel:\n    CommandLine|windash: '* -a * -b*'\n  condition: sel\n",
		vector{"both dashes replaced", ev("CommandLine", "x /a y \u2014b"), true},
		vector{"second dash en", ev("CommandLine", "x -a y \u2013b"), true})
}

// Hayabusa compares exact values ASCII-only.
func TestUnicodeCaseOnEqual(t *testing.T) {
	check(t, "  sel:\n    Image|endswith: '\\ÄPFEL.EXE'\n  condition: sel\n",
		vector{"lower-case umlaut", ev("Image", `c:\äpfel.exe`), true})
}
