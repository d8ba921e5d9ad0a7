package analyzers

import (
	"context"
	"strings"
	"testing"
	"time"
)

const (
	wmiPrvSE = `C:\Windows\System32\wbem\WmiPrvSE.exe`
	wmicExe  = `C:\Windows\System32\wbem\WMIC.exe`
)

func security4624(logonType, user, ip, ts string) ev {
	return ev{provider: "Microsoft-Windows-Security-Auditing", eventID: 4624, ts: ts,
		data: map[string]any{"LogonType": logonType, "TargetUserName": user, "TargetDomainName": "CORP", "IpAddress": ip}}
}

// TestWMIParentSaysWhatTheEvidenceShows: a child of WmiPrvSE.exe is called
// local WMI only after a wmic process call create of it on the host, likely
// remote only after a network logon, and neither otherwise.
func TestWMIParentSaysWhatTheEvidenceShows(t *testing.T) {
	child := func(ts string) ev { return atTime(sysmon1(cmd, wmiPrvSE, `cmd.exe /c whoami`), ts) }
	wmic := func(line, ts string) ev { return atTime(sysmon1(wmicExe, cmd, line), ts) }
	runTable(t, []tableCase{
		{"no caller in the timeline: local or remote", []ev{child("2024-03-05T10:00:00Z")},
			"T1059.003", "high", "cmd.exe started by wmiprvse.exe (WMI provider host (WMI execution, local or remote))"},
		{"local wmic call just before", []ev{
			wmic(`wmic process call create "cmd.exe /c whoami"`, "2024-03-05T09:59:59.200Z"), child("2024-03-05T10:00:00Z")},
			"T1059.003", "high", "cmd.exe started by wmiprvse.exe (WMI provider host (local WMI execution by wmic process call create))"},
		{"wmic call too long before is no caller", []ev{
			wmic(`wmic process call create "cmd.exe /c whoami"`, "2024-03-05T09:59:00Z"), child("2024-03-05T10:00:00Z")},
			"T1059.003", "high", "cmd.exe started by wmiprvse.exe (WMI provider host (WMI execution, local or remote))"},
		{"wmic call of another program is no caller", []ev{
			wmic(`wmic process call create "notepad.exe"`, "2024-03-05T09:59:59.500Z"), child("2024-03-05T10:00:00Z")},
			"T1059.003", "high", "cmd.exe started by wmiprvse.exe (WMI provider host (WMI execution, local or remote))"},
		{"wmic /node: another host runs there, not here", []ev{
			wmic(`wmic /node:srv01 process call create "cmd.exe /c whoami"`, "2024-03-05T09:59:59.500Z"), child("2024-03-05T10:00:00Z")},
			"T1059.003", "high", "cmd.exe started by wmiprvse.exe (WMI provider host (WMI execution, local or remote))"},
		{"network logon just before", []ev{
			security4624("3", "admin", "10.0.0.5", "2024-03-05T09:59:58Z"), child("2024-03-05T10:00:00Z")},
			"T1059.003", "high", "cmd.exe started by wmiprvse.exe (WMI provider host (WMI execution after a network logon: likely remote))"},
		{"interactive logon is no remote caller", []ev{
			security4624("2", "alice", "-", "2024-03-05T09:59:58Z"), child("2024-03-05T10:00:00Z")},
			"T1059.003", "high", "cmd.exe started by wmiprvse.exe (WMI provider host (WMI execution, local or remote))"},
		{"4688 and Sysmon 1 of one child stay one finding", []ev{
			wmic(`wmic process call create "cmd.exe /c whoami"`, "2024-03-05T09:59:59.200Z"),
			atTime(security4688(cmd, wmiPrvSE, `cmd.exe /c whoami`), "2024-03-05T10:00:00Z"), child("2024-03-05T10:00:00.030Z")},
			"T1059.003", "high", "cmd.exe started by wmiprvse.exe (WMI provider host (local WMI execution by wmic process call create))"},
	})
}

// TestWMICallerFromAnotherHost: a wmic /node: on one host naming another is
// the remote caller of the process WMI starts there.
func TestWMICallerFromAnotherHost(t *testing.T) {
	at := func(s string) time.Time { ts, _ := time.Parse(time.RFC3339Nano, s); return ts }
	procs := []Event{
		{ID: 1, Host: "ADMIN01", Process: wmicExe, imageName: "wmic.exe", TS: at("2024-03-05T09:59:59Z"),
			CommandLine: `wmic /node:ws07 process call create "cmd.exe /c whoami"`},
		{ID: 2, Host: "ws07.corp.example.com", Process: cmd, imageName: "cmd.exe", ParentProcess: wmiPrvSE, TS: at("2024-03-05T10:00:00Z")},
		{ID: 3, Host: "ws08", Process: cmd, imageName: "cmd.exe", ParentProcess: wmiPrvSE, TS: at("2024-03-05T10:00:00Z")},
	}
	if caller, remote := wmiCaller(wmiCalls(procs), &procs[1]); caller == nil || caller.ID != 1 || !remote {
		t.Errorf("ws07: caller %v remote %v, want wmic on ADMIN01, remote", caller, remote)
	}
	if caller, _ := wmiCaller(wmiCalls(procs), &procs[2]); caller != nil {
		t.Errorf("ws08: caller %v, want none", caller.ID)
	}
}

// TestWMIAttributionKeepsOneStartOneFinding: the 4688 and the Sysmon 1 of
// one child, both attributed to the same wmic call, merge into one finding
// citing both records and the call.
func TestWMIAttributionKeepsOneStartOneFinding(t *testing.T) {
	db := newTimeline(t, []ev{
		atTime(sysmon1(wmicExe, cmd, `wmic process call create "cmd.exe /c whoami"`), "2024-03-05T09:59:59.200Z"),
		atTime(security4688(cmd, wmiPrvSE, `cmd.exe /c whoami`), "2024-03-05T10:00:00Z"),
		atTime(sysmon1(cmd, wmiPrvSE, `cmd.exe /c whoami`), "2024-03-05T10:00:00.030Z"),
	})
	if _, err := Run(context.Background(), db, Options{}); err != nil {
		t.Fatal(err)
	}
	n := queryStrings(t, db, `SELECT CAST(count(*) AS TEXT) FROM findings WHERE title LIKE 'cmd.exe started by wmiprvse.exe%'`)
	ids := queryStrings(t, db, `SELECT CAST(fe.event_id AS TEXT) FROM findings f JOIN finding_evidence fe ON fe.finding_id = f.id
		WHERE f.title LIKE 'cmd.exe started by wmiprvse.exe%' ORDER BY fe.event_id`)
	if n[0] != "1" || strings.Join(ids, ",") != "1,2,3" {
		t.Errorf("%s findings citing %v, want one citing the call and both records (1,2,3)", n[0], ids)
	}
}
