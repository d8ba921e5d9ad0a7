package analyzers

import (
	"context"
	"fmt"
	"sort"
)

var tInterpreter = Technique{"T1059", "Command and Scripting Interpreter", "Execution"}

// genericInterpreters finds interpreter runs outside business hours in the
// host's time zone, and the first run of each interpreter on each host.
type genericInterpreters struct{}

var _ Analyzer = (*genericInterpreters)(nil)

func (*genericInterpreters) Meta() Meta {
	return Meta{
		ID: "t1059-interpreters", Technique: tInterpreter, Severity: "low",
		Description: "Interpreters (PowerShell, cmd, wscript, cscript, mshta) run outside business hours in the host's " +
			"time zone, and the first run of each interpreter seen on the host.",
		References: []string{"https://attack.mitre.org/techniques/T1059/"},
	}
}

var interpreters = map[string]bool{"powershell.exe": true, "pwsh.exe": true, "powershell_ise.exe": true, "cmd.exe": true,
	"wscript.exe": true, "cscript.exe": true, "mshta.exe": true}

func (g *genericInterpreters) Analyze(ctx context.Context, in *Input) ([]Finding, error) {
	events, err := in.Events(ctx, processEvents+` OR source='prefetch'`)
	if err != nil {
		return nil, err
	}
	loc := in.Opts.Location
	var out []Finding
	type hostExe struct{ host, exe string }
	firstSeen := map[hostExe]*Event{}
	var order []hostExe
	for i := range events {
		e := &events[i]
		exe := base(e.Process)
		if !interpreters[exe] || e.TS.IsZero() {
			continue
		}
		k := hostExe{e.Host, exe}
		if f, ok := firstSeen[k]; !ok || e.TS.Before(f.TS) {
			if !ok {
				order = append(order, k)
			}
			firstSeen[k] = e
		}
		local := e.TS.In(loc)
		weekend := local.Weekday() == 0 || local.Weekday() == 6
		if h := local.Hour(); h >= in.Opts.BusinessStart && h < in.Opts.BusinessEnd && !weekend {
			continue
		}
		f := Finding{Host: e.Host, TS: e.TS, Technique: tInterpreter, EventIDs: []int64{e.ID}, Severity: "low", Confidence: "low",
			Title: fmt.Sprintf("%s ran outside business hours (%s %s)", exe, local.Weekday(), local.Format("15:04 MST")),
			Rule: fmt.Sprintf("Business hours are %02d:00–%02d:00, Monday to Friday, in %s; interpreter runs outside them deserve a look.",
				in.Opts.BusinessStart, in.Opts.BusinessEnd, loc),
			Matched:  e.CommandLine,
			Features: map[string]any{"local_time": local.Format("2006-01-02 15:04:05 MST"), "weekday": local.Weekday().String(), "source": e.Source}}
		f.link(e)
		out = append(out, f)
	}
	sort.SliceStable(order, func(i, j int) bool { return firstSeen[order[i]].ID < firstSeen[order[j]].ID })
	for _, k := range order {
		e := firstSeen[k]
		f := Finding{Host: e.Host, TS: e.TS, Technique: tInterpreter, EventIDs: []int64{e.ID}, Severity: "informational",
			Confidence: "medium", Title: fmt.Sprintf("%s first seen on %s", k.exe, k.host),
			Rule:    "The earliest run of this interpreter in the host's prefetch and process events: when it came into use.",
			Matched: e.CommandLine, Features: map[string]any{"source": e.Source}}
		f.link(e)
		out = append(out, f)
	}
	return out, nil
}
