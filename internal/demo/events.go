package demo

import (
	"fmt"
	"strings"
	"time"

	"triage/internal/evtxwrite"
)

// Log file names, as Windows names them.
const (
	securityLog   = "Security.evtx"
	sysmonLog     = "Microsoft-Windows-Sysmon%4Operational.evtx"
	psLog         = "Microsoft-Windows-PowerShell%4Operational.evtx"
	classicPSLog  = "Windows PowerShell.evtx"
	systemLog     = "System.evtx"
	securityGUID  = "{54849625-5478-4994-A5BA-3E3B0328C30D}"
	sysmonGUID    = "{5770385F-C22A-43E0-BF4C-06F5698FFBD9}"
	powershellGUI = "{A0C1853B-5C40-4B15-8766-3CF1C58F985A}"
	scmGUID       = "{555908D1-A6D7-4695-8E1E-26931D2012F4}"
	psVersion     = "5.1.19041.4894"
)

// logs collects the events of each log file.
type logs map[string][]evtxwrite.Event

func (l logs) add(name string, ev evtxwrite.Event) { l[name] = append(l[name], ev) }

var (
	str = evtxwrite.Str
	hex = func(name string, n uint64) evtxwrite.Field {
		return evtxwrite.Field{Name: name, Value: evtxwrite.HexInt64(n)}
	}
	sid = func(name, s string) evtxwrite.Field { return evtxwrite.Field{Name: name, Value: evtxwrite.SID(s)} }
	u16 = func(name string, n uint16) evtxwrite.Field {
		return evtxwrite.Field{Name: name, Value: evtxwrite.UInt16(n)}
	}
	u32 = func(name string, n uint32) evtxwrite.Field {
		return evtxwrite.Field{Name: name, Value: evtxwrite.UInt32(n)}
	}
	i32 = func(name string, n int32) evtxwrite.Field {
		return evtxwrite.Field{Name: name, Value: evtxwrite.Int32(n)}
	}
	bl = func(name string, b bool) evtxwrite.Field {
		return evtxwrite.Field{Name: name, Value: evtxwrite.Bool(b)}
	}
	guid = func(name, g string) evtxwrite.Field { return evtxwrite.Field{Name: name, Value: evtxwrite.GUID(g)} }
)

// securityTasks gives each Security event its task (audit subcategory).
var securityTasks = map[uint16]uint16{4624: 12544, 4634: 12545, 4672: 12548, 4688: 13312, 4698: 12804}

func (l logs) security(t time.Time, id uint16, data ...evtxwrite.Field) {
	version := uint8(0)
	switch id {
	case 4624, 4688:
		version = 2
	case 4698:
		version = 1
	}
	l.add(securityLog, evtxwrite.Event{Provider: "Microsoft-Windows-Security-Auditing", ProviderGUID: securityGUID,
		EventID: id, Version: version, Task: securityTasks[id], Keywords: 0x8020000000000000, Time: t,
		ProcessID: 4, ThreadID: 5812, Channel: "Security", Computer: computer, Data: data})
}

func (l logs) sysmon(t time.Time, id uint16, data ...evtxwrite.Field) {
	version := map[uint16]uint8{1: 5, 3: 5, 7: 3}[id]
	l.add(sysmonLog, evtxwrite.Event{Provider: "Microsoft-Windows-Sysmon", ProviderGUID: sysmonGUID, EventID: id,
		Version: version, Level: 4, Task: id, Keywords: 0x8000000000000000, Time: t, ProcessID: 2716, ThreadID: 3940,
		Channel: "Microsoft-Windows-Sysmon/Operational", Computer: computer, UserID: system.sid, Data: data})
}

// proc is one process of the story.
type proc struct {
	pid   uint32
	image string
	cmd   string
	user  user
}

// processGUID is the Sysmon process GUID of p, made from its pid and start.
func processGUID(p proc, start time.Time) string {
	return fmt.Sprintf("{7E2B4C1A-%04X-%04X-%04X-%012X}", start.Hour()*100+start.Minute(), start.Second()*1000+start.Nanosecond()/1e6, p.pid&0xffff, p.pid)
}

// start logs a process start twice, as Security 4688 and Sysmon 1 a few
// milliseconds apart, the way both sensors see the same start.
func (l logs) start(t time.Time, child, parent proc) {
	elevation := "%%1938"
	label := "S-1-16-8192"
	if child.user == system {
		elevation, label = "%%1936", "S-1-16-16384"
	}
	subject := child.user
	l.security(t, 4688,
		sid("SubjectUserSid", subject.sid), str("SubjectUserName", subject.name), str("SubjectDomainName", domain),
		hex("SubjectLogonId", subject.logonID), hex("NewProcessId", uint64(child.pid)), str("NewProcessName", child.image),
		str("TokenElevationType", elevation), hex("ProcessId", uint64(parent.pid)), str("CommandLine", child.cmd),
		sid("TargetUserSid", "S-1-0-0"), str("TargetUserName", "-"), str("TargetDomainName", "-"), hex("TargetLogonId", 0),
		str("ParentProcessName", parent.image), sid("MandatoryLabel", label))
	st := t.Add(3 * time.Millisecond)
	name := child.image[strings.LastIndex(child.image, `\`)+1:]
	l.sysmon(st, 1, str("RuleName", "-"), str("UtcTime", st.Format("2006-01-02 15:04:05.000")),
		guid("ProcessGuid", processGUID(child, t)), u32("ProcessId", child.pid), str("Image", child.image),
		str("FileVersion", "10.0.19041.1 (WinBuild.160101.0800)"), str("Description", name), str("Product", "Microsoft® Windows® Operating System"),
		str("Company", "Microsoft Corporation"), str("OriginalFileName", name), str("CommandLine", child.cmd),
		str("CurrentDirectory", `C:\Windows\system32\`), str("User", domain+`\`+child.user.name),
		guid("LogonGuid", fmt.Sprintf("{7E2B4C1A-0000-0000-0000-%012X}", child.user.logonID)), hex("LogonId", child.user.logonID),
		u32("TerminalSessionId", 1), str("IntegrityLevel", map[bool]string{true: "System", false: "Medium"}[child.user == system]),
		str("Hashes", "SHA256="+strings.Repeat(fmt.Sprintf("%08X", child.pid*2654435761), 8)),
		guid("ParentProcessGuid", processGUID(parent, Day)), u32("ParentProcessId", parent.pid), str("ParentImage", parent.image),
		str("ParentCommandLine", parent.cmd), str("ParentUser", domain+`\`+parent.user.name))
}

func (l logs) imageLoad(t time.Time, p proc, dll string) {
	name := dll[strings.LastIndex(dll, `\`)+1:]
	l.sysmon(t, 7, str("RuleName", "-"), str("UtcTime", t.Format("2006-01-02 15:04:05.000")),
		guid("ProcessGuid", processGUID(p, Day)), u32("ProcessId", p.pid), str("Image", p.image), str("ImageLoaded", dll),
		str("FileVersion", "5.812.10240.16384"), str("Description", name), str("Product", "Microsoft ® Windows Script Host"),
		str("Company", "Microsoft Corporation"), str("OriginalFileName", name), str("Hashes", "SHA256="+strings.Repeat("3C9A1F07", 8)),
		str("Signed", "true"), str("Signature", "Microsoft Windows"), str("SignatureStatus", "Valid"), str("User", domain+`\`+p.user.name))
}

func (l logs) connect(t time.Time, p proc, ip string, port uint16, host string) {
	l.sysmon(t, 3, str("RuleName", "-"), str("UtcTime", t.Format("2006-01-02 15:04:05.000")),
		guid("ProcessGuid", processGUID(p, Day)), u32("ProcessId", p.pid), str("Image", p.image), str("User", domain+`\`+p.user.name),
		str("Protocol", "tcp"), bl("Initiated", true), bl("SourceIsIpv6", false), str("SourceIp", "10.20.4.57"),
		str("SourceHostname", computer), u16("SourcePort", 49000+uint16(p.pid%1000)), str("SourcePortName", "-"),
		bl("DestinationIsIpv6", false), str("DestinationIp", ip), str("DestinationHostname", host),
		u16("DestinationPort", port), str("DestinationPortName", portName(port)))
}

// portName is the service name Sysmon gives a destination port, "-" for
// ports without one.
func portName(port uint16) string {
	if name, ok := map[uint16]string{80: "http", 443: "https", 445: "microsoft-ds"}[port]; ok {
		return name
	}
	return "-"
}

func (l logs) logon(t time.Time, u user, logonType uint32, ip string) {
	l.security(t, 4624, sid("SubjectUserSid", system.sid), str("SubjectUserName", system.name), str("SubjectDomainName", domain),
		hex("SubjectLogonId", system.logonID), sid("TargetUserSid", u.sid), str("TargetUserName", u.name), str("TargetDomainName", domain),
		hex("TargetLogonId", u.logonID), u32("LogonType", logonType), str("LogonProcessName", "User32 "),
		str("AuthenticationPackageName", "Negotiate"), str("WorkstationName", Host),
		guid("LogonGuid", "{00000000-0000-0000-0000-000000000000}"), str("TransmittedServices", "-"),
		str("LmPackageName", "-"), u32("KeyLength", 0), hex("ProcessId", 0x2c4), str("ProcessName", `C:\Windows\System32\svchost.exe`),
		str("IpAddress", ip), str("IpPort", "0"), str("ImpersonationLevel", "%%1833"), str("RestrictedAdminMode", "-"),
		str("TargetOutboundUserName", "-"), str("TargetOutboundDomainName", "-"), str("VirtualAccount", "%%1843"),
		hex("TargetLinkedLogonId", 0), str("ElevatedToken", "%%1842"))
}

// scriptBlock logs text as 4104 events of at most partSize characters, as
// PowerShell splits long blocks; level 3 (Warning) when PowerShell's own
// list of suspicious terms would match it, else 5 (Verbose).
func (l logs) scriptBlock(t time.Time, id string, parts []string, path string, warning bool) {
	level := uint8(5)
	if warning {
		level = 3
	}
	for i, p := range parts {
		l.add(psLog, evtxwrite.Event{Provider: "Microsoft-Windows-PowerShell", ProviderGUID: powershellGUI, EventID: 4104,
			Version: 1, Level: level, Task: 2, Opcode: 15, Time: t.Add(time.Duration(i) * 2 * time.Millisecond),
			ActivityID: "{6A1D0E3B-2F4C-0001-9B7E-1C2D3E4F5A6B}", ProcessID: 7696, ThreadID: 6212,
			Channel: "Microsoft-Windows-PowerShell/Operational", Computer: computer, UserID: alice.sid,
			Data: []evtxwrite.Field{i32("MessageNumber", int32(i+1)), i32("MessageTotal", int32(len(parts))),
				str("ScriptBlockText", p), str("ScriptBlockId", id), str("Path", path)}})
	}
}

// engine logs a classic Windows PowerShell engine event (400 start, 403
// stop): two state words and the block of key=value lines that carries
// the host application.
func (l logs) engine(t time.Time, id uint16, hostApp, hostName string, seq int) {
	newState, prev := "Available", "None"
	if id == 403 {
		newState, prev = "Stopped", "Available"
	}
	details := strings.Join([]string{
		"NewEngineState=" + newState, "PreviousEngineState=" + prev, "", "SequenceNumber=" + fmt.Sprint(seq), "",
		"HostName=" + hostName, "HostVersion=" + psVersion, "HostId=3b5f1c2e-8d4a-4e61-9a7f-0c2d4e6f8a1b",
		"HostApplication=" + hostApp, "EngineVersion=" + psVersion, "RunspaceId=9f8e7d6c-5b4a-4321-8fed-cba987654321",
		"PipelineId=", "CommandName=", "CommandType=", "ScriptName=", "CommandPath=", "CommandLine=",
	}, "\r\n\t")
	l.add(classicPSLog, evtxwrite.Event{Provider: "PowerShell", EventID: id, HasQualifier: true, Level: 4, Task: 4,
		Keywords: 0x80000000000000, Time: t, Channel: "Windows PowerShell", Computer: computer,
		Data: []evtxwrite.Field{str("", newState), str("", prev), str("", "\t"+details)}})
}

func (l logs) service(t time.Time, name, state string) {
	l.add(systemLog, evtxwrite.Event{Provider: "Service Control Manager", ProviderGUID: scmGUID, EventID: 7036,
		HasQualifier: true, Qualifiers: 16384, Level: 4, Keywords: 0x8080000000000000, Time: t, ProcessID: 716, ThreadID: 7420,
		Channel: "System", Computer: computer, Data: []evtxwrite.Field{str("param1", name), str("param2", state),
			evtxwrite.Field{Name: "Binary", Value: evtxwrite.Binary([]byte(strings.ToUpper(name[:3]) + "/1"))}}})
}
