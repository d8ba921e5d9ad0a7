package sigma

import (
	"strconv"
	"strings"
)

// Logsource is a rule's logsource section.
type Logsource struct {
	Product, Category, Service string
}

// Source is one log a rule reads: a channel, the event ids (none: every
// event of the channel) and the view the rule sees the event through.
type Source struct {
	Channel  string
	EventIDs []int
	View     View
}

// View names how an event's fields are presented to a rule. Most rules
// see the event's own fields; process_creation rules read Security 4688
// through the Sysmon names.
type View uint8

const (
	ViewNative View = iota
	View4688AsSysmon
)

const (
	chSysmon       = "Microsoft-Windows-Sysmon/Operational"
	chPowerShell   = "Microsoft-Windows-PowerShell/Operational"
	chPowerShell7  = "PowerShellCore/Operational"
	chClassicPS    = "Windows PowerShell"
	chSecurity     = "Security"
	chDefender     = "Microsoft-Windows-Windows Defender/Operational"
	chWMIActivity  = "Microsoft-Windows-WMI-Activity/Operational"
	chSMBServer    = "Microsoft-Windows-SMBServer/Connectivity"
	chSMBClient    = "Microsoft-Windows-SmbClient/Connectivity"
	chServiceBus   = "Microsoft-ServiceBus-Client"
	chAppLocker    = "Microsoft-Windows-AppLocker/"
	chMitigations  = "Microsoft-Windows-Security-Mitigations/"
	chServiceBusOp = "Microsoft-ServiceBus-Client/Operational"
)

func sysmon(ids ...int) []Source { return []Source{{Channel: chSysmon, EventIDs: ids}} }

func channels(names ...string) []Source {
	out := make([]Source, len(names))
	for i, n := range names {
		out[i] = Source{Channel: n}
	}
	return out
}

func powershell(ids ...int) []Source {
	return []Source{{Channel: chPowerShell, EventIDs: ids}, {Channel: chPowerShell7, EventIDs: ids}}
}

// windowsCategories maps each Windows category of the taxonomy to its logs
// (SIGMA.md §2.2). file_access and file_rename name an ETW provider, not
// an EVTX channel, and have no entry: such rules are refused.
var windowsCategories = map[string][]Source{
	"process_creation":          append(sysmon(1), Source{Channel: chSecurity, EventIDs: []int{4688}, View: View4688AsSysmon}),
	"file_change":               sysmon(2),
	"network_connection":        sysmon(3),
	"sysmon_status":             sysmon(4, 16),
	"process_termination":       sysmon(5),
	"driver_load":               sysmon(6),
	"image_load":                sysmon(7),
	"create_remote_thread":      sysmon(8),
	"raw_access_thread":         sysmon(9),
	"process_access":            sysmon(10),
	"file_event":                sysmon(11),
	"registry_add":              sysmon(12),
	"registry_delete":           sysmon(12),
	"registry_set":              sysmon(13),
	"registry_rename":           sysmon(14),
	"registry_event":            sysmon(12, 13, 14),
	"create_stream_hash":        sysmon(15),
	"pipe_created":              sysmon(17, 18),
	"wmi_event":                 sysmon(19, 20, 21),
	"dns_query":                 sysmon(22),
	"file_delete":               sysmon(23, 26),
	"clipboard_capture":         sysmon(24),
	"clipboard_change":          sysmon(24),
	"process_tampering":         sysmon(25),
	"file_delete_detected":      sysmon(26),
	"file_block_executable":     sysmon(27),
	"file_block_shredding":      sysmon(28),
	"file_executable_detected":  sysmon(29),
	"sysmon_error":              sysmon(255),
	"ps_script":                 powershell(4104),
	"ps_module":                 powershell(4103),
	"ps_classic_start":          {{Channel: chClassicPS, EventIDs: []int{400}}},
	"ps_classic_provider_start": {{Channel: chClassicPS, EventIDs: []int{600}}},
	"ps_classic_script":         {{Channel: chClassicPS, EventIDs: []int{800}}},
	"antivirus":                 {{Channel: chDefender, EventIDs: []int{1006, 1007, 1008, 1009, 1010, 1011, 1012, 1017, 1018, 1019, 1115, 1116}}},
}

// windowsServices maps each service to its channels (SIGMA.md §2.1, the
// taxonomy appendix; the names other tools use are kept as aliases).
var windowsServices = map[string][]Source{
	"security":                             channels(chSecurity),
	"system":                               channels("System"),
	"application":                          channels("Application"),
	"windefend":                            channels(chDefender),
	"appxdeployment-server":                channels("Microsoft-Windows-AppXDeploymentServer/Operational"),
	"appxpackaging-om":                     channels("Microsoft-Windows-AppxPackaging/Operational"),
	"codeintegrity-operational":            channels("Microsoft-Windows-CodeIntegrity/Operational"),
	"firewall-as":                          channels("Microsoft-Windows-Windows Firewall With Advanced Security/Firewall"),
	"msexchange-management":                channels("MSExchange Management"),
	"bits-client":                          channels("Microsoft-Windows-Bits-Client/Operational"),
	"dns-client":                           channels("Microsoft-Windows-DNS Client Events/Operational"),
	"sysmon":                               channels(chSysmon),
	"iis-configuration":                    channels("Microsoft-IIS-Configuration/Operational"),
	"taskscheduler":                        channels("Microsoft-Windows-TaskScheduler/Operational"),
	"ntlm":                                 channels("Microsoft-Windows-NTLM/Operational"),
	"powershell-classic":                   channels(chClassicPS),
	"powershell":                           channels(chPowerShell, chPowerShell7),
	"security-mitigations":                 channels(chMitigations+"Kernel Mode", chMitigations+"User Mode"),
	"wmi":                                  channels(chWMIActivity),
	"applocker":                            channels(chAppLocker+"MSI and Script", chAppLocker+"EXE and DLL", chAppLocker+"Packaged app-Deployment", chAppLocker+"Packaged app-Execution"),
	"dns-server":                           channels("DNS Server"),
	"dns-server-analytic":                  channels("Microsoft-Windows-DNS-Server/Analytical"),
	"dns-server-audit":                     channels("Microsoft-Windows-DNS-Server/Audit"),
	"ldap":                                 channels("Microsoft-Windows-LDAP-Client/Debug"),
	"ldap_debug":                           channels("Microsoft-Windows-LDAP-Client/Debug"),
	"microsoft-servicebus-client":          channels(chServiceBus, chServiceBusOp, "Microsoft-ServiceBus-Client/Admin"),
	"servicebus-client":                    channels(chServiceBusOp, "Microsoft-ServiceBus-Client/Admin"),
	"smbserver-connectivity":               channels(chSMBServer),
	"smbclient-connectivity":               channels(chSMBClient),
	"smbclient-security":                   channels("Microsoft-Windows-SmbClient/Security"),
	"terminalservices-localsessionmanager": channels("Microsoft-Windows-TerminalServices-LocalSessionManager/Operational"),
	"shell-core":                           channels("Microsoft-Windows-Shell-Core/Operational"),
	"certificateservicesclient-lifecycle-system": channels("Microsoft-Windows-CertificateServicesClient-Lifecycle-System/Operational"),
	"driver-framework":                           channels("Microsoft-Windows-DriverFrameworks-UserMode/Operational"),
	"appmodel-runtime":                           channels("Microsoft-Windows-AppModel-Runtime/Admin"),
	"diagnosis-scripted":                         channels("Microsoft-Windows-Diagnosis-Scripted/Operational"),
	"lsa-server":                                 channels("Microsoft-Windows-LSA/Operational"),
	"openssh":                                    channels("OpenSSH/Operational"),
	"capi2":                                      channels("Microsoft-Windows-CAPI2/Operational"),
	"printservice-admin":                         channels("Microsoft-Windows-PrintService/Admin"),
	"printservice-operational":                   channels("Microsoft-Windows-PrintService/Operational"),
	"application-experience":                     channels("Microsoft-Windows-Application-Experience/Program-Telemetry", "Microsoft-Windows-Application-Experience/Program-Compatibility-Assistant"),
	"bitlocker":                                  channels("Microsoft-Windows-BitLocker/BitLocker Management"),
	"dhcp":                                       channels("Microsoft-Windows-DHCP-Server/Operational"),
	"hyper-v-worker":                             channels("Microsoft-Windows-Hyper-V-Worker"),
	"kernel-event-tracing":                       channels("Microsoft-Windows-Kernel-EventTracing"),
	"kernel-shimengine":                          channels("Microsoft-Windows-Kernel-ShimEngine/Operational", "Microsoft-Windows-Kernel-ShimEngine/Diagnostic"),
	"ntfs":                                       channels("Microsoft-Windows-Ntfs/Operational"),
	"sense":                                      channels("Microsoft-Windows-SENSE/Operational"),
	"vhdmp":                                      channels("Microsoft-Windows-VHDMP/Operational"),
}

// sourcesOf maps a rule's logsource to the logs it reads. With both a
// category and a service the service's channels narrow the category's.
func sourcesOf(ls Logsource) ([]Source, string, string) {
	if ls.Product != "" && ls.Product != "windows" {
		return nil, ReasonNotWindows, "product " + ls.Product
	}
	var cat, svc []Source
	if ls.Category != "" {
		var ok bool
		if cat, ok = windowsCategories[ls.Category]; !ok {
			if ls.Product == "" {
				return nil, ReasonNotWindows, "category " + ls.Category + " without product windows"
			}
			return nil, ReasonLogsource, "category " + ls.Category + " has no Windows event log"
		}
	}
	if ls.Service != "" {
		var ok bool
		if svc, ok = windowsServices[ls.Service]; !ok {
			return nil, ReasonLogsource, "service " + ls.Service + " is not in the taxonomy"
		}
	}
	switch {
	case cat != nil && svc != nil:
		var out []Source
		for _, c := range cat {
			for _, s := range svc {
				if c.Channel == s.Channel {
					out = append(out, c)
				}
			}
		}
		if out == nil {
			return nil, ReasonLogsource, "category " + ls.Category + " and service " + ls.Service + " share no log"
		}
		return out, "", ""
	case cat != nil:
		return cat, "", ""
	case svc != nil:
		return svc, "", ""
	case ls.Product == "windows":
		return []Source{{Channel: ""}}, "", "" // every Windows event
	}
	return nil, ReasonLogsource, "no product, category or service"
}

// The 4688 → Sysmon process_creation view (SIGMA.md §2.3).

// renames4688 gives, for a Sysmon field name, the 4688 field it reads.
var renames4688 = map[string]string{
	"Image":       "NewProcessName",
	"ParentImage": "ParentProcessName",
	"LogonId":     "SubjectLogonId",
}

// integrityLevels names the mandatory label SIDs as Sysmon writes them.
var integrityLevels = map[string]string{
	"S-1-16-0":     "Untrusted",
	"S-1-16-4096":  "Low",
	"S-1-16-8192":  "Medium",
	"S-1-16-8448":  "Medium",
	"S-1-16-12288": "High",
	"S-1-16-16384": "System",
	"S-1-16-20480": "Protected",
}

// wellKnownAccounts names the service SIDs as Sysmon's User field does.
var wellKnownAccounts = map[string]string{
	"S-1-5-18": `NT AUTHORITY\SYSTEM`,
	"S-1-5-19": `NT AUTHORITY\LOCAL SERVICE`,
	"S-1-5-20": `NT AUTHORITY\NETWORK SERVICE`,
}

// sysmonView4688 presents a 4688 event under Sysmon's names: the
// renames, process ids from hex to decimal, the integrity level by name
// (and SID), and a User as Sysmon writes it, from the Target account when
// Windows filled it, else the Subject.
func sysmonView4688(f Fields) Fields { return sysmonView4688Into(make(Fields, len(f)+8), f) }

// sysmonView4688Into is sysmonView4688 written into out, emptied first: a
// Matcher keeps one for every 4688 it meets, as a map made per event was
// an eighth of a 4688's matching.
func sysmonView4688Into(out, f Fields) Fields {
	clear(out)
	for k, v := range f {
		out[k] = v
	}
	for sysmonName, name := range renames4688 {
		if v, ok := f[name]; ok {
			out[sysmonName] = v
		} else {
			delete(out, sysmonName)
		}
	}
	out["ProcessId"] = hexToDecimal(f["NewProcessId"])
	out["ParentProcessId"] = hexToDecimal(f["ProcessId"])
	if out["ProcessId"] == nil {
		delete(out, "ProcessId")
	}
	if out["ParentProcessId"] == nil {
		delete(out, "ParentProcessId")
	}
	if labels, ok := f["MandatoryLabel"]; ok {
		var il []string
		for _, l := range labels {
			if name, ok := integrityLevels[strings.ToUpper(l)]; ok {
				il = append(il, name)
			}
			il = append(il, l)
		}
		out["IntegrityLevel"] = il
	}
	if u := user4688(f); u != "" {
		out["User"] = []string{u}
	}
	return out
}

func first(vs []string) string {
	if len(vs) == 0 {
		return ""
	}
	return vs[0]
}

func user4688(f Fields) string {
	sid, name, domain := first(f["TargetUserSid"]), first(f["TargetUserName"]), first(f["TargetDomainName"])
	if sid == "" || sid == "S-1-0-0" || name == "" || name == "-" {
		sid, name, domain = first(f["SubjectUserSid"]), first(f["SubjectUserName"]), first(f["SubjectDomainName"])
	}
	if known, ok := wellKnownAccounts[strings.ToUpper(sid)]; ok {
		return known
	}
	if name == "" || name == "-" {
		return ""
	}
	if domain == "" || domain == "-" {
		return name
	}
	return domain + `\` + name
}

func hexToDecimal(vs []string) []string {
	var out []string
	for _, v := range vs {
		if h, ok := strings.CutPrefix(strings.ToLower(strings.TrimSpace(v)), "0x"); ok {
			if n, err := strconv.ParseUint(h, 16, 64); err == nil {
				out = append(out, strconv.FormatUint(n, 10))
				continue
			}
		}
		out = append(out, v)
	}
	return out
}
