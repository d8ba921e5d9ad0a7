package sigma

import (
	"testing"
	"time"
)

const failedLogonRule = `title: Failed logon
id: failed-logon
name: failed_logon
logsource:
  product: windows
  service: security
detection:
  sel:
    EventID: 4625
  condition: sel
---
title: Successful logon
id: ok-logon
name: ok_logon
logsource:
  product: windows
  service: security
detection:
  sel:
    EventID: 4624
  condition: sel
`

func correlate(t *testing.T, corr string, events []corrEvent) []CorrelationHit {
	t.Helper()
	c := &Collection{}
	c.Add("c.yml", []byte(failedLogonRule+"---\n"+corr), LoadOptions{})
	c.resolve()
	if len(c.Refused) > 0 {
		t.Fatalf("refused: %v", c.Refused)
	}
	k := NewCorrelator(c)
	rs := NewRuleSet(c.Rules)
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for i, e := range events {
		f := ev("TargetUserName", e.user, "IpAddress", e.ip, "WorkstationName", e.ws)
		f.SystemFields(e.id, "Security", "p", "h", 0, int64(i))
		rs.Match("Security", e.id, f, func(r *Rule, seen Fields) {
			if k.Wants(r) {
				k.Observe(r, base.Add(e.at), "h", int64(i+1), seen)
			}
		})
	}
	return k.Finish()
}

type corrEvent struct {
	at           time.Duration
	id           int
	user, ip, ws string
}

func failures(user string, ats ...time.Duration) []corrEvent {
	var out []corrEvent
	for _, at := range ats {
		out = append(out, corrEvent{at: at, id: 4625, user: user, ip: "10.0.0.1"})
	}
	return out
}

func TestEventCountWindowEdges(t *testing.T) {
	corr := `title: Brute force
id: brute
correlation:
  type: event_count
  rules: [failed_logon]
  group-by: [TargetUserName]
  timespan: 10s
  condition:
    gte: 3
level: high
`
	s := time.Second
	cases := []struct {
		name   string
		events []corrEvent
		hits   int
	}{
		{"three within exactly the timespan", failures("a", 0, 5*s, 10*s), 1},
		{"third one nanosecond late", failures("a", 0, 5*s, 10*s+1), 0},
		{"sliding, not fixed buckets", failures("a", 0, 8*s, 12*s, 16*s), 1},
		{"groups apart", append(failures("a", 0, s), failures("b", 2*s)...), 0},
		{"two bursts", failures("a", 0, s, 2*s, 100*s, 101*s, 102*s), 2},
		{"six in a burst are two hits of three", failures("a", 0, s, 2*s, 3*s, 4*s, 5*s), 2},
	}
	for _, c := range cases {
		hits := correlate(t, corr, c.events)
		if len(hits) != c.hits {
			t.Errorf("%s: %d hits, want %d", c.name, len(hits), c.hits)
		}
	}
	hits := correlate(t, corr, failures("a", 0, s, 2*s))
	if len(hits) == 1 && (hits[0].Value != 3 || len(hits[0].EventIDs) != 3 || hits[0].Group["TargetUserName"] != "a") {
		t.Errorf("hit: %+v", hits[0])
	}
}

func TestValueCountWithAliases(t *testing.T) {
	corr := `title: Spray
id: spray
correlation:
  type: value_count
  rules: [failed_logon]
  group-by: [source]
  aliases:
    source:
      failed_logon: IpAddress
  field: TargetUserName
  timespan: 1m
  condition:
    gt: 2
`
	var events []corrEvent
	for i, u := range []string{"a", "b", "b", "c"} {
		events = append(events, corrEvent{at: time.Duration(i) * time.Second, id: 4625, user: u, ip: "10.0.0.9"})
	}
	hits := correlate(t, corr, events)
	if len(hits) != 1 || hits[0].Value != 3 || hits[0].Group["source"] != "10.0.0.9" {
		t.Errorf("value_count: %+v", hits)
	}
	if hits := correlate(t, corr, events[:3]); len(hits) != 0 {
		t.Errorf("two users: %+v", hits)
	}
}

func TestTemporalAndOrdered(t *testing.T) {
	temporal := func(typ string) string {
		return `title: Fail then succeed
id: ` + typ + `
correlation:
  type: ` + typ + `
  rules: [failed_logon, ok_logon]
  group-by: [TargetUserName]
  timespan: 30s
`
	}
	s := time.Second
	failThenOK := []corrEvent{{0, 4625, "a", "", ""}, {5 * s, 4624, "a", "", ""}}
	okThenFail := []corrEvent{{0, 4624, "a", "", ""}, {5 * s, 4625, "a", "", ""}}
	otherUser := []corrEvent{{0, 4625, "a", "", ""}, {5 * s, 4624, "b", "", ""}}
	tooLate := []corrEvent{{0, 4625, "a", "", ""}, {31 * s, 4624, "a", "", ""}}
	for _, c := range []struct {
		typ    string
		events []corrEvent
		hits   int
	}{
		{"temporal", failThenOK, 1}, {"temporal", okThenFail, 1}, {"temporal", otherUser, 0}, {"temporal", tooLate, 0},
		{"temporal_ordered", failThenOK, 1}, {"temporal_ordered", okThenFail, 0}, {"temporal_ordered", otherUser, 0},
	} {
		if hits := correlate(t, temporal(c.typ), c.events); len(hits) != c.hits {
			t.Errorf("%s %v: %d hits, want %d", c.typ, c.events, len(hits), c.hits)
		}
	}
}

func TestCorrelationChainAndGenerate(t *testing.T) {
	corr := `title: Burst
id: burst
name: burst
correlation:
  type: event_count
  rules: [failed_logon]
  group-by: [TargetUserName]
  timespan: 10s
  condition:
    gte: 2
---
title: Bursts then success
id: chain
correlation:
  type: temporal_ordered
  rules: [burst, ok_logon]
  group-by: [TargetUserName]
  timespan: 1m
level: critical
`
	s := time.Second
	events := []corrEvent{{0, 4625, "a", "", ""}, {s, 4625, "a", "", ""}, {20 * s, 4624, "a", "", ""}}
	hits := correlate(t, corr, events)
	if len(hits) != 1 || hits[0].Correlation.ID != "chain" || len(hits[0].EventIDs) != 3 {
		t.Fatalf("chain: %+v", hits)
	}
	c := &Collection{}
	c.Add("c.yml", []byte(failedLogonRule+"---\n"+corr), LoadOptions{})
	c.resolve()
	for _, r := range c.Rules {
		if !r.Suppressed() {
			t.Errorf("%s feeds a correlation without generate, yet outputs", r.ID)
		}
	}
}

func TestCorrelationRefusals(t *testing.T) {
	for name, corr := range map[string]string{
		"unknown rule": "title: x\nid: x\ncorrelation:\n  type: event_count\n  rules: [nope]\n  timespan: 1m\n  condition:\n    gte: 1\n",
		"bad timespan": "title: x\nid: x\ncorrelation:\n  type: event_count\n  rules: [failed_logon]\n  timespan: 1x\n  condition:\n    gte: 1\n",
		"percentile":   "title: x\nid: x\ncorrelation:\n  type: value_percentile\n  rules: [failed_logon]\n  timespan: 1m\n",
		"cycle":        "title: x\nid: x\nname: x\ncorrelation:\n  type: temporal\n  rules: [y]\n  timespan: 1m\n---\ntitle: y\nid: y\nname: y\ncorrelation:\n  type: temporal\n  rules: [x]\n  timespan: 1m\n",
		"no condition": "title: x\nid: x\ncorrelation:\n  type: event_count\n  rules: [failed_logon]\n  timespan: 1m\n",
	} {
		c := &Collection{}
		c.Add("c.yml", []byte(failedLogonRule+"---\n"+corr), LoadOptions{})
		c.resolve()
		if len(c.Refused) == 0 || len(c.Correlations) != 0 {
			t.Errorf("%s: not refused (%d correlations)", name, len(c.Correlations))
		}
	}
}

func TestFilterDocuments(t *testing.T) {
	src := ruleWith("  sel:\n    Image|endswith: '\\x.exe'\n  condition: sel\n") + `---
title: Not from the admin share
filter:
  rules:
    - 00000000-0000-0000-0000-000000000001
  sel:
    CommandLine|contains: 'allowed'
  condition: not sel
logsource:
  product: windows
  category: process_creation
---
title: Other logsource
filter:
  rules: []
  sel:
    Image|endswith: '\x.exe'
  condition: not sel
logsource:
  product: windows
  category: file_event
`
	c := &Collection{}
	c.Add("f.yml", []byte(src), LoadOptions{})
	c.resolve()
	if len(c.Refused) > 0 || len(c.Filters) != 2 || len(c.Rules[0].filters) != 1 {
		t.Fatalf("filters: refused %v, %d filters, %d applied", c.Refused, len(c.Filters), len(c.Rules[0].filters))
	}
	r := c.Rules[0]
	if !r.Match(ev("Image", `c:\x.exe`, "CommandLine", "x")) || r.Match(ev("Image", `c:\x.exe`, "CommandLine", "allowed here")) {
		t.Error("the filter does not narrow its rule")
	}
}
