package analyzers

import (
	"fmt"
	"iter"
	"sort"
	"strings"
	"time"

	"triage/timeline"
)

// The cmd.exe detections beside the analyzer's main loop: tricks that one
// command line gives away, and the seed analytics over all of the host's
// shell starts.

var (
	// pipeEcho is how Meterpreter's getsystem and its copies impersonate
	// SYSTEM: a service runs cmd.exe to write into a named pipe that the
	// attacker's process listens on.
	pipeEcho = lazy(`(?i)\becho\s+\S+\s*>\s*\\\\\.\\pipe\\\S+`)
	// sessionHijack is tscon attaching another user's RDP session to the
	// attacker's, which needs SYSTEM and so is run from a service.
	sessionHijack = lazy(`(?i)\btscon(\.exe)?\s+\d+\s+/dest:\S+`)
	// hiddenBatch is "start /min" (or /b) running a batch file out of sight.
	hiddenBatch = lazy(`(?i)\bstart\s+(?:"[^"]*"\s+)?/(?:min|b)\s+(?:/\w+\s+)*"?([^"&|]*?\.(?:bat|cmd))\b`)
)

// shellTricks judges one cmd.exe command line for the tricks it gives
// away by itself: getsystem through a named pipe, RDP session hijack, a
// hidden batch file and encoded PowerShell carried in the line.
func shellTricks(e *Event) []Finding {
	var out []Finding
	line := e.CommandLine
	if m := pipeEcho.FindString(line); m != "" {
		f := cited(e, Finding{Technique: tCmd, Severity: timeline.SeverityHigh, Confidence: "high", Matched: line,
			Related: []string{"T1134.001"}, Title: "cmd.exe writes into a named pipe (getsystem)",
			Rule: "The shell echoes text into \\\\.\\pipe\\…: how Meterpreter's getsystem and similar tools make a SYSTEM service connect to a pipe and steal its token."})
		if base(e.ParentProcess) == "services.exe" {
			f.Rule += " The shell was started by services.exe, as a service installed for the purpose."
			f.Related = append(f.Related, "T1543.003")
		}
		out = append(out, f)
	}
	if m := sessionHijack.FindString(line); m != "" {
		out = append(out, cited(e, Finding{Technique: tCmd, Severity: timeline.SeverityHigh, Confidence: "high", Matched: line,
			Related: []string{"T1563.002"}, Title: "cmd.exe runs tscon to take over an RDP session",
			Rule: fmt.Sprintf("%q attaches another session to a console without its password; run as SYSTEM (often from a service, cmd /k tscon) it hijacks a logged-on user's RDP session.", m)}))
	}
	if m := hiddenBatch.FindStringSubmatch(line); m != nil {
		f := cited(e, Finding{Technique: tCmd, Severity: timeline.SeverityLow, Confidence: "medium", Matched: line,
			Title: "cmd.exe starts a batch file minimised: " + base(m[1]),
			Rule:  "start /min or /b runs the batch file in a window the user does not see."})
		if userWritable(m[1]) {
			f.Severity = timeline.SeverityMedium
			f.Rule += " The batch file lies in a folder any user can write to."
		}
		f.keys["file:"+base(m[1])] = true
		out = append(out, f)
	}
	if len(line) > longLine {
		out = append(out, cited(e, Finding{Technique: tCmd, Severity: timeline.SeverityLow, Confidence: "low", Matched: line,
			Title: fmt.Sprintf("Long cmd.exe command line (%d characters)", len(line)),
			Rule:  fmt.Sprintf("DeepBlueCLI's check: a command line over %d characters carries a script or payload rather than a command.", longLine)}))
	}
	if decoded, ok := carriedPowerShell(line); ok && strings.Contains(strings.ToLower(line), "powershell") {
		ms := matchContent(decoded)
		f := cited(e, Finding{Technique: tCmd, Severity: timeline.SeverityHigh, Confidence: "high", Matched: line, Decoded: decoded,
			Related: related(ms, tObfuscated.ID, tPowerShell.ID), Title: "cmd.exe starts PowerShell with an encoded payload",
			Rule: "The shell's command line carries a PowerShell payload in base64 (-EncodedCommand or FromBase64String); decoded, it is shown below."})
		if len(ms) > 0 {
			f.Title += ": " + ruleNames(ms)
		}
		out = append(out, f)
	}
	return out
}

// shellSwitch finds what MITRE's analytic for T1059.003 looks for: cmd.exe
// told to run a command and exit (/c), run one and stay (/k), or run a
// batch file.
var shellSwitch = lazy(`(?i)(?:^|\s)/[ck]\s|\.(?:bat|cmd)\b`)

// shellRuns is the seed analytic itself: every cmd.exe start with /c, /k
// or a batch file, one informational finding per host, parent and local
// day, counting starts (not records) and citing up to maxEvidence records. The other cmd.exe detections
// raise the ones that deserve it; this one makes them countable.
func shellRuns(procs iter.Seq[*Event], exits map[int64]processExit, loc *time.Location) []Finding {
	type key struct{ host, parent, day string }
	type runs struct {
		exits             map[int64]bool
		shortest, longest time.Duration
	}
	byKey := map[key]*Finding{}
	ran := map[key]*runs{}
	// A 4688 and a Sysmon 1 of one start are one command, cited twice.
	var starts timeline.StartSet
	var order []key
	for e := range procs {
		if e.image() != "cmd.exe" || !shellSwitch.MatchString(e.CommandLine) || e.TS.IsZero() {
			continue
		}
		k := key{e.Host, base(e.ParentProcess), e.TS.In(loc).Format("2006-01-02")}
		f := byKey[k]
		if f == nil {
			f = &Finding{Host: e.Host, TS: e.TS, Technique: tCmd, Severity: timeline.SeverityInformational, Confidence: "high",
				Matched: e.CommandLine, Features: map[string]any{"parent": k.parent, "day": k.day}}
			byKey[k] = f
			order = append(order, k)
		}
		if len(f.EventIDs) < maxEvidence {
			f.cite(e)
		}
		if x, ok := exits[e.ID]; ok {
			r := ran[k]
			if r == nil {
				r = &runs{exits: map[int64]bool{}, shortest: x.ran, longest: x.ran}
				ran[k] = r
			}
			if !r.exits[x.exit.id] {
				r.exits[x.exit.id] = true
				r.shortest, r.longest = min(r.shortest, x.ran), max(r.longest, x.ran)
				if len(f.EventIDs) < maxEvidence {
					f.citeContext(x.exit.id)
				}
			}
		}
		if e.TS.Before(f.TS) {
			f.TS = e.TS
		}
		if starts.Add(e.Host, e.Process, timeline.RecordKind(e.Source, e.Channel, e.EventID), e.TS) {
			f.Features["starts"] = toInt(f.Features["starts"]) + 1
		}
	}
	out := make([]Finding, 0, len(order))
	for _, k := range order {
		f := byKey[k]
		n := toInt(f.Features["starts"])
		parent := k.parent
		if parent == "" || parent == "." {
			parent = "an unrecorded parent"
		}
		f.Title = fmt.Sprintf("cmd.exe ran %d %s with /c, /k or a batch file on %s, started by %s", n, plural(n, "command", "commands"), k.day, parent)
		f.Rule = fmt.Sprintf("MITRE's analytic for T1059.003: cmd.exe process starts (4688, Sysmon 1, with their exits in 4689) with /c, /k, .bat or .cmd. Informational: "+
			"shells run commands all day; the other findings on these starts say which deserve a look. A start recorded by both 4688 and Sysmon 1 counts once. Days are local to %s.", loc)
		if r := ran[k]; r != nil {
			n := len(r.exits)
			f.Features["exits_paired"] = n
			f.Features["shortest_run_ms"], f.Features["longest_run_ms"] = r.shortest.Milliseconds(), r.longest.Milliseconds()
			if n == 1 {
				f.Rule += fmt.Sprintf(" The exit of one of these shells is recorded (Security 4689, paired with its start by process id): it ran %s.", span(r.longest))
			} else {
				f.Rule += fmt.Sprintf(" The exits of %d of these shells are recorded (Security 4689, paired with their starts by process id): they ran from %s to %s.",
					n, span(r.shortest), span(r.longest))
			}
		}
		out = append(out, *f)
	}
	return out
}

// newParentWindow is how far back the new-parent analytic looks for a
// parent before the host's last day.
const newParentWindow = 30 * 24 * time.Hour

// newShellParents is MITRE's second analytic for T1059.003: the parents
// that started cmd.exe on the last day of the host's timeline but on none
// of the 30 days before it. A host with no cmd.exe start in those 30 days
// has no baseline, and gives no finding. It reads the starts twice: for
// the host's last day (lastDays), then for the parents before and on it
// (starts).
type newShellParents struct {
	last           map[string]time.Time
	before         map[shellParent]bool
	baseline       map[string]int
	firstOnLastDay map[shellParent]*Event
	order          []shellParent
}

type shellParent struct{ host, parent string }

func (n *newShellParents) lastDays(procs iter.Seq[*Event]) {
	n.last = map[string]time.Time{}
	for e := range procs {
		if e.image() == "cmd.exe" && e.TS.After(n.last[e.Host]) {
			n.last[e.Host] = e.TS
		}
	}
}

func (n *newShellParents) starts(procs iter.Seq[*Event]) {
	n.before, n.baseline, n.firstOnLastDay = map[shellParent]bool{}, map[string]int{}, map[shellParent]*Event{}
	for e := range procs {
		if e.image() != "cmd.exe" || e.ParentProcess == "" || e.TS.IsZero() {
			continue
		}
		dayStart := n.last[e.Host].Add(-24 * time.Hour)
		k := shellParent{e.Host, base(e.ParentProcess)}
		switch {
		case e.TS.After(dayStart):
			if n.firstOnLastDay[k] == nil {
				n.firstOnLastDay[k] = e
				n.order = append(n.order, k)
			}
		case e.TS.After(dayStart.Add(-newParentWindow)):
			n.before[k] = true
			n.baseline[e.Host]++
		}
	}
}

func (n *newShellParents) findings() []Finding {
	last, before, baseline, firstOnLastDay, order := n.last, n.before, n.baseline, n.firstOnLastDay, n.order
	sort.SliceStable(order, func(i, j int) bool { return firstOnLastDay[order[i]].ID < firstOnLastDay[order[j]].ID })
	var out []Finding
	for _, k := range order {
		if before[k] || baseline[k.host] == 0 {
			continue
		}
		e := firstOnLastDay[k]
		end := last[k.host]
		out = append(out, cited(e, Finding{Technique: tCmd, Severity: timeline.SeverityLow, Confidence: "low", Matched: e.CommandLine,
			Title: fmt.Sprintf("cmd.exe started by %s, a parent new on the host's last day", k.parent),
			Rule: fmt.Sprintf("MITRE's analytic for T1059.003: %s started cmd.exe in the last 24 hours of the host's timeline (%s to %s UTC) "+
				"but in none of the %d cmd.exe starts of the 30 days before (%s to %s UTC).", k.parent,
				end.Add(-24*time.Hour).UTC().Format(time.DateTime), end.UTC().Format(time.DateTime), baseline[k.host],
				end.Add(-24*time.Hour-newParentWindow).UTC().Format(time.DateTime), end.Add(-24*time.Hour).UTC().Format(time.DateTime)),
			Features: map[string]any{"parent": k.parent, "baseline_starts": baseline[k.host]}}))
	}
	return out
}
