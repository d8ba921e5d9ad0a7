package analyzers

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"triage/timeline"
)

var tInterpreter = timeline.MustTechnique("T1059")

// genericInterpreters finds interpreter runs outside business hours in the
// host's time zone, and the first run of each interpreter on each host.
type genericInterpreters struct{}

var _ Analyzer = (*genericInterpreters)(nil)

func (*genericInterpreters) Meta() Meta {
	return Meta{
		ID: "t1059-interpreters", Technique: tInterpreter, Severity: timeline.SeverityLow,
		Description: "Interpreters (the timeline's list: PowerShell, cmd, the script hosts, Python, WSL, Node, AutoIt, Lua, " +
			"Java, Perl, Ruby, WMIC) run outside business hours in the host's time zone, and the first run of each seen on the host.",
		References: []string{"https://attack.mitre.org/techniques/T1059/"},
	}
}

// interpreters is the timeline's list of interpreters, by image name.
var interpreters = func() map[string]bool {
	m := map[string]bool{}
	for _, i := range timeline.Interpreters {
		m[i.Image] = true
	}
	return m
}()

func (g *genericInterpreters) Analyze(ctx context.Context, in *Input) ([]Finding, error) {
	// Windows PowerShell's 400 records an engine start: a run of PowerShell
	// that a log of PowerShell alone still shows.
	engines := &cursor{where: `source='` + timeline.SourceEVTX + `' AND event_id=400 AND provider='` + timeline.ProviderClassicPS + `'`}
	cursors := append(in.startCursors(func(image string) bool { return interpreters[image] }), in.cursors(prefetch, nil, "")...)
	events := in.merged(append(cursors, engines))
	loc := in.Opts.Location
	var out []Finding
	type hostExe struct{ host, exe string }
	firstSeen := map[hostExe]*Event{}
	var order []hostExe
	// Runs outside business hours are gathered per host, interpreter and
	// local day: one finding a day keeps a busy host's report readable.
	type dayKey struct {
		host, exe, day string
	}
	nights := map[dayKey]*Finding{}
	lastRun := map[dayKey]time.Time{}
	var nightOrder []dayKey
	var starts timeline.StartSet
	for e := range events {
		exe := e.image()
		if e.Category == timeline.CategoryEngineStart && !strings.Contains(exe, ".") {
			exe += ".exe" // HostApplication "powershell -v 2" names no extension
		}
		if !interpreters[exe] || e.TS.IsZero() {
			continue
		}
		newStart := starts.Add(e.Host, e.Process, timeline.RecordKind(e.Source, e.Channel, e.EventID), e.TS)
		k := hostExe{e.Host, exe}
		if f, ok := firstSeen[k]; !ok || e.TS.Before(f.TS) {
			if !ok {
				order = append(order, k)
			}
			firstSeen[k] = e
		}
		if !outsideBusinessHours(e.TS, loc, in.Opts.BusinessStart, in.Opts.BusinessEnd) {
			continue
		}
		local := e.TS.In(loc)
		dk := dayKey{e.Host, exe, local.Format("2006-01-02")}
		f := nights[dk]
		if f == nil {
			f = &Finding{Host: e.Host, TS: e.TS, Technique: tInterpreter, Severity: timeline.SeverityLow, Confidence: "low",
				Rule: fmt.Sprintf("Business hours are %02d:00–%02d:00, Monday to Friday, in %s; interpreter runs outside them deserve a look. "+
					"A start recorded by several of 4688, Sysmon 1 and prefetch within 2 s counts as one run.",
					in.Opts.BusinessStart, in.Opts.BusinessEnd, loc),
				Matched: e.CommandLine, Features: map[string]any{"weekday": local.Weekday().String(), "first_local": local.Format("15:04:05")}}
			nights[dk] = f
			nightOrder = append(nightOrder, dk)
		}
		if f.Matched == "" {
			f.Matched = e.CommandLine
		}
		if len(f.EventIDs) < maxEvidence {
			f.cite(e)
		}
		f.Features["records"] = toInt(f.Features["records"]) + 1
		if newStart {
			f.Features["runs"] = toInt(f.Features["runs"]) + 1
		}
		// Events come in id order, which is not always time order.
		if e.TS.Before(f.TS) {
			f.TS = e.TS
			f.Features["first_local"] = local.Format("15:04:05")
		}
		if last := lastRun[dk]; e.TS.After(last) {
			lastRun[dk] = e.TS
			f.Features["last_local"] = local.Format("15:04:05")
		}
		f.Features["sources"] = addSource(f.Features["sources"], e.Source)
	}
	for _, dk := range nightOrder {
		f := nights[dk]
		runs := toInt(f.Features["runs"])
		f.Title = fmt.Sprintf("%s ran %d %s outside business hours on %s %s (%s–%s %s)", dk.exe, runs, plural(runs, "time", "times"),
			f.Features["weekday"], dk.day, f.Features["first_local"], f.Features["last_local"], loc)
		if toInt(f.Features["records"]) > maxEvidence {
			f.Features["evidence_listed"] = maxEvidence
		}
		out = append(out, *f)
	}
	sort.SliceStable(order, func(i, j int) bool { return firstSeen[order[i]].ID < firstSeen[order[j]].ID })
	for _, k := range order {
		e := firstSeen[k]
		f := cited(e, Finding{Technique: tInterpreter, Severity: timeline.SeverityInformational,
			Confidence: "medium", Title: fmt.Sprintf("%s first seen on %s", k.exe, k.host),
			Rule:    "The earliest run of this interpreter in the host's prefetch and process events: when it came into use.",
			Matched: e.CommandLine, Features: map[string]any{"source": e.Source}})
		out = append(out, f)
	}
	late, err := scriptsOutsideHours(ctx, in)
	if err != nil {
		return nil, err
	}
	out = append(out, late...)
	consumers, err := wmiConsumers(ctx, in)
	return append(out, consumers...), err
}

// maxEvidence bounds the events cited by one aggregated finding; the
// features say how many there were in all.
const maxEvidence = 100

func toInt(v any) int {
	n, _ := v.(int)
	return n
}

func addSource(v any, source string) string {
	s, _ := v.(string)
	for _, p := range strings.Split(s, ",") {
		if p == source {
			return s
		}
	}
	if s == "" {
		return source
	}
	return s + "," + source
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// inBusinessHours reports whether an hour of the day lies in [start, end).
// A start after the end is a range over midnight, such as a night shift's
// 22-06: 22:00 to 06:00. The day of the week is the one the hour falls on.
func inBusinessHours(hour, start, end int) bool {
	if start <= end {
		return hour >= start && hour < end
	}
	return hour >= start || hour < end
}
