package analyzers

import (
	"fmt"
	"strings"

	"triage/timeline"
)

// parentKind says why a parent that started an interpreter is suspicious,
// how much, and which techniques it points to.
type parentKind struct {
	kind     string
	severity timeline.Severity
	related  []string
}

// neverShellParents never start a shell or a script host in normal use, so
// a child interpreter of one is reported at once, with no baseline of the
// host's starts: it means code running inside the parent (an exploit, an
// injected DLL), a replaced accessibility program or a UAC bypass.
var neverShellParents = func() map[string]parentKind {
	m := map[string]parentKind{}
	add := func(kind string, sev timeline.Severity, related []string, images ...string) {
		for _, image := range images {
			m[image] = parentKind{kind, sev, related}
		}
	}
	add("system process: code running inside it", timeline.SeverityHigh, nil,
		"lsass.exe", "smss.exe", "csrss.exe", "wininit.exe", "lsm.exe", "dwm.exe", "fontdrvhost.exe", "audiodg.exe", "conhost.exe")
	add("print spooler: an exploited spooler or a malicious print driver", timeline.SeverityHigh, []string{"T1190"}, "spoolsv.exe")
	add("logon process: an accessibility program replaced by a shell (sticky keys)", timeline.SeverityHigh, []string{"T1546.008"}, "winlogon.exe")
	add("accessibility program: replaced by or hijacked to start a shell", timeline.SeverityHigh, []string{"T1546.008"},
		"sethc.exe", "utilman.exe", "osk.exe", "magnify.exe", "narrator.exe", "displayswitch.exe", "atbroker.exe")
	add("auto-elevating program: a UAC bypass", timeline.SeverityHigh, []string{"T1548.002"},
		"fodhelper.exe", "sdclt.exe", "eventvwr.exe", "wsreset.exe", "computerdefaults.exe", "changepk.exe", "slui.exe", "sysprep.exe", "cmstp.exe")
	add("compiled HTML help: a .chm file running script", timeline.SeverityHigh, []string{"T1218.001"}, "hh.exe")
	add("desktop program that never starts a shell: code injected into it", timeline.SeverityHigh, nil,
		"notepad.exe", "calc.exe", "mspaint.exe", "wordpad.exe", "write.exe", "searchprotocolhost.exe", "searchindexer.exe",
		"regsvr32.exe", "certutil.exe")
	add("remote shell host (WinRM): a command sent from another host", timeline.SeverityMedium, []string{"T1021.006"},
		"wsmprovhost.exe", "winrshost.exe")
	return m
}()

// suspiciousParent says whether the parent of process start e is one that
// starts interpreters only when something is wrong, and why.
func suspiciousParent(e *Event) (parentKind, bool) {
	parent := base(e.ParentProcess)
	if kind, ok := unusualParents[parent]; ok {
		return parentKind{kind, timeline.SeverityHigh, nil}, true
	}
	if k, ok := neverShellParents[parent]; ok {
		return k, true
	}
	if parent == "svchost.exe" && strings.Contains(e.ParentProcess, `\`) && !systemFolder(e.ParentProcess) {
		return parentKind{"svchost.exe outside System32: a program masquerading as the service host", timeline.SeverityHigh, []string{"T1036.005"}}, true
	}
	return parentKind{}, false
}

// systemFolder reports whether a path lies in System32 or SysWOW64.
func systemFolder(p string) bool {
	p = strings.ToLower(p)
	return strings.Contains(p, `\windows\system32\`) || strings.Contains(p, `\windows\syswow64\`)
}

// parentFinding is the finding that an interpreter was started by a
// suspicious parent, or false.
// child names the interpreter in the title.
func parentFinding(e *Event, t Technique, child string) (Finding, bool) {
	k, ok := suspiciousParent(e)
	if !ok {
		return Finding{}, false
	}
	parent := base(e.ParentProcess)
	f := cited(e, Finding{Technique: t, Severity: k.severity, Confidence: "high", Matched: e.CommandLine,
		Title: fmt.Sprintf("%s started by %s (%s)", child, parent, shortKind(k.kind)),
		Rule: fmt.Sprintf("%s started %s. A %s; it has no need to start an interpreter, so no baseline of the host is needed.",
			parent, child, k.kind),
		Features: map[string]any{"parent": e.ParentProcess, "parent_kind": k.kind},
		Related:  related(matchContent(e.CommandLine), k.related...)})
	return f, true
}

// shortKind is the part of a parent kind before its explanation.
func shortKind(kind string) string {
	if i := strings.Index(kind, ":"); i >= 0 {
		return kind[:i]
	}
	return kind
}
