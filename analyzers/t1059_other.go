package analyzers

import (
	"context"
	"fmt"
	"iter"
	"strings"

	"triage/timeline"
)

// otherInterpreter finds one family of interpreters that are not Windows'
// own shells (Python, Unix shells, Node, AutoIt and AutoHotkey, Lua, and
// java, perl, ruby and wmic under T1059) in process starts and prefetch:
// inline code that does something telling, scripts run from where
// droppers put them, suspicious parents, and runs of the interpreter
// itself where the family is rare on Windows hosts.
type otherInterpreter struct {
	id        string
	technique Technique
	name      string
	images    map[string]bool
	// inline is the switch that runs code given on the command line.
	inline *lazyRegexp
	// scripts are the extensions of the family's script files.
	scripts []string
	// rare families get a low finding for any run: they have no place on
	// most Windows hosts, and attackers bring them (AutoIt, Lua).
	rare bool
}

var _ Analyzer = (*otherInterpreter)(nil)

func imagesOf(technique string, extra ...string) map[string]bool {
	m := map[string]bool{}
	for _, i := range timeline.Interpreters {
		if i.Technique == technique {
			m[i.Image] = true
		}
	}
	for _, x := range extra {
		m[x] = true
	}
	return m
}

var (
	unixShells = &otherInterpreter{id: "t1059.004-unix-shell", technique: timeline.MustTechnique("T1059.004"), name: "Unix shell (WSL, bash)",
		images: imagesOf("T1059.004"), inline: lazy(`(?i)(?:^|\s)(?:-c|-e|--exec|--)\s+\S`), scripts: []string{".sh"}}
	python = &otherInterpreter{id: "t1059.006-python", technique: timeline.MustTechnique("T1059.006"), name: "Python",
		images: imagesOf("T1059.006"), inline: lazy(`(?:^|\s)-c\s+\S`), scripts: []string{".py", ".pyw", ".pyc"}}
	node = &otherInterpreter{id: "t1059.007-node", technique: timeline.MustTechnique("T1059.007"), name: "Node.js",
		images: map[string]bool{"node.exe": true}, inline: lazy(`(?:^|\s)(?:-e|-p|--eval|--print)\s+\S`), scripts: []string{".js", ".mjs", ".cjs"}}
	autoIt = &otherInterpreter{id: "t1059.010-autoit", technique: timeline.MustTechnique("T1059.010"), name: "AutoIt or AutoHotkey",
		images: imagesOf("T1059.010"), inline: lazy(`(?i)(?:^|\s)/(?:AutoIt3ExecuteLine|ExecuteLine)\s`), scripts: []string{".au3", ".a3x", ".ahk"}, rare: true}
	lua = &otherInterpreter{id: "t1059.011-lua", technique: timeline.MustTechnique("T1059.011"), name: "Lua",
		images: imagesOf("T1059.011"), inline: lazy(`(?:^|\s)-e\s+\S`), scripts: []string{".lua", ".luac"}, rare: true}
	otherLanguages = &otherInterpreter{id: "t1059-other-interpreters", technique: tInterpreter, name: "Java, Perl, Ruby or WMIC",
		images: map[string]bool{"java.exe": true, "javaw.exe": true, "perl.exe": true, "ruby.exe": true, "rubyw.exe": true, "wmic.exe": true},
		inline: lazy(`(?:^|\s)-e\s+\S`), scripts: []string{".jar", ".pl", ".rb"}}
)

func (o *otherInterpreter) Meta() Meta {
	return Meta{
		ID: o.id, Technique: o.technique, Severity: timeline.SeverityHigh,
		Description: o.name + " runs from process starts and prefetch: inline code with telling content (reverse shells, " +
			"downloads, decoded base64), scripts run from Temp, Downloads or Public, suspicious parents" +
			map[bool]string{true: ", and any run, the family being rare on Windows hosts.", false: "."}[o.rare],
		References: []string{"https://attack.mitre.org/techniques/" + strings.ReplaceAll(o.technique.ID, ".", "/") + "/"},
	}
}

var (
	// wmicCreate is WMIC starting a process, locally or on /node:.
	wmicCreate = lazy(`(?i)process\s+call\s+create\s+(.+)`)
	wmicNode   = lazy(`(?i)/node:\s*"?([^\s"]+)`)
	// wslInstall is WSL being enabled, the first step to running Linux
	// tools that Windows logging does not see.
	wslInstall    = lazy(`(?i)dism(\.exe)?"?\s+.{0,40}/enable-feature\s+.{0,40}(microsoft-windows-subsystem-linux|virtualmachineplatform)|enable-windowsoptionalfeature\s+.{0,80}microsoft-windows-subsystem-linux|wsl(\.exe)?"?\s+--(install|set-default-version)\b`)
	wslInstallers = map[string]bool{"dism.exe": true, "wsl.exe": true, "powershell.exe": true, "pwsh.exe": true}
	// b64Exec is inline code decoding base64 to run it.
	b64Exec = lazy(`(?i)(?:b64decode|base64\.decode|buffer\.from|decode64|frombase64string)\(\s*['"]([A-Za-z0-9+/=]{16,})['"]`)
)

func (o *otherInterpreter) Analyze(ctx context.Context, in *Input) ([]Finding, error) {
	var out []Finding
	for e := range in.startsOf(func(image string) bool { return o.images[image] }) {
		out = append(out, o.startFindings(e)...)
	}
	if o == unixShells {
		for e := range in.startsOf(func(image string) bool { return wslInstallers[image] }) {
			if m := wslInstall.FindString(e.CommandLine); m != "" {
				out = append(out, cited(e, Finding{Technique: o.technique, Severity: timeline.SeverityMedium, Confidence: "high",
					Matched: e.CommandLine, Related: []string{"T1202"}, Title: "Windows Subsystem for Linux enabled",
					Rule: fmt.Sprintf("%q turns on WSL: Linux programs then run on the host, out of sight of Windows process logging.", clip(m, 120))}))
			}
		}
	}
	return append(out, o.prefetchRuns(in.prefetchOf(func(image string) bool { return o.images[image] }, ""))...), nil
}

// startFindings judges one start of the interpreter.
func (o *otherInterpreter) startFindings(e *Event) []Finding {
	exe := e.image()
	line := e.CommandLine
	var out []Finding
	if f, ok := parentFinding(e, o.technique, exe); ok {
		out = append(out, f)
	}
	if exe == "wmic.exe" {
		return append(out, wmicFindings(e)...)
	}
	ms := matchContent(line)
	decoded := ""
	if m := b64Exec.FindStringSubmatch(line); m != nil {
		if d, ok := decodePayload(m[1]); ok {
			decoded = d
			ms = append(ms, matchContent(d)...)
		}
	}
	inline := o.inline.MatchString(line)
	script := o.scriptArgument(line)
	switch {
	case len(ms) > 0 || decoded != "":
		f := cited(e, Finding{Technique: o.technique, Severity: timeline.SeverityMedium, Confidence: "high", Matched: line, Decoded: decoded,
			Related: related(ms)})
		for _, m := range ms {
			f.Severity = max(f.Severity, m.rule.severity)
		}
		f.Title = exe + " " + ruleNames(ms)
		if len(ms) == 0 {
			f.Title = exe + " runs base64-encoded code"
			f.Related = []string{tObfuscated.ID}
		}
		f.Rule = fmt.Sprintf("The %s command line contains %s.", o.name, describeMatches(ms))
		if decoded != "" {
			f.Rule += " It decodes base64 to run it; decoded, it is shown below."
		}
		out = append(out, f)
	case script != "" && droppedPlace(script):
		f := cited(e, Finding{Technique: o.technique, Severity: timeline.SeverityMedium, Confidence: "medium", Matched: line,
			Title: fmt.Sprintf("%s ran %s from a download or temporary folder", exe, base(script)),
			Rule:  "The script lies in Temp, Downloads, Public or the recycle bin, where droppers put what they bring."})
		f.keys["file:"+base(script)] = true
		out = append(out, f)
	case o.rare:
		out = append(out, cited(e, Finding{Technique: o.technique, Severity: timeline.SeverityLow, Confidence: "medium", Matched: line,
			Title: fmt.Sprintf("%s ran (%s)", exe, o.name),
			Rule:  o.name + " has no place on most Windows hosts; malware families ship it to run their scripts."}))
	case inline:
		out = append(out, cited(e, Finding{Technique: o.technique, Severity: timeline.SeverityLow, Confidence: "low", Matched: line,
			Title: exe + " ran code given on its command line",
			Rule:  "The interpreter was given code to run inline rather than a script file; developers do this, and so do one-line shells."}))
	}
	return out
}

// wmicFindings judges a WMIC start: process creation, locally or on
// another host, is how WMI runs commands (T1047).
func wmicFindings(e *Event) []Finding {
	m := wmicCreate.FindStringSubmatch(e.CommandLine)
	if m == nil {
		return nil
	}
	created := strings.Trim(strings.TrimSpace(m[1]), `"'`)
	f := cited(e, Finding{Technique: tInterpreter, Severity: timeline.SeverityMedium, Confidence: "high", Matched: e.CommandLine,
		Related: related(matchContent(created), tWMI.ID), Title: "wmic process call create: " + clip(created, 80),
		Rule: "WMIC asked WMI to start a process, which runs it as a child of the WMI provider host rather than of the caller."})
	if _, ok := timeline.InterpreterOf(exeOfCommand(created)); ok || strings.Contains(strings.ToLower(created), "powershell") {
		f.Severity = timeline.SeverityHigh
		f.Rule += " What it starts is an interpreter."
	}
	if decoded, ok := carriedPowerShell(created); ok {
		f.Severity, f.Decoded = timeline.SeverityHigh, decoded
		f.Related = related(matchContent(decoded), append(f.Related, tObfuscated.ID)...)
		f.Rule += " It carries an encoded PowerShell payload, decoded below."
	}
	if n := wmicNode.FindStringSubmatch(e.CommandLine); n != nil && !strings.EqualFold(n[1], "localhost") && n[1] != "127.0.0.1" && n[1] != "." {
		f.Severity = timeline.SeverityHigh
		f.Rule += fmt.Sprintf(" It runs on %s, another host: remote execution.", n[1])
		f.Features = map[string]any{"node": n[1]}
	}
	return []Finding{f}
}

// exeOfCommand is the program a command line starts.
func exeOfCommand(cmdline string) string {
	cmdline = strings.TrimSpace(cmdline)
	if strings.HasPrefix(cmdline, `"`) {
		if end := strings.IndexByte(cmdline[1:], '"'); end >= 0 {
			return cmdline[1 : end+1]
		}
	}
	if i := strings.IndexAny(cmdline, " \t"); i >= 0 {
		return cmdline[:i]
	}
	return cmdline
}

// scriptArgument is the first argument of a command line that names one
// of the family's script files.
func (o *otherInterpreter) scriptArgument(line string) string {
	for _, arg := range strings.Fields(line) {
		arg = strings.Trim(arg, `"'`)
		lower := strings.ToLower(arg)
		for _, ext := range o.scripts {
			if strings.HasSuffix(lower, ext) {
				return arg
			}
		}
	}
	return ""
}

// droppedPlace reports whether a path lies where downloads and droppers
// put files: Temp, Downloads, Public, the recycle bin. AppData as a whole
// is left out, since per-user installs of these interpreters live there.
func droppedPlace(p string) bool {
	p = strings.ToLower(strings.ReplaceAll(p, "/", `\`))
	return containsAny(p, []string{`\temp\`, `\tmp\`, `\downloads\`, `\users\public\`, `$recycle.bin`})
}

// prefetchRuns reports the interpreter's prefetch files: one finding per
// file, medium when its file list names a script from a dropped place,
// low for a rare family, informational otherwise (context for the
// timeline: when the interpreter was used).
func (o *otherInterpreter) prefetchRuns(runs iter.Seq[*Event]) []Finding {
	var out []Finding
	byArtifact := map[int64]int{}
	for e := range runs {
		exe := e.image()
		if !o.images[exe] {
			continue
		}
		if j, ok := byArtifact[e.ArtifactID]; ok {
			out[j].cite(e)
			continue
		}
		f := cited(e, Finding{Technique: o.technique, Severity: timeline.SeverityInformational, Confidence: "medium",
			Title: fmt.Sprintf("%s ran (prefetch)", exe),
			Rule:  fmt.Sprintf("The prefetch file of %s records its runs; the file list covers all of them.", exe)})
		if o.rare {
			f.Severity = timeline.SeverityLow
			f.Rule += " " + o.name + " has no place on most Windows hosts."
		}
		var dropped []string
		for _, name := range e.Strings("files") {
			if o.scriptArgument(name) != "" && droppedPlace(name) {
				dropped = append(dropped, name)
				f.keys["file:"+base(name)] = true
			}
		}
		if len(dropped) > 0 {
			f.Severity = timeline.SeverityMedium
			f.Title = fmt.Sprintf("%s ran a script from a download or temporary folder (prefetch): %s", exe, base(dropped[0]))
			f.Matched = strings.Join(dropped, "\n")
		}
		byArtifact[e.ArtifactID] = len(out)
		out = append(out, f)
	}
	return out
}
