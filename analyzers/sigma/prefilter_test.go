package sigma

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
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
				for k, v := range rec.Event.EventData {
					s := fmt.Sprint(v)
					switch variant {
					case 1:
						s = strings.ToUpper(s)
					case 2:
						s = s[:len(s)/2]
					}
					fs.Add(k, s)
				}
				fs.SystemFields(id, rec.Event.System.Channel, rec.Event.System.Provider.Attrs.Name, "h", 4, 1)
				out = append(out, testEvent{rec.Event.System.Channel, id, fs})
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
	}
	t.Logf("%d events, %d hits agree", len(events), hits)
}

func containsInt(l []int, v int) bool {
	for _, x := range l {
		if x == v {
			return true
		}
	}
	return false
}

func TestAutomatonFindsEveryOccurrence(t *testing.T) {
	needles := []string{"he", "she", "his", "hers", "a", "ab", "bab", "xyz"}
	a := newAutomaton(needles)
	for _, text := range []string{"ushers", "ahishers", "babab", "HeRs", "xyzxyz", "", "émile she"} {
		got := map[string]int{}
		a.findFolded(text, func(i int) { got[needles[i]]++ })
		low := strings.ToLower(text)
		for _, n := range needles {
			if want := strings.Count(low, n); overlapping(low, n) != got[n] && want >= 0 {
				t.Errorf("%q in %q: %d, want %d", n, text, got[n], overlapping(low, n))
			}
		}
	}
}

func overlapping(s, n string) int {
	c := 0
	for i := 0; i+len(n) <= len(s); i++ {
		if s[i:i+len(n)] == n {
			c++
		}
	}
	return c
}
