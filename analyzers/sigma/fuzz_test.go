package sigma

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// fuzzSeedRules returns up to n corpus rule files, for seeds.
func fuzzSeedRules(n int) [][]byte {
	var out [][]byte
	filepath.WalkDir(filepath.Join(corpusRoot, "rules/windows"), func(p string, d os.DirEntry, err error) error {
		if err != nil || len(out) >= n || !strings.HasSuffix(p, ".yml") {
			return nil
		}
		if b, err := os.ReadFile(p); err == nil {
			out = append(out, b)
		}
		return nil
	})
	return out
}

const maxFuzzRule = 16 << 10

// fuzzWatchdog bounds the time one input may take.
const fuzzWatchdog = 10 * time.Second

// FuzzSigmaRule: compiling any YAML never panics, stays within the
// bounds (values, expansions, nesting), and a compiled rule can be
// matched against an event.
func FuzzSigmaRule(f *testing.F) {
	for _, b := range fuzzSeedRules(60) {
		f.Add(b)
	}
	f.Add([]byte(ruleWith("  sel:\n    A|contains|windash: ' -a -b -c -d'\n    B|wide|base64offset|contains: x\n  condition: sel\n")))
	f.Add([]byte("a: &x [1,2,3]\nb: [*x, *x, *x]\n"))
	f.Add([]byte(ruleWith("  sel:\n    A|expand: '%x%%x%%x%'\n  condition: not not (sel or sel) and 1 of them\n")))
	f.Add([]byte(failedLogonRule + "---\ntitle: c\nid: c\ncorrelation:\n  type: value_count\n  rules: [failed_logon, ok_logon]\n  group-by: [a]\n  aliases:\n    a:\n      failed_logon: IpAddress\n  field: [TargetUserName]\n  timespan: 5m\n  condition:\n    gte: 2\n    lt: 9\n"))
	f.Add([]byte("title: f\nfilter:\n  rules: [any]\n  sel:\n    A: x\n  condition: not sel\nlogsource:\n  product: windows\n"))
	event := ev("A", "a -b", "CommandLine", "x", "Data[0]", "y", "EventID", "1", "Image", `C:\x.exe`)
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > maxFuzzRule {
			return
		}
		// A slow input is a bug too: the watchdog crashes the worker, so
		// the fuzzer keeps the input.
		watchdog := time.AfterFunc(fuzzWatchdog, func() { panic(fmt.Sprintf("compiling took over %s: %q", fuzzWatchdog, data)) })
		defer watchdog.Stop()
		c := &Collection{}
		c.Add("fuzz.yml", data, LoadOptions{Placeholders: map[string][]string{"x": {"a", "b*", `c\*`}}})
		c.resolve()
		for _, r := range c.Rules {
			values := 0
			for _, s := range r.sels {
				for _, g := range s.groups {
					for _, it := range g {
						for _, x := range it.tests {
							if a, ok := x.(anyTest); ok {
								values += len(a)
							} else {
								values++
							}
						}
					}
				}
			}
			if values > maxItems {
				t.Fatalf("%d values compiled, bound %d", values, maxItems)
			}
			r.Match(event)
			r.Matched(event)
			NewRuleSet([]*Rule{r}).Match(chSysmon, 1, event, func(*Rule, Fields) {})
		}
		k := NewCorrelator(c)
		for _, r := range c.Rules {
			if k.Wants(r) {
				k.Observe(r, time.Unix(0, 0), "h", 1, event)
				k.Observe(r, time.Unix(1, 0), "h", 2, event)
			}
		}
		k.Finish()
		for _, rf := range c.Refused {
			if rf.Reason == "" || rf.Detail == "" {
				t.Fatalf("refusal without a reason: %+v", rf)
			}
		}
	})
}

// FuzzSigmaMatch: over rules of the corpus and any event, the indexed,
// prefiltered rule set finds exactly what trying each rule finds, with its
// buckets in parts (the product-only rule makes every bucket two) and
// joined.
func FuzzSigmaMatch(f *testing.F) {
	c := Load([]string{filepath.Join(corpusRoot, "rules/windows/process_creation"), filepath.Join(corpusRoot, "rules/windows/builtin/security"),
		filepath.Join(corpusRoot, "rules/windows/builtin/win_alert_mimikatz_keywords.yml")}, LoadOptions{})
	if len(c.Rules) == 0 {
		f.Skip("corpus not available")
	}
	rs := NewRuleSet(c.Rules)
	joined := NewRuleSet(c.Rules)
	defer func(n int64) { joinAfter = n }(joinAfter)
	f.Add(uint8(0), `C:\Windows\System32\cmd.exe`, `cmd.exe /c whoami /priv`, `C:\Windows\explorer.exe`, "4688")
	f.Add(uint8(1), `C:\Users\x\powershell.exe`, "powershell -enc SQBFAFgA -nop", `C:\Windows\System32\wscript.exe`, "4624")
	f.Add(uint8(2), `c:\x\rundll32.exe`, "RUNDLL32.EXE shell32.dll,#44 \u2013x", "", "4625")
	f.Fuzz(func(t *testing.T, which uint8, image, cmdline, parent, extra string) {
		var channel string
		var id int
		data := map[string]string{}
		switch which % 3 {
		case 0:
			channel, id = chSysmon, 1
			data = map[string]string{"Image": image, "CommandLine": cmdline, "ParentImage": parent, "OriginalFileName": extra}
		case 1:
			channel, id = "Security", 4688
			data = map[string]string{"NewProcessName": image, "CommandLine": cmdline, "ParentProcessName": parent, "MandatoryLabel": extra}
		case 2:
			channel, id = "Security", 4624
			data = map[string]string{"TargetUserName": image, "ProcessName": parent, "IpAddress": extra, "Data[0]": cmdline}
		}
		f := Fields{}
		for k, v := range data {
			f.Add(k, v)
		}
		f.SystemFields(id, channel, "p", "h", 4, 1)
		got := map[*Rule]bool{}
		var order, joinedOrder []*Rule
		m := rs.matcher()
		rs.Match(channel, id, f, func(r *Rule, seen Fields) {
			got[r] = true
			order = append(order, r)
			if a, b := m.Matched(r), r.Matched(seen); !slices.Equal(a, b) {
				t.Fatalf("%s: matched %q on the match's view, %q on a view of its own", r.Path, a, b)
			}
		})
		joinAfter = 0
		joined.Match(channel, id, f, func(r *Rule, _ Fields) { joinedOrder = append(joinedOrder, r) })
		joinAfter = 1 << 62
		if !slices.Equal(order, joinedOrder) {
			t.Fatalf("in parts %d matches, joined %d", len(order), len(joinedOrder))
		}
		for _, r := range c.Rules {
			want := false
			for _, src := range r.Sources {
				if src.Channel != channel || len(src.EventIDs) > 0 && !containsInt(src.EventIDs, id) {
					continue
				}
				vf := f
				if src.View == View4688AsSysmon {
					vf = sysmonView4688(f)
				}
				want = want || r.Match(vf)
			}
			if got[r] != want {
				t.Fatalf("%s: prefiltered %v, the rule alone %v", r.Path, got[r], want)
			}
		}
		checkMayMatch(t, rs, testEvent{channel, id, f, jsonTexts(data)}, len(got) > 0)
	})
}
