package analyzers

import (
	"context"
	"fmt"
	"strings"

	"triage/timeline"
)

// carriedPowerShell decodes a PowerShell payload that a command line,
// service image path, task action or WMI consumer carries: an
// -EncodedCommand argument, or a FromBase64String literal (gzip or raw
// deflate streams inflated).
func carriedPowerShell(text string) (string, bool) {
	if m := encodedFlag.FindStringSubmatch(text); m != nil {
		if decoded, ok := decodeUTF16Base64(m[1]); ok {
			if inner, ok := carriedPowerShell(decoded); ok {
				return decoded + "\n\n" + inner, true
			}
			return decoded, true
		}
	}
	if m := inlinePayload.FindStringSubmatch(text); m != nil {
		if decoded, ok := decodePayload(m[1]); ok {
			return decoded, true
		}
	}
	return "", false
}

// decodeCarrier adds to a finding about a service, task or WMI consumer
// the PowerShell payload its command carries, decoded, and what the
// decoded script does.
func decodeCarrier(f *Finding, command string) {
	decoded, ok := carriedPowerShell(command)
	if !ok {
		return
	}
	ms := matchContent(decoded)
	f.Decoded = decoded
	f.Related = related(ms, append(f.Related, tObfuscated.ID, tPowerShell.ID)...)
	f.Rule += " Its command carries a base64 PowerShell payload (-EncodedCommand or FromBase64String, gzip or deflate inflated), decoded below"
	if len(ms) > 0 {
		f.Rule += ": it contains " + describeMatches(ms)
	}
	f.Rule += "."
}

var (
	// consumerCommand is the command of a WMI CommandLineEventConsumer or
	// the script of an ActiveScriptEventConsumer, as WMI-Activity 5861
	// quotes the permanent consumer bound to a filter.
	consumerCommand = lazy(`(?is)(?:CommandLineTemplate|ScriptText)\s*=\s*"((?:[^"\\]|\\.)*)"`)
	consumerName    = lazy(`(?is)(?:CommandLineEventConsumer|ActiveScriptEventConsumer)\s*\{.*?\bName\s*=\s*"([^"]*)"`)
	scriptingEngine = lazy(`(?i)ScriptingEngine\s*=\s*"([^"]*)"`)
	xpCmdShellCall  = lazy(`(?i)xp_cmdshell[\s(]*(?:N?'([^']*)'|"([^"]*)")`)
)

// wmiConsumers finds permanent WMI event consumers (WMI-Activity 5861) that
// run a command or a script: a persistence that starts code on an event,
// as the SYSTEM account, with no file in a Run key or task.
func wmiConsumers(ctx context.Context, in *Input) ([]Finding, error) {
	var out []Finding
	for e := range in.eventsOf(timeline.SourceEVTX, []int{5861}, `+provider='`+timeline.ProviderWMI+`'`) {
		m := consumerCommand.FindStringSubmatch(e.dataText())
		if m == nil {
			continue
		}
		command := strings.NewReplacer(`\\`, `\`, `\"`, `"`, `\n`, "\n", `\t`, "\t").Replace(m[1])
		text := e.dataText()
		name, engine := consumerName.FindStringSubmatch(text), scriptingEngine.FindStringSubmatch(text)
		technique, what := tInterpreter, clip(strings.Join(strings.Fields(command), " "), 80)
		switch {
		case engine != nil && strings.EqualFold(engine[1], "VBScript"):
			technique, what = timeline.MustTechnique("T1059.005"), "VBScript"
		case engine != nil:
			technique, what = timeline.MustTechnique("T1059.007"), engine[1]
		case strings.Contains(strings.ToLower(command), "powershell"):
			technique = tPowerShell
		default:
			if in, ok := timeline.InterpreterOf(exeOfCommand(command)); ok {
				technique = timeline.MustTechnique(in.Technique)
			}
		}
		title := "WMI event consumer runs " + what
		if name != nil {
			title = fmt.Sprintf("WMI event consumer %s runs %s", name[1], what)
		}
		f := cited(e, Finding{Technique: technique, Severity: timeline.SeverityHigh, Confidence: "high", Matched: command,
			Related: related(matchContent(command), "T1546.003"), Title: title,
			Rule: "A permanent WMI event consumer (WMI-Activity 5861) runs this command or script whenever its filter fires: persistence as SYSTEM with no Run key, task or service."})
		decodeCarrier(&f, command)
		out = append(out, f)
	}
	return out, nil
}

// xpCmdShell finds SQL Server's xp_cmdshell being turned on (15457), asked
// for while off (15281) or called (33205 audit records), in the
// Application log: the database server running operating system commands
// through cmd.exe.
func xpCmdShell(ctx context.Context, in *Input) ([]Finding, error) {
	var out []Finding
	for e := range in.eventsOf(timeline.SourceEVTX, []int{15457, 15281, 33205}, `+data LIKE '%xp_cmdshell%'`) {
		if e.Category != timeline.CategorySQLServer {
			continue
		}
		f := cited(e, Finding{Technique: tCmd, Confidence: "high", Related: []string{"T1505.001"}})
		switch e.EventID {
		case 15457:
			if e.Field("Data[2]") == "0" {
				continue // turned off again
			}
			f.Severity, f.Title = timeline.SeverityHigh, "SQL Server xp_cmdshell enabled"
			f.Rule = "The configuration option xp_cmdshell was changed (15457) so that SQL statements can run operating system commands through cmd.exe; attackers with database access turn it on first."
			f.Matched = fmt.Sprintf("%s changed from %s to %s", e.Field("Data[0]"), e.Field("Data[1]"), e.Field("Data[2]"))
		case 15281:
			f.Severity, f.Title = timeline.SeverityMedium, "SQL Server blocked a call to xp_cmdshell"
			f.Rule = "A statement asked for xp_cmdshell while it was off (15281): someone tried to run operating system commands from SQL."
			f.Matched = e.Field("Data[0]")
		default:
			statement := e.Field("Data[0]")
			if statement == "" {
				statement = clip(e.data, 400)
			}
			f.Severity, f.Title = timeline.SeverityHigh, "SQL Server ran xp_cmdshell"
			f.Rule = "An audit record (33205) shows a statement calling xp_cmdshell, which runs its argument with cmd.exe as the SQL Server service account."
			f.Matched = clip(statement, 2000)
			if m := xpCmdShellCall.FindStringSubmatch(statement); m != nil && m[1]+m[2] != "" {
				f.Title += ": " + clip(m[1]+m[2], 80)
				f.Related = related(matchContent(m[1]+m[2]), f.Related...)
			}
		}
		out = append(out, f)
	}
	return out, nil
}
