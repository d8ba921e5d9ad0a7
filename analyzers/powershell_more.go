package analyzers

import (
	"context"
	"fmt"
	"strings"

	"triage/timeline"
)

// The PowerShell detections beside the analyzer's command-line and script
// judgements: pipeline records rebuilt as commands, launch traits, policy
// changes in the registry, WinRM shells, compiled C# and packed payloads.

var (
	pipelineInvocation = lazy(`^CommandInvocation\(([^)]*)\):`)
	pipelineBinding    = lazy(`^ParameterBinding\(([^)]*)\): name="([^"]*)"; value="(.*)"\s*$`)

	// knownInstaller is the published installer of a package manager or
	// runtime, which administrators download and run with IEX.
	knownInstaller = lazy(`(?i)https://(?:community\.chocolatey\.org|chocolatey\.org)/install\.ps1|https://get\.scoop\.sh\b|https://dot\.net/v1/dotnet-install\.ps1|https://aka\.ms/install-powershell\.ps1`)
	// versionTwo is -Version 2 on a PowerShell command line: the 2.0
	// engine, which has no script block logging and no AMSI.
	versionTwo = lazy(`(?i)(?:^|\s)` + psDash + `v(?:e(?:r(?:s(?:i(?:o(?:n)?)?)?)?)?)?\s+2(?:\.0)?(?:\s|$)`)
	// serverMode is PowerShell started as a remoting server over SSH or
	// PowerShell Direct (-s, the server mode switch, with -NoLogo -NoProfile).
	serverMode = lazy(`(?i)(?:^|\s)-s\s+-nologo\s+-noprofile\b`)
	// cmdlineFile is the response file csc.exe is given when PowerShell's
	// Add-Type (or a tool doing as it does) compiles C# in the temp folder.
	cmdlineFile   = lazy(`(?i)@"?([^"]*\\temp\\[^"\\]+\.cmdline)"?`)
	packedLiteral = lazy(`(?i)frombase64string\(\s*['"]([A-Za-z0-9+/=\s]{40,})['"]`)
)

// pipelineAsCommands rebuilds the commands of a 4103 payload as command
// lines ("Set-MpPreference -ExclusionPath C:\x"): the payload lists each
// command's invocation and its parameter bindings, one per line, and the
// content rules read command lines.
func pipelineAsCommands(payload string) string {
	var b strings.Builder
	current := ""
	for _, line := range strings.Split(payload, "\n") {
		line = strings.TrimSpace(line)
		if m := pipelineInvocation.FindStringSubmatch(line); m != nil {
			if b.Len() > 0 {
				b.WriteString("\n")
			}
			current = m[1]
			b.WriteString(current)
			continue
		}
		if m := pipelineBinding.FindStringSubmatch(line); m != nil && m[1] == current {
			if m[2] != "" {
				b.WriteString(" -" + m[2])
			}
			b.WriteString(" " + m[3])
		}
	}
	if b.Len() == 0 {
		return ""
	}
	return payload + "\n" + b.String()
}

// powerShellLaunchTraits judges how PowerShell was started: the 2.0 engine
// asked for on the command line, and server mode.
func powerShellLaunchTraits(e *Event, cmd string, newFinding func() Finding) []Finding {
	if e.Category != timeline.CategoryProcessStart {
		return nil
	}
	var out []Finding
	if versionTwo.MatchString(cmd) {
		f := newFinding()
		f.Severity, f.Title, f.Matched = timeline.SeverityHigh, "PowerShell started with -Version 2", cmd
		f.Related = []string{tDowngrade.ID}
		f.Rule = "-Version 2 starts the 2.0 engine, which predates script block logging and AMSI: a downgrade to run unseen."
		out = append(out, f)
	}
	if len(cmd) > longLine {
		f := newFinding()
		f.Severity, f.Confidence, f.Title, f.Matched = timeline.SeverityLow, "low", fmt.Sprintf("Long PowerShell command line (%d characters)", len(cmd)), cmd
		f.Rule = fmt.Sprintf("DeepBlueCLI's check: a command line over %d characters carries a script or payload rather than a command.", longLine)
		out = append(out, f)
	}
	if serverMode.MatchString(cmd) {
		f := newFinding()
		f.Severity, f.Confidence, f.Title, f.Matched = timeline.SeverityMedium, "medium", "PowerShell started in server mode (remoting)", cmd
		f.Related = []string{"T1021.006"}
		f.Rule = "-s -NoLogo -NoProfile is how the SSH subsystem and PowerShell Direct start PowerShell to serve a remote session."
		out = append(out, f)
	}
	return out
}

// policyChanges finds PowerShell's execution policy or language mode
// changed in the registry (Sysmon 12, 13): a policy set to Bypass or
// Unrestricted lets any script run; __PSLockdownPolicy sets the language
// mode, and attackers clear it to leave Constrained Language.
func policyChanges(ctx context.Context, in *Input) ([]Finding, error) {
	var out []Finding
	for e := range in.eventsOf(timeline.SourceEVTX, []int{12, 13}, `+provider='`+timeline.ProviderSysmon+`'
		AND (+data LIKE '%executionpolicy%' OR +data LIKE '%pslockdownpolicy%')`) {
		key, value := e.Field("TargetObject"), e.Field("Details")
		lowerKey, lowerValue := strings.ToLower(key), strings.ToLower(value)
		f := cited(e, Finding{Technique: tPowerShell, Confidence: "high", Matched: key + " = " + value, Related: []string{tRegistry.ID}})
		switch {
		case strings.HasSuffix(lowerKey, `\executionpolicy`) && (strings.Contains(lowerValue, "bypass") || strings.Contains(lowerValue, "unrestricted")):
			f.Severity, f.Title = timeline.SeverityMedium, "PowerShell execution policy set to "+value+" in the registry"
			f.Rule = fmt.Sprintf("%s wrote the execution policy (Sysmon %d): scripts run from then on without the policy's checks.", e.image(), e.EventID)
		case strings.HasSuffix(lowerKey, `\__pslockdownpolicy`):
			f.Severity, f.Title = timeline.SeverityMedium, "PowerShell language mode changed in the registry (__PSLockdownPolicy)"
			f.Rule = fmt.Sprintf("%s changed __PSLockdownPolicy (Sysmon %d), the variable that puts PowerShell in Constrained Language mode; removing it or setting 0 gives back Full Language.", e.image(), e.EventID)
			f.Related = append(f.Related, tDisableSec.ID)
		default:
			continue
		}
		out = append(out, f)
	}
	return out, nil
}

// winRMShells finds WinRM creating a remote shell or authenticating its
// user (Microsoft-Windows-WinRM/Operational 91, 169): commands run on
// this host from another one.
func winRMShells(ctx context.Context, in *Input) ([]Finding, error) {
	var out []Finding
	for e := range in.eventsOf(timeline.SourceEVTX, []int{91, 169}, `+provider='`+timeline.ProviderWinRM+`'`) {
		what := fmt.Sprintf("resource %s", e.Field("resourceUri"))
		if e.EventID == 169 {
			what = fmt.Sprintf("user %s authenticated by %s", e.Field("username"), e.Field("authenticationMechanism"))
		}
		out = append(out, cited(e, Finding{Technique: tPowerShell, Severity: timeline.SeverityLow, Confidence: "medium",
			Related: []string{"T1021.006"}, Title: "WinRM remote session: " + what, Matched: clip(e.data, 400),
			Rule: fmt.Sprintf("WinRM event %d: a remote shell or PowerShell session was opened on this host from another one; administrators do this, and so do intruders moving laterally.", e.EventID)}))
	}
	return out, nil
}

// compiledCode finds csc.exe compiling a .cmdline response file in a temp
// folder: PowerShell's Add-Type does this, and so do tools that compile
// their payload on the host (PSAttack). Under PowerShell it is low;
// started by any other program it is medium.
func compiledCode(in *Input) []Finding {
	var out []Finding
	for e := range in.startsOf(func(image string) bool { return image == "csc.exe" }) {
		m := cmdlineFile.FindStringSubmatch(e.CommandLine)
		if m == nil {
			continue
		}
		f := cited(e, Finding{Technique: tPowerShell, Severity: timeline.SeverityLow, Confidence: "medium", Matched: e.CommandLine,
			Related: []string{"T1027.004"}, Title: "C# compiled from a temporary .cmdline file by " + base(e.ParentProcess),
			Rule: "csc.exe compiled source named by a response file in a temp folder, which is how PowerShell's Add-Type builds C# code in memory; packed tools such as PSAttack do the same."})
		switch parent := base(e.ParentProcess); {
		case isPowerShell(parent):
			f.Rule += " The compiler was started by PowerShell: common in modules, worth a look alongside the script blocks of that time."
		case parent != "msbuild.exe" && parent != "devenv.exe" && parent != "vbcscompiler.exe" && parent != "dotnet.exe":
			f.Severity = timeline.SeverityMedium
			f.Rule += " The compiler was started by " + parent + ", not by PowerShell or a build tool."
		}
		out = append(out, f)
	}
	return out
}

// unpackedPayloads decodes the FromBase64String literals of a script,
// inflating gzip and deflate streams, and returns their text and how many
// there were. Only text counts: a binary blob is a resource, not a script.
func unpackedPayloads(text string) (string, int) {
	if !strings.Contains(strings.ToLower(text), "frombase64string") {
		return "", 0
	}
	var parts []string
	for _, m := range packedLiteral.FindAllStringSubmatch(text, 8) {
		literal := strings.Join(strings.Fields(m[1]), "")
		if decoded, ok := decodePayload(literal); ok && !strings.Contains(decoded, " bytes of binary data) ") {
			parts = append(parts, decoded)
		} else if u, ok := decodeUTF16Base64(literal); ok && isText(u) {
			parts = append(parts, u)
		}
	}
	return strings.Join(parts, "\n\n"), len(parts)
}

// isText reports whether s is mostly printable: decoded UTF-16 that is not
// text is noise.
func isText(s string) bool {
	printable, n := 0, 0
	for _, r := range s {
		n++
		if r >= ' ' && r < 0x7f || r == '\n' || r == '\r' || r == '\t' {
			printable++
		}
	}
	return n > 0 && printable*10 >= n*9
}

// firstPayload is the first FromBase64String call of a script.
func firstPayload(text string) string {
	if loc := packedLiteral.FindStringIndex(text); loc != nil {
		return text[loc[0]:min(loc[1], loc[0]+40)]
	}
	return ""
}
