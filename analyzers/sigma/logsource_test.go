package sigma

import (
	"slices"
	"strings"
	"testing"
)

// TestCategoryTable checks the category table against SIGMA.md §2.2 (the
// taxonomy appendix): Sysmon event ids, the PowerShell logs and 4688.
func TestCategoryTable(t *testing.T) {
	sysmonIDs := map[string][]int{
		"process_creation": {1}, "file_change": {2}, "network_connection": {3}, "sysmon_status": {4, 16},
		"process_termination": {5}, "driver_load": {6}, "image_load": {7}, "create_remote_thread": {8},
		"raw_access_thread": {9}, "process_access": {10}, "file_event": {11}, "registry_add": {12},
		"registry_delete": {12}, "registry_set": {13}, "registry_event": {12, 13, 14}, "create_stream_hash": {15},
		"pipe_created": {17, 18}, "wmi_event": {19, 20, 21}, "dns_query": {22}, "file_delete": {23, 26},
		"clipboard_capture": {24}, "process_tampering": {25}, "file_delete_detected": {26},
		"file_block_executable": {27}, "file_block_shredding": {28}, "file_executable_detected": {29}, "sysmon_error": {255},
	}
	for cat, ids := range sysmonIDs {
		srcs, reason, _ := sourcesOf(Logsource{Product: "windows", Category: cat})
		if reason != "" || srcs[0].Channel != chSysmon || !slices.Equal(srcs[0].EventIDs, ids) {
			t.Errorf("%s: %+v %s, want Sysmon %v", cat, srcs, reason, ids)
		}
	}
	ps := map[string][]Source{
		"ps_script":                 {{Channel: chPowerShell, EventIDs: []int{4104}}, {Channel: chPowerShell7, EventIDs: []int{4104}}},
		"ps_module":                 {{Channel: chPowerShell, EventIDs: []int{4103}}, {Channel: chPowerShell7, EventIDs: []int{4103}}},
		"ps_classic_start":          {{Channel: chClassicPS, EventIDs: []int{400}}},
		"ps_classic_provider_start": {{Channel: chClassicPS, EventIDs: []int{600}}},
		"ps_classic_script":         {{Channel: chClassicPS, EventIDs: []int{800}}},
	}
	for cat, want := range ps {
		srcs, _, _ := sourcesOf(Logsource{Product: "windows", Category: cat})
		if len(srcs) != len(want) {
			t.Fatalf("%s: %+v", cat, srcs)
		}
		for i := range want {
			if srcs[i].Channel != want[i].Channel || !slices.Equal(srcs[i].EventIDs, want[i].EventIDs) {
				t.Errorf("%s: %+v, want %+v", cat, srcs, want)
			}
		}
	}
	srcs, _, _ := sourcesOf(Logsource{Product: "windows", Category: "process_creation"})
	if len(srcs) != 2 || srcs[1].Channel != "Security" || srcs[1].EventIDs[0] != 4688 || srcs[1].View != View4688AsSysmon {
		t.Errorf("process_creation from 4688: %+v", srcs)
	}
	for _, cat := range []string{"file_access", "file_rename"} {
		if _, reason, _ := sourcesOf(Logsource{Product: "windows", Category: cat}); reason != ReasonLogsource {
			t.Errorf("%s has no EVTX channel, yet %q", cat, reason)
		}
	}
}

// TestServiceTable checks services against SIGMA.md §2.1.
func TestServiceTable(t *testing.T) {
	want := map[string]string{
		"security": "Security", "system": "System", "application": "Application",
		"windefend": "Microsoft-Windows-Windows Defender/Operational", "sysmon": chSysmon,
		"taskscheduler": "Microsoft-Windows-TaskScheduler/Operational", "wmi": chWMIActivity,
		"powershell-classic": "Windows PowerShell", "powershell": chPowerShell,
		"codeintegrity-operational": "Microsoft-Windows-CodeIntegrity/Operational",
		"firewall-as":               "Microsoft-Windows-Windows Firewall With Advanced Security/Firewall",
		"bits-client":               "Microsoft-Windows-Bits-Client/Operational", "ldap": "Microsoft-Windows-LDAP-Client/Debug",
		"dns-server": "DNS Server", "msexchange-management": "MSExchange Management",
	}
	for svc, ch := range want {
		srcs, reason, _ := sourcesOf(Logsource{Product: "windows", Service: svc})
		if reason != "" || srcs[0].Channel != ch || len(srcs[0].EventIDs) != 0 {
			t.Errorf("%s: %+v %s, want %s", svc, srcs, reason, ch)
		}
	}
}

// TestEveryCorpusLogsourceMaps: each logsource a shared Windows rule uses
// maps, except the two ETW-only categories.
func TestEveryCorpusLogsourceMaps(t *testing.T) {
	c := Load(windowsRulePaths(t), LoadOptions{})
	for _, r := range c.Refused {
		if r.Reason == ReasonLogsource && !strings.Contains(r.Detail, "file_access") && !strings.Contains(r.Detail, "file_rename") {
			t.Errorf("%s: %s", r.Path, r.Detail)
		}
	}
}

func TestSysmonView4688(t *testing.T) {
	f := ev("NewProcessName", `C:\Windows\System32\cmd.exe`, "ParentProcessName", `C:\Windows\explorer.exe`,
		"NewProcessId", "0x1a2c", "ProcessId", "0x10", "MandatoryLabel", "S-1-16-12288",
		"SubjectUserSid", "S-1-5-18", "SubjectUserName", "HOST$", "SubjectDomainName", "CORP",
		"TargetUserSid", "S-1-0-0", "TargetUserName", "-", "SubjectLogonId", "0x3e7", "CommandLine", "cmd /c x")
	v := sysmonView4688(f)
	checks := map[string][]string{
		"Image": {`C:\Windows\System32\cmd.exe`}, "ParentImage": {`C:\Windows\explorer.exe`},
		"ProcessId": {"6700"}, "ParentProcessId": {"16"}, "IntegrityLevel": {"High", "S-1-16-12288"},
		"User": {`NT AUTHORITY\SYSTEM`}, "LogonId": {"0x3e7"}, "CommandLine": {"cmd /c x"},
	}
	for k, want := range checks {
		if !slices.Equal(v[k], want) {
			t.Errorf("%s: %q, want %q", k, v[k], want)
		}
	}
	f2 := ev("SubjectUserSid", "S-1-5-21-1", "SubjectUserName", "alice", "SubjectDomainName", "CORP",
		"TargetUserSid", "S-1-5-21-2", "TargetUserName", "bob", "TargetDomainName", "CORP")
	if u := sysmonView4688(f2)["User"]; !slices.Equal(u, []string{`CORP\bob`}) {
		t.Errorf("target user: %q", u)
	}
	// A process_creation rule on AUTHORI (the anchors' converter misses it).
	r := compileOne(t, ruleWith("  sel:\n    User|contains: [AUTHORI, AUTORI]\n  condition: sel\n"), LoadOptions{})
	rs := NewRuleSet([]*Rule{r})
	n := 0
	rs.Match("Security", 4688, f, func(*Rule, Fields) { n++ })
	if n != 1 {
		t.Errorf("User|contains AUTHORI on a SYSTEM 4688: %d matches", n)
	}
}
