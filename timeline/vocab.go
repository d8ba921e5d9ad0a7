package timeline

import (
	"fmt"
	"strings"
)

// The vocabulary the stages share: where an event came from, what kind of
// thing it records, how severe a finding is, the ATT&CK techniques findings
// name and the interpreters the analyzers watch. Each is defined here once;
// the analyzers and the report take names from these tables and never spell
// a string another stage must match.

// Sources: the events.source column, one per artifact kind.
const (
	SourceEVTX     = "evtx"
	SourcePrefetch = "prefetch"
	SourceHistory  = "history" // PSReadLine ConsoleHost_history.txt
	SourceBatch    = "batch"
	SourceScript   = "script"
)

// Providers of the event logs the analyzers read.
const (
	ProviderSecurity   = providerSecurity
	ProviderSysmon     = providerSysmon
	ProviderPowerShell = providerPowerShell
	ProviderClassicPS  = providerClassicPS
	ProviderSCM        = "Service Control Manager"
	ProviderWMI        = "Microsoft-Windows-WMI-Activity"
	ProviderWinRM      = "Microsoft-Windows-WinRM"
)

// Category is what an event records, whichever log or artifact recorded it.
type Category int

// Categories, in no order that means anything.
const (
	CategoryOther          Category = iota
	CategoryProcessStart            // Security 4688, Sysmon 1
	CategoryProcessEnd              // Security 4689, Sysmon 5
	CategoryModuleLoad              // Sysmon 7
	CategoryProcessAccess           // Sysmon 10
	CategoryRegistryValue           // Sysmon 12, 13, 14
	CategoryScriptBlock             // PowerShell 4104
	CategoryPipeline                // PowerShell 4103, Windows PowerShell 800
	CategoryEngineStart             // Windows PowerShell 400
	CategoryEngineStop              // Windows PowerShell 403
	CategoryServiceInstall          // System 7045
	CategoryTaskRegistered          // Security 4698, 4702
	CategoryWMIConsumer             // WMI-Activity 5861
	CategorySQLServer               // Application 15457, 15281, 33205 (MSSQL)
	CategoryRemoteShell             // WinRM 91, 142, 169: a remote shell or its user
	CategoryPrefetchRun             // one run time of a prefetch file
	CategoryHistoryLine             // one line of a PSReadLine history
	CategoryBatchFile               // a batch file's content
	CategoryScriptFile              // a script file's content
	numCategories
)

var categoryNames = [numCategories]string{
	"other", "process start", "process end", "module load", "process access", "registry value",
	"script block", "pipeline execution", "engine start", "engine stop", "service install",
	"task registered", "WMI consumer", "SQL Server", "remote shell", "prefetch run", "history line",
	"batch file", "script file",
}

func (c Category) String() string {
	if c < 0 || c >= numCategories {
		return fmt.Sprintf("category(%d)", int(c))
	}
	return categoryNames[c]
}

// categoryKey is a log provider and event id.
type categoryKey struct {
	provider string
	eventID  int
}

var evtxCategories = map[categoryKey]Category{
	{providerSecurity, 4688}: CategoryProcessStart, {providerSysmon, 1}: CategoryProcessStart,
	{providerSecurity, 4689}: CategoryProcessEnd, {providerSysmon, 5}: CategoryProcessEnd,
	{providerSysmon, 7}: CategoryModuleLoad, {providerSysmon, 10}: CategoryProcessAccess,
	{providerSysmon, 12}: CategoryRegistryValue, {providerSysmon, 13}: CategoryRegistryValue, {providerSysmon, 14}: CategoryRegistryValue,
	{providerPowerShell, 4104}: CategoryScriptBlock, {providerPowerShell, 4103}: CategoryPipeline,
	{providerClassicPS, 800}: CategoryPipeline, {providerClassicPS, 400}: CategoryEngineStart, {providerClassicPS, 403}: CategoryEngineStop,
	{ProviderSCM, 7045}:      CategoryServiceInstall,
	{providerSecurity, 4698}: CategoryTaskRegistered, {providerSecurity, 4702}: CategoryTaskRegistered,
	{ProviderWMI, 5861}: CategoryWMIConsumer,
	{ProviderWinRM, 91}: CategoryRemoteShell, {ProviderWinRM, 142}: CategoryRemoteShell, {ProviderWinRM, 169}: CategoryRemoteShell,
}

// sqlServerEvents are the Application log events of SQL Server that tell
// of xp_cmdshell: 15457 (configuration option changed), 15281 (a component
// is turned off and was asked for) and 33205 (an audit record). SQL Server
// names its provider after the instance (MSSQLSERVER, MSSQL$NAME).
var sqlServerEvents = map[int]bool{15457: true, 15281: true, 33205: true}

// CategoryOf says what an event of the given source, provider and event id
// records.
func CategoryOf(source, provider string, eventID int) Category {
	switch source {
	case SourcePrefetch:
		return CategoryPrefetchRun
	case SourceHistory:
		return CategoryHistoryLine
	case SourceBatch:
		return CategoryBatchFile
	case SourceScript:
		return CategoryScriptFile
	case SourceEVTX:
		if c, ok := evtxCategories[categoryKey{provider, eventID}]; ok {
			return c
		}
		if sqlServerEvents[eventID] && strings.HasPrefix(strings.ToUpper(provider), "MSSQL") {
			return CategorySQLServer
		}
	}
	return CategoryOther
}

// Severity ranks findings, like slog.Level: a higher value is more severe.
type Severity int

// Severities, from the least to the most severe.
const (
	SeverityInformational Severity = iota
	SeverityLow
	SeverityMedium
	SeverityHigh
	SeverityCritical
)

var severityNames = [...]string{"informational", "low", "medium", "high", "critical"}

// Severities lists every severity from the most severe down, the order
// the report counts them in.
var Severities = []Severity{SeverityCritical, SeverityHigh, SeverityMedium, SeverityLow, SeverityInformational}

func (s Severity) String() string {
	if s < 0 || int(s) >= len(severityNames) {
		return fmt.Sprintf("severity(%d)", int(s))
	}
	return severityNames[s]
}

// ParseSeverity reads a severity's name as String writes it.
func ParseSeverity(name string) (Severity, bool) {
	for i, n := range severityNames {
		if n == name {
			return Severity(i), true
		}
	}
	return SeverityInformational, false
}

// Technique is a MITRE ATT&CK technique or sub-technique.
type Technique struct {
	ID, Name, Tactic string
}

// techniques is every technique a finding may name, as its technique or a
// related one, with the name ATT&CK gives it (sub-techniques with their
// parent's name first) and the tactic the finding files it under.
var techniques = func() map[string]Technique {
	m := map[string]Technique{}
	for _, t := range []Technique{
		{"T1003", "OS Credential Dumping", "Credential Access"},
		{"T1003.001", "OS Credential Dumping: LSASS Memory", "Credential Access"},
		{"T1016", "System Network Configuration Discovery", "Discovery"},
		{"T1021.002", "Remote Services: SMB/Windows Admin Shares", "Lateral Movement"},
		{"T1021.004", "Remote Services: SSH", "Lateral Movement"},
		{"T1021.006", "Remote Services: Windows Remote Management", "Lateral Movement"},
		{"T1027", "Obfuscated Files or Information", "Defense Evasion"},
		{"T1027.004", "Obfuscated Files or Information: Compile After Delivery", "Defense Evasion"},
		{"T1027.010", "Obfuscated Files or Information: Command Obfuscation", "Defense Evasion"},
		{"T1033", "System Owner/User Discovery", "Discovery"},
		{"T1036.005", "Masquerading: Match Legitimate Name or Location", "Defense Evasion"},
		{"T1047", "Windows Management Instrumentation", "Execution"},
		{"T1049", "System Network Connections Discovery", "Discovery"},
		{"T1053.005", "Scheduled Task/Job: Scheduled Task", "Execution"},
		{"T1055", "Process Injection", "Defense Evasion"},
		{"T1057", "Process Discovery", "Discovery"},
		{"T1059", "Command and Scripting Interpreter", "Execution"},
		{"T1059.001", "Command and Scripting Interpreter: PowerShell", "Execution"},
		{"T1059.003", "Command and Scripting Interpreter: Windows Command Shell", "Execution"},
		{"T1059.004", "Command and Scripting Interpreter: Unix Shell", "Execution"},
		{"T1059.005", "Command and Scripting Interpreter: Visual Basic", "Execution"},
		{"T1059.006", "Command and Scripting Interpreter: Python", "Execution"},
		{"T1059.007", "Command and Scripting Interpreter: JavaScript", "Execution"},
		{"T1059.010", "Command and Scripting Interpreter: AutoHotKey & AutoIT", "Execution"},
		{"T1059.011", "Command and Scripting Interpreter: Lua", "Execution"},
		{"T1069.001", "Permission Groups Discovery: Local Groups", "Discovery"},
		{"T1069.002", "Permission Groups Discovery: Domain Groups", "Discovery"},
		{"T1070.001", "Indicator Removal: Clear Windows Event Logs", "Defense Evasion"},
		{"T1082", "System Information Discovery", "Discovery"},
		{"T1087", "Account Discovery", "Discovery"},
		{"T1087.001", "Account Discovery: Local Account", "Discovery"},
		{"T1087.002", "Account Discovery: Domain Account", "Discovery"},
		{"T1095", "Non-Application Layer Protocol", "Command and Control"},
		{"T1098", "Account Manipulation", "Persistence"},
		{"T1105", "Ingress Tool Transfer", "Command and Control"},
		{"T1112", "Modify Registry", "Defense Evasion"},
		{"T1134.001", "Access Token Manipulation: Token Impersonation/Theft", "Privilege Escalation"},
		{"T1135", "Network Share Discovery", "Discovery"},
		{"T1136", "Create Account", "Persistence"},
		{"T1140", "Deobfuscate/Decode Files or Information", "Defense Evasion"},
		{"T1190", "Exploit Public-Facing Application", "Initial Access"},
		{"T1202", "Indirect Command Execution", "Defense Evasion"},
		{"T1218.001", "System Binary Proxy Execution: Compiled HTML File", "Defense Evasion"},
		{"T1218.005", "System Binary Proxy Execution: Mshta", "Defense Evasion"},
		{"T1218.010", "System Binary Proxy Execution: Regsvr32", "Defense Evasion"},
		{"T1218.011", "System Binary Proxy Execution: Rundll32", "Defense Evasion"},
		{"T1482", "Domain Trust Discovery", "Discovery"},
		{"T1490", "Inhibit System Recovery", "Impact"},
		{"T1505.001", "Server Software Component: SQL Stored Procedures", "Persistence"},
		{"T1543.003", "Create or Modify System Process: Windows Service", "Persistence"},
		{"T1546.003", "Event Triggered Execution: Windows Management Instrumentation Event Subscription", "Persistence"},
		{"T1546.008", "Event Triggered Execution: Accessibility Features", "Persistence"},
		{"T1547.001", "Boot or Logon Autostart Execution: Registry Run Keys / Startup Folder", "Persistence"},
		{"T1548.002", "Abuse Elevation Control Mechanism: Bypass User Account Control", "Privilege Escalation"},
		{"T1557.001", "Adversary-in-the-Middle: LLMNR/NBT-NS Poisoning and SMB Relay", "Credential Access"},
		{"T1558.003", "Steal or Forge Kerberos Tickets: Kerberoasting", "Credential Access"},
		{"T1562.001", "Impair Defenses: Disable or Modify Tools", "Defense Evasion"},
		{"T1562.004", "Impair Defenses: Disable or Modify System Firewall", "Defense Evasion"},
		{"T1562.010", "Impair Defenses: Downgrade Attack", "Defense Evasion"},
		{"T1563.002", "Remote Service Session Hijacking: RDP Hijacking", "Lateral Movement"},
		{"T1564.004", "Hide Artifacts: NTFS File Attributes", "Defense Evasion"},
		{"T1569.002", "System Services: Service Execution", "Execution"},
		{"T1620", "Reflective Code Loading", "Defense Evasion"},
	} {
		m[t.ID] = t
	}
	return m
}()

// LookupTechnique returns the technique with the given id.
func LookupTechnique(id string) (Technique, bool) {
	t, ok := techniques[id]
	return t, ok
}

// MustTechnique returns the technique with the given id, for the analyzers'
// own tables: an id missing from the table is a programming error.
func MustTechnique(id string) Technique {
	t, ok := techniques[id]
	if !ok {
		panic("timeline: technique " + id + " is not in the vocabulary")
	}
	return t
}

// ShortTechniqueName is a technique's name without its parent's, as a
// table of sub-techniques lists it ("PowerShell" for T1059.001).
func ShortTechniqueName(id string) string {
	name := techniques[id].Name
	if i := strings.Index(name, ": "); i >= 0 && strings.Contains(id, ".") {
		return name[i+2:]
	}
	return name
}

// Interpreter is a program that runs commands or scripts, with the T1059
// sub-technique its use falls under.
type Interpreter struct {
	Image     string // lowercase file name
	Technique string // ATT&CK id
}

// Interpreters is every interpreter the analyzers watch, by image name.
var Interpreters = []Interpreter{
	{"powershell.exe", "T1059.001"}, {"pwsh.exe", "T1059.001"}, {"powershell_ise.exe", "T1059.001"},
	{"cmd.exe", "T1059.003"},
	{"bash.exe", "T1059.004"}, {"wsl.exe", "T1059.004"}, {"sh.exe", "T1059.004"},
	{"wscript.exe", "T1059.005"}, {"cscript.exe", "T1059.005"},
	{"python.exe", "T1059.006"}, {"pythonw.exe", "T1059.006"}, {"py.exe", "T1059.006"},
	{"mshta.exe", "T1059.007"}, {"node.exe", "T1059.007"},
	{"autoit3.exe", "T1059.010"}, {"autohotkey.exe", "T1059.010"}, {"autohotkeyu64.exe", "T1059.010"},
	{"lua.exe", "T1059.011"}, {"luajit.exe", "T1059.011"}, {"wlua.exe", "T1059.011"},
	{"java.exe", "T1059"}, {"javaw.exe", "T1059"}, {"perl.exe", "T1059"}, {"ruby.exe", "T1059"}, {"rubyw.exe", "T1059"},
	{"wmic.exe", "T1059"},
}

var interpreterByImage = func() map[string]Interpreter {
	m := make(map[string]Interpreter, len(Interpreters))
	for _, i := range Interpreters {
		m[i.Image] = i
	}
	return m
}()

// InterpreterOf returns the interpreter whose image is the file name of
// path (a Windows or prefetch volume path, any case).
func InterpreterOf(path string) (Interpreter, bool) {
	i, ok := interpreterByImage[strings.ToLower(path[strings.LastIndexAny(path, `\/`)+1:])]
	return i, ok
}
