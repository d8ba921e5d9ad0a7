package analyzers

import (
	"context"
	"fmt"
	"iter"
	"sort"
	"strings"
	"time"

	"triage/timeline"
)

// lateScript finds the script files MITRE's analytic for T1059 names
// (.ps1, .sh, .py, .rb, .js, .vbs) in a command line or script path.
var lateScript = lazy(`(?i)[^\s"'=,;|&<>]+\.(?:ps1|sh|py|rb|js|vbs)\b`)

// outsideBusinessHours reports whether t falls outside business hours in
// loc: weekends, and hours outside [start, end). A start after the end is
// an overnight range (22-06): business hours then wrap past midnight.
func outsideBusinessHours(t time.Time, loc *time.Location, start, end int) bool {
	local := t.In(loc)
	if local.Weekday() == time.Saturday || local.Weekday() == time.Sunday {
		return true
	}
	return !inBusinessHours(local.Hour(), start, end)
}

// scriptsOutsideHours is MITRE's analytic for T1059: scripts run outside
// business hours, from process starts (4688, Sysmon 1) and the PowerShell
// logs (4103 script name, 4104 path), one finding per host and local day
// naming the scripts.
func scriptsOutsideHours(ctx context.Context, in *Input) ([]Finding, error) {
	logged := in.eventsOf(timeline.SourceEVTX, []int{4103, 4104}, `+provider='`+timeline.ProviderPowerShell+`'
		AND (+data LIKE '%.ps1%' OR +data LIKE '%.vbs%' OR +data LIKE '%.py%' OR +data LIKE '%.js%'
		OR +data LIKE '%.sh%' OR +data LIKE '%.rb%')`)
	o := in.Opts
	type key struct{ host, day string }
	byDay := map[key]*Finding{}
	scripts := map[key]map[string]bool{}
	var order []key
	// SQLite's LIKE folds ASCII case as hasScriptExtension does.
	scripted := in.merged(in.cursors(starts, nil, `(+command_line LIKE '%.ps1%' OR +command_line LIKE '%.sh%' OR +command_line LIKE '%.py%'
		OR +command_line LIKE '%.rb%' OR +command_line LIKE '%.js%' OR +command_line LIKE '%.vbs%')`))
	for e := range concat(scripted, logged) {
		if e.TS.IsZero() || !outsideBusinessHours(e.TS, o.Location, o.BusinessStart, o.BusinessEnd) {
			continue
		}
		var text string
		switch e.Category {
		case timeline.CategoryScriptBlock:
			text = e.Field("Path")
		case timeline.CategoryPipeline:
			text = e.Field("Script Name")
		default:
			text = e.CommandLine
		}
		if !hasScriptExtension(text) {
			continue
		}
		m := lateScript.FindString(text)
		if m == "" {
			continue
		}
		k := key{e.Host, e.TS.In(o.Location).Format("2006-01-02")}
		f := byDay[k]
		if f == nil {
			f = &Finding{Host: e.Host, TS: e.TS, Technique: tInterpreter, Severity: timeline.SeverityLow, Confidence: "low"}
			byDay[k], scripts[k] = f, map[string]bool{}
			order = append(order, k)
		}
		if len(f.EventIDs) < maxEvidence {
			f.cite(e)
		}
		if e.TS.Before(f.TS) {
			f.TS = e.TS
		}
		scripts[k][base(m)] = true
	}
	var out []Finding
	for _, k := range order {
		f := byDay[k]
		names := make([]string, 0, len(scripts[k]))
		for n := range scripts[k] {
			names = append(names, n)
		}
		sort.Strings(names)
		f.Title = fmt.Sprintf("Scripts ran outside business hours on %s: %s", k.day, clip(strings.Join(names, ", "), 200))
		f.Rule = fmt.Sprintf("MITRE's analytic for T1059: scripts (.ps1, .sh, .py, .rb, .js, .vbs) in process starts and PowerShell logs "+
			"outside business hours (%02d:00–%02d:00, Monday to Friday, in %s). Timing alone proves nothing.", o.BusinessStart, o.BusinessEnd, o.Location)
		f.Matched = strings.Join(names, "\n")
		f.Features = map[string]any{"scripts": names}
		out = append(out, *f)
	}
	return out, nil
}

// pointers yields pointers to the events of a slice.
func pointers(events []Event) iter.Seq[*Event] {
	return func(yield func(*Event) bool) {
		for i := range events {
			if !yield(&events[i]) {
				return
			}
		}
	}
}

// hasScriptExtension is a cheap test for lateScript: a dot followed by one
// of its extensions, any case.
func hasScriptExtension(s string) bool {
	for i := strings.IndexByte(s, '.'); i >= 0 && i+2 < len(s)+0; {
		rest := s[i+1:]
		for _, ext := range []string{"ps1", "sh", "py", "rb", "js", "vbs"} {
			if len(rest) >= len(ext) && strings.EqualFold(rest[:len(ext)], ext) {
				return true
			}
		}
		j := strings.IndexByte(rest, '.')
		if j < 0 {
			break
		}
		i += j + 1
	}
	return false
}
