package analyzers

import (
	"context"
	"fmt"
	"strings"

	"triage/timeline"
)

// scriptLanguage is what tells VBScript from JScript activity.
type scriptLanguage struct {
	technique  Technique
	name       string
	id         string
	extensions []string // script file extensions
	engines    []string // engine DLLs
	mshtaWord  string   // what an mshta command line says for this language
	// engineSwitch is the //E: switch that makes a script host run any
	// file as this language, whatever its extension.
	engineSwitch *lazyRegexp
	// scriptlets says whether this language's analyzer reports scriptlet
	// (.sct) loading, which either language can fill; one of them does.
	scriptlets bool
}

// windowsScriptHost finds wscript, cscript and mshta running scripts of one
// language, scripts run from user-writable paths, and the language's
// engine loaded by unusual processes.
type windowsScriptHost struct{ lang scriptLanguage }

var _ Analyzer = (*windowsScriptHost)(nil)

func (w *windowsScriptHost) Meta() Meta {
	return Meta{
		ID: w.lang.id, Technique: w.lang.technique, Severity: timeline.SeverityHigh,
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
	if w.lang.scriptlets && strings.Contains(cmd, "mshta") && !strings.Contains(cmd, "vbscript:") &&
		(strings.Contains(cmd, "http") || mshtaEmbedding.MatchString(cmd)) {
		return true // an HTA by URL or COM: JScript unless it says otherwise
	}
	return w.lang.mshtaWord != "" && strings.Contains(cmd, w.lang.mshtaWord) || w.lang.engineSwitch.MatchString(cmd)
}

var (
	// scriptInStream is a script in an alternate data stream of another
	// file (file.txt:x.vbs), where it leaves no file of its own.
	scriptInStream = lazy(`(?i)[^\\/:\s"]+\.\w{1,5}:[^\\/:\s"]+\.(?:vbs|vbe|js|jse|wsf)\b`)
	mshtaEmbedding = lazy(`(?i)(?:^|\s)[-/]embedding\b`)
	scriptletLoad  = lazy(`(?i)/i:\s*"?\S*(?:\.sct|scrobj)|scrobj\.dll|getobject\(\s*["']script:`)
)

func (w *windowsScriptHost) Analyze(ctx context.Context, in *Input) ([]Finding, error) {
	var out []Finding
	for e := range in.startsOf(func(image string) bool { return scriptHosts[image] }) {
		if !w.mine(e.CommandLine) {
			continue
		}
		f := cited(e, Finding{Technique: w.lang.technique, Confidence: "high",
			Severity: timeline.SeverityLow, Matched: e.CommandLine, Related: related(matchContent(e.CommandLine))})
		f.Title = fmt.Sprintf("%s ran a script", e.image())
		f.Rule = "A Windows Script Host or mshta process ran script code."
		lower := strings.ToLower(e.CommandLine)
		switch {
		case scriptInStream.MatchString(e.CommandLine):
			f.Severity, f.Title = timeline.SeverityHigh, fmt.Sprintf("%s ran a script hidden in an alternate data stream", e.image())
			f.Rule = "The script is a named stream of another file (file.txt:x.vbs): it has no directory entry of its own, which hides it from listings and many scanners."
			f.Related = related(nil, append(f.Related, "T1564.004")...)
		case w.lang.engineSwitch.MatchString(e.CommandLine) && strings.Contains(lower, ".encode"):
			f.Severity, f.Title = timeline.SeverityHigh, fmt.Sprintf("%s ran an encoded %s script (//E:%s.Encode)", e.image(), w.lang.name, w.lang.name)
			f.Rule = "The script host was told to decode and run a script encoded with the Script Encoder, which hides its text from review."
			f.Related = related(nil, append(f.Related, tObfuscated.ID)...)
		case w.lang.engineSwitch.MatchString(e.CommandLine):
			f.Severity, f.Title = timeline.SeverityMedium, fmt.Sprintf("%s forced to run a file as %s (//E:)", e.image(), w.lang.name)
			f.Rule = "The //E: switch makes the script host run a file of any extension as script, so that a payload can pass as a text or log file."
		case e.image() == "mshta.exe" && mshtaEmbedding.MatchString(e.CommandLine):
			f.Severity, f.Title = timeline.SeverityMedium, "mshta.exe started through COM (-Embedding)"
			f.Rule = "mshta -Embedding is an HTA started by COM activation, as documents and DCOM lateral movement do."
		case e.image() == "mshta.exe" && (strings.Contains(lower, "http") || strings.Contains(lower, w.lang.mshtaWord)):
			f.Severity, f.Title = timeline.SeverityHigh, "mshta.exe ran inline or remote script"
			f.Rule = "mshta was given script code or a URL on its command line, a common way to run a payload past application controls."
		case userWritable(e.CommandLine):
			f.Severity, f.Title = timeline.SeverityMedium, fmt.Sprintf("%s ran a script from a user-writable folder", e.image())
			f.Rule = "The script lies in a folder any user can write to (Temp, AppData, Downloads, Public, ProgramData), where droppers put them."
		}
		if k, ok := suspiciousParent(e); ok {
			f.Severity = max(f.Severity, k.severity)
			f.Rule += fmt.Sprintf(" Its parent is %s, a %s.", base(e.ParentProcess), k.kind)
			f.Related = related(nil, append(f.Related, k.related...)...)
		}
		out = append(out, f)
	}
	out = append(out, w.proxiedScripts(in)...)
	out = append(out, w.prefetchRuns(in, out)...)
	for e := range in.eventsOf(timeline.SourceEVTX, []int{7}, `+provider='`+timeline.ProviderSysmon+`'
		AND (+data LIKE '%script%.dll%' OR +data LIKE '%chakra.dll%')`) {
		dll := base(e.Field("ImageLoaded"))
		if !w.engine(dll) || engineHosts[e.image()] {
			continue
		}
		f := cited(e, Finding{Technique: w.lang.technique, Confidence: "medium",
			Severity: timeline.SeverityMedium, Matched: e.Field("ImageLoaded"),
			Title: fmt.Sprintf("%s loaded the %s engine (%s)", e.image(), w.lang.technique.Name[strings.LastIndex(w.lang.technique.Name, " ")+1:], dll),
			Rule:  "A process that is not a script host loaded a script engine DLL (Sysmon 7): script code running inside another program."})
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

// prefetchRuns finds script host runs of this language in prefetch. The
// file list a prefetch file keeps for its program names the script engine
// and often the script itself. A run of a start that a process event of
// this analyzer already reported is left to Run, which adds it to that
// finding; the other runs of one prefetch file make one finding, since they
// share one file list.
func (w *windowsScriptHost) prefetchRuns(in *Input, reported []Finding) []Finding {
	var out []Finding
	byArtifact := map[int64]int{} // artifact id → index in out
	for e := range in.prefetchOf(func(image string) bool { return scriptHosts[image] }, "") {
		exe := e.image()
		if !scriptHosts[exe] {
			continue
		}
		engine, scripts := w.fromFileList(e.Strings("files"))
		if engine == "" && len(scripts) == 0 {
			continue
		}
		if sameStartFinding(reported, e) != nil {
			continue // Run attaches the run to that finding
		}
		if j, ok := byArtifact[e.ArtifactID]; ok {
			f := &out[j]
			f.cite(e)
			f.Features["runs"] = toInt(f.Features["runs"]) + 1
			if e.TS.Before(f.TS) {
				f.TS = e.TS
			}
			continue
		}
		f := cited(e, Finding{Technique: w.lang.technique, Confidence: "medium",
			Severity: timeline.SeverityLow, Features: map[string]any{"runs": 1, "engine": engine, "scripts": scripts}})
		f.Title = fmt.Sprintf("%s ran %s (prefetch)", exe, w.lang.name)
		f.Rule = fmt.Sprintf("The prefetch file of %s lists the %s engine or a %s script among the files the program used. "+
			"The list covers all of its recorded runs, not one in particular.", exe, w.lang.name, w.lang.name)
		f.Matched = strings.TrimPrefix(strings.Join(append([]string{engine}, scripts...), "\n"), "\n")
		var writable []string
		for _, s := range scripts {
			f.keys["file:"+base(s)] = true
			if userWritable(s) {
				writable = append(writable, base(s))
			}
		}
		if len(writable) > 0 {
			f.Severity = timeline.SeverityMedium
			f.Title = fmt.Sprintf("%s ran a script from a user-writable folder (prefetch): %s", exe, strings.Join(writable, ", "))
			f.Rule += " A script it used lies in a folder any user can write to (Temp, AppData, Downloads, Public, ProgramData), where droppers put them."
		}
		byArtifact[e.ArtifactID] = len(out)
		out = append(out, f)
	}
	return out
}

// fromFileList picks this language's engine DLL and scripts out of a
// prefetch file list.
func (w *windowsScriptHost) fromFileList(files []string) (engine string, scripts []string) {
	for _, name := range files {
		lower := strings.ToLower(name)
		if engine == "" && w.engine(base(lower)) {
			engine = name
		}
		for _, ext := range w.lang.extensions {
			if strings.HasSuffix(lower, ext) {
				scripts = append(scripts, name)
				break
			}
		}
	}
	return engine, scripts
}

// proxiedScripts finds script run by system programs that are not script
// hosts: rundll32 given javascript: or vbscript: code (its "mshtml,
// RunHTMLApplication" trick), and regsvr32 or a GetObject loading a
// scriptlet (.sct through scrobj.dll, "Squiblydoo").
func (w *windowsScriptHost) proxiedScripts(in *Input) []Finding {
	var out []Finding
	for e := range in.startsOf(func(image string) bool {
		return image == "rundll32.exe" || image == "regsvr32.exe" || scriptHosts[image]
	}) {
		exe, lower := e.image(), strings.ToLower(e.CommandLine)
		switch {
		case exe == "rundll32.exe" && strings.Contains(lower, w.lang.mshtaWord):
			out = append(out, cited(e, Finding{Technique: w.lang.technique, Severity: timeline.SeverityHigh, Confidence: "high",
				Matched: e.CommandLine, Related: related(matchContent(e.CommandLine), "T1218.011"),
				Title: "rundll32.exe ran " + w.lang.name + " given on its command line",
				Rule:  "rundll32 was given " + w.lang.mshtaWord + " code, which it runs through mshtml: script run by a signed system binary to get past application controls."}))
		case w.lang.scriptlets && (exe == "regsvr32.exe" || scriptHosts[exe] || exe == "rundll32.exe") && scriptletLoad.MatchString(e.CommandLine):
			out = append(out, cited(e, Finding{Technique: w.lang.technique, Severity: timeline.SeverityHigh, Confidence: "high",
				Matched: e.CommandLine, Related: related(matchContent(e.CommandLine), "T1218.010"),
				Title: exe + " loaded a scriptlet (.sct)",
				Rule:  "A COM scriptlet was loaded through scrobj.dll (regsvr32 /i:…sct, or GetObject(\"script:…\")): script run by a signed system binary, often from a URL."}))
		}
	}
	return out
}
