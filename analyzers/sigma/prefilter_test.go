package sigma

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"triage/internal/testcorpus"
)

// regressionEvents reads the events of the regression data's .json files
// (the same records as the .evtx), with their variants: every value upper
// cased, and every value cut in half, so that near misses are tried too.
func regressionEvents(t *testing.T) []testEvent {
	var out []testEvent
	filepath.WalkDir(testcorpus.Dir(t, "sigma", "regression_data"), func(p string, d os.DirEntry, err error) error {
		if err != nil || !strings.HasSuffix(p, ".json") {
			return nil
		}
		f, err := os.Open(p)
		if err != nil {
			return nil
		}
		defer f.Close()
		dec := json.NewDecoder(f)
		for {
			var rec struct {
				Event struct {
					System struct {
						EventID  any
						Channel  string
						Provider struct {
							Attrs struct{ Name string } `json:"#attributes"`
						}
					}
					EventData map[string]any
				}
			}
			if err := dec.Decode(&rec); errors.Is(err, io.EOF) || err != nil {
				break
			}
			id := 0
			fmt.Sscan(fmt.Sprint(rec.Event.System.EventID), &id)
			for variant := 0; variant < 3; variant++ {
				fs := Fields{}
				data := map[string]string{}
				for k, v := range rec.Event.EventData {
					s := fmt.Sprint(v)
					switch variant {
					case 1:
						s = strings.ToUpper(s)
					case 2:
						s = s[:len(s)/2]
					}
					fs.Add(k, s)
					data[k] = s
				}
				fs.SystemFields(id, rec.Event.System.Channel, rec.Event.System.Provider.Attrs.Name, "h", 4, 1)
				out = append(out, testEvent{rec.Event.System.Channel, id, fs, jsonTexts(data)})
			}
		}
		return nil
	})
	if len(out) == 0 {
		t.Skip("no regression data")
	}
	return out
}

type testEvent struct {
	channel string
	id      int
	f       Fields
	data    []string // the fields as JSON text, encoded in several ways
}

// jsonTexts encodes an event's fields as the timeline does (with <, >
// and & escaped) and without those escapes, which MayMatchJSON judges.
func jsonTexts(data map[string]string) []string {
	a, _ := json.Marshal(data)
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(data)
	return []string{string(a), b.String()}
}

// checkMayMatch fails when MayMatchJSON rules out an event that a rule
// matches.
func checkMayMatch(t *testing.T, rs *RuleSet, e testEvent, matched bool) {
	t.Helper()
	for _, d := range e.data {
		if matched && !rs.MayMatchJSON(e.channel, e.id, d, e.f["Provider_Name"][0], e.f["Computer"][0], 4, 1) {
			t.Fatalf("MayMatchJSON rules out a matching %s %d event: %s", e.channel, e.id, d)
		}
	}
}

// TestPrefilterAgreesWithEveryRule: the indexed, prefiltered rule set
// finds exactly what trying every rule of the event's logsource finds.
func TestPrefilterAgreesWithEveryRule(t *testing.T) {
	c := Load(windowsRulePaths(t), LoadOptions{})
	rs := NewRuleSet(c.Rules)
	events := regressionEvents(t)
	hits := 0
	for _, e := range events {
		got := map[*Rule]bool{}
		rs.Match(e.channel, e.id, e.f, func(r *Rule, _ Fields) { got[r] = true })
		for _, r := range c.Rules {
			want := false
			for _, src := range r.Sources {
				if src.Channel != "" && src.Channel != e.channel || len(src.EventIDs) > 0 && !containsInt(src.EventIDs, e.id) {
					continue
				}
				f := e.f
				if src.View == View4688AsSysmon {
					f = sysmonView4688(f)
				}
				want = want || r.Match(f)
			}
			if got[r] != want {
				t.Errorf("%s on %s %d: prefiltered %v, every rule %v", r.Path, e.channel, e.id, got[r], want)
			}
			if want {
				hits++
			}
		}
		checkMayMatch(t, rs, e, len(got) > 0)
	}
	t.Logf("%d events, %d hits agree", len(events), hits)
}

// TestMatchersAtOnce: Matchers of one rule set, matching at once on
// goroutines of their own while the set's buckets and the automata's
// tables are built under them, each find what one Matcher alone finds.
func TestMatchersAtOnce(t *testing.T) {
	c := Load(windowsRulePaths(t), LoadOptions{})
	events := regressionEvents(t)
	hitsOf := func(m *Matcher, e testEvent) string {
		var b strings.Builder
		b.WriteString(matchedPaths(m, e))
		for _, d := range e.data {
			fmt.Fprintf(&b, "%v", m.MayMatchJSON(e.channel, e.id, d, e.f["Provider_Name"][0], e.f["Computer"][0], 4, 1))
		}
		return b.String()
	}
	alone := NewRuleSet(c.Rules).NewMatcher()
	want := make([]string, len(events))
	for i, e := range events {
		want[i] = hitsOf(alone, e)
	}
	rs := NewRuleSet(c.Rules)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m := rs.NewMatcher()
			for pass := range 3 { // past the bytes that build the tables
				for i := range events {
					i := (i + g*len(events)/4) % len(events) // each goroutine from elsewhere
					if got := hitsOf(m, events[i]); got != want[i] {
						t.Errorf("goroutine %d, pass %d, event %d: %q, alone %q", g, pass, i, got, want[i])
						return
					}
				}
			}
		}()
	}
	wg.Wait()
}

// TestJoinedBucketsAgree: a bucket whose views are in parts finds the
// same rules, in the same order, before and after it joins them.
func TestJoinedBucketsAgree(t *testing.T) {
	c := Load(windowsRulePaths(t), LoadOptions{})
	events := regressionEvents(t)
	inParts := NewRuleSet(c.Rules).NewMatcher()
	want := make([]string, len(events))
	for i, e := range events {
		want[i] = matchedPaths(inParts, e)
	}
	defer func(n int64) { joinAfter = n }(joinAfter)
	joinAfter = 0
	joined := NewRuleSet(c.Rules)
	m := joined.NewMatcher()
	splits := 0
	for i, e := range events {
		if got := matchedPaths(m, e); got != want[i] {
			t.Fatalf("%s %d: joined %q, in parts %q", e.channel, e.id, got, want[i])
		}
		if b := joined.bucket(e.channel, e.id); b != nil && b.split {
			if b.joined.Load() == nil {
				t.Fatalf("%s %d: not joined", e.channel, e.id)
			}
			splits++
		}
	}
	if splits == 0 {
		t.Fatal("no event met a bucket in parts")
	}
	t.Logf("%d of %d events met joined buckets", splits, len(events))
}

// matchedPaths lists the rules m matches on e, in the order it gives them.
func matchedPaths(m *Matcher, e testEvent) string {
	var b strings.Builder
	m.Match(e.channel, e.id, e.f, func(r *Rule, _ Fields) { b.WriteString(r.Path + "\n") })
	return b.String()
}

func containsInt(l []int, v int) bool {
	for _, x := range l {
		if x == v {
			return true
		}
	}
	return false
}

func TestMayMatchJSONText(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`\cmd.exe`, `\\cmd.exe`},
		{`a"b`, `a\"b`},
		{"x\ny", `x\ny`},
		{`c:/windows/system32/x`, `system32`},
		{"/", ""},
	} {
		if got := longestEscapedPiece(c.in); got != c.want {
			t.Errorf("longestEscapedPiece(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	for _, c := range []struct {
		in   string
		want bool
	}{
		{`{}`, true}, {` { "a" : "b\\\"c" , "d":"" } `, true}, {`{"a":"\u0041"}`, false}, {`{"a":1}`, false},
		{`{"a":"b"`, false}, {`{"a":"b"}x`, false}, {`{"a":["b"]}`, false}, {`{"a":"b\x01"}`, false}, {`["a"]`, false},
	} {
		var values []string
		if got := plainJSONValues(c.in, func(v string) { values = append(values, v) }); got != c.want {
			t.Errorf("plainJSONValues(%q) = %v, want %v", c.in, got, c.want)
		}
		if c.in == ` { "a" : "b\\\"c" , "d":"" } ` && strings.Join(values, "|") != `b\\\"c|` {
			t.Errorf("plainJSONValues(%q) gave the values %q", c.in, values)
		}
	}
	// A Security logon that no rule's literal occurs in is ruled out; one
	// naming mimikatz is not.
	c := Load(windowsRulePaths(t), LoadOptions{})
	rs := NewRuleSet(c.Rules)
	if rs.MayMatchJSON("Security", 5447, `{"FilterName":"Default"}`, "Microsoft-Windows-Security-Auditing", "host", 4, 1) {
		t.Error("an event with no rule's literal is not ruled out")
	}
	if !rs.MayMatchJSON("Security", 5447, `{"FilterName":"SEKURLSA::LogonPasswords"}`, "Microsoft-Windows-Security-Auditing", "host", 4, 1) {
		t.Error("an event holding a keyword is ruled out")
	}
}
