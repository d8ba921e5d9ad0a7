package analyzers

import (
	"context"
	"fmt"
	"strings"
)

// scriptLanguage is what tells VBScript from JScript activity.
type scriptLanguage struct {
	technique  Technique
	id         string
	extensions []string // script file extensions
	engines    []string // engine DLLs
	mshtaWord  string   // what an mshta command line says for this language
}

// windowsScriptHost finds wscript, cscript and mshta running scripts of one
// language, scripts run from user-writable paths, and the language's
// engine loaded by unusual processes.
type windowsScriptHost struct{ lang scriptLanguage }

var _ Analyzer = (*windowsScriptHost)(nil)

func (w *windowsScriptHost) Meta() Meta {
	return Meta{
		ID: w.lang.id, Technique: w.lang.technique, Severity: "high",
		Description: "wscript, cscript and mshta runs from process events and prefetch, scripts run from user-writable " +
			"paths, and the script engine loaded by processes that are not script hosts.",
		References: []string{"https://attack.mitre.org/techniques/" + strings.ReplaceAll(w.lang.technique.ID, ".", "/") + "/"},
	}
}

var scriptHosts = map[string]bool{"wscript.exe": true, "cscript.exe": true, "mshta.exe": true}

// engineHosts may load the script engines as part of their normal work.
var engineHosts = map[string]bool{"wscript.exe": true, "cscript.exe": true, "mshta.exe": true, "iexplore.exe": true,
	"msiexec.exe": true, "rundll32.exe": false, "svchost.exe": true, "explorer.exe": true, "searchindexer.exe": true}

// mine reports whether a script host command line runs this language.
func (w *windowsScriptHost) mine(cmd string) bool {
	cmd = strings.ToLower(cmd)
	for _, ext := range w.lang.extensions {
		if strings.Contains(cmd, ext) {
			return true
		}
	}
	return w.lang.mshtaWord != "" && strings.Contains(cmd, w.lang.mshtaWord)
}

func (w *windowsScriptHost) Analyze(ctx context.Context, in *Input) ([]Finding, error) {
	var out []Finding
	procs, err := in.Events(ctx, processEvents+` AND (lower(process) LIKE '%script.exe' OR lower(process) LIKE '%mshta.exe')`)
	if err != nil {
		return nil, err
	}
	for i := range procs {
		e := &procs[i]
		if !scriptHosts[base(e.Process)] || !w.mine(e.CommandLine) {
			continue
		}
		f := Finding{Host: e.Host, TS: e.TS, Technique: w.lang.technique, EventIDs: []int64{e.ID}, Confidence: "high",
			Severity: "low", Matched: e.CommandLine, Related: related(matchContent(e.CommandLine))}
		f.link(e)
		f.Title = fmt.Sprintf("%s ran a script", base(e.Process))
		f.Rule = "A Windows Script Host or mshta process ran script code."
		lower := strings.ToLower(e.CommandLine)
		switch {
		case base(e.Process) == "mshta.exe" && (strings.Contains(lower, "http") || strings.Contains(lower, w.lang.mshtaWord)):
			f.Severity, f.Title = "high", "mshta.exe ran inline or remote script"
			f.Rule = "mshta was given script code or a URL on its command line, a common way to run a payload past application controls."
		case userWritable(e.CommandLine):
			f.Severity, f.Title = "medium", fmt.Sprintf("%s ran a script from a user-writable folder", base(e.Process))
			f.Rule = "The script lies in a folder any user can write to (Temp, AppData, Downloads, Public, ProgramData), where droppers put them."
		}
		if unusualParents[base(e.ParentProcess)] == "Office" || unusualParents[base(e.ParentProcess)] == "browser" {
			f.Severity = "high"
			f.Rule += " Its parent is " + base(e.ParentProcess) + "."
		}
		out = append(out, f)
	}
	loads, err := in.Events(ctx, `source='evtx' AND provider='Microsoft-Windows-Sysmon' AND event_id=7`)
	if err != nil {
		return nil, err
	}
	for i := range loads {
		e := &loads[i]
		dll := base(e.Field("ImageLoaded"))
		if !w.engine(dll) || engineHosts[base(e.Process)] {
			continue
		}
		f := Finding{Host: e.Host, TS: e.TS, Technique: w.lang.technique, EventIDs: []int64{e.ID}, Confidence: "medium",
			Severity: "medium", Matched: e.Field("ImageLoaded"),
			Title: fmt.Sprintf("%s loaded the %s engine (%s)", base(e.Process), w.lang.technique.Name[strings.LastIndex(w.lang.technique.Name, " ")+1:], dll),
			Rule:  "A process that is not a script host loaded a script engine DLL (Sysmon 7): script code running inside another program."}
		f.link(e)
		out = append(out, f)
	}
	return out, nil
}

func (w *windowsScriptHost) engine(dll string) bool {
	for _, e := range w.lang.engines {
		if dll == e {
			return true
		}
	}
	return false
}
