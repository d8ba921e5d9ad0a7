package analyzers

import (
	"sort"
	"strings"
)

// contentRule recognizes a technique inside a command line, script or batch
// file. These are the techniques that show up inside interpreter content.
type contentRule struct {
	name      string
	technique Technique
	severity  string
	re        *lazyRegexp
	keywords  []string // lowercase literals one of which any match contains: a cheap test before the regexp
}

var (
	tDownload   = Technique{"T1105", "Ingress Tool Transfer", "Command and Control"}
	tObfuscated = Technique{"T1027", "Obfuscated Files or Information", "Defense Evasion"}
	tLogClear   = Technique{"T1070.001", "Indicator Removal: Clear Windows Event Logs", "Defense Evasion"}
	tRecovery   = Technique{"T1490", "Inhibit System Recovery", "Impact"}
	tDisableSec = Technique{"T1562.001", "Impair Defenses: Disable or Modify Tools", "Defense Evasion"}
	tDowngrade  = Technique{"T1562.010", "Impair Defenses: Downgrade Attack", "Defense Evasion"}
	tAccount    = Technique{"T1136", "Create Account", "Persistence"}
	tRunKey     = Technique{"T1547.001", "Boot or Logon Autostart Execution: Registry Run Keys / Startup Folder", "Persistence"}
	tSchTask    = Technique{"T1053.005", "Scheduled Task/Job: Scheduled Task", "Execution"}
	tRawC2      = Technique{"T1095", "Non-Application Layer Protocol", "Command and Control"}
)

// contentRules is ordered from the most to the least telling.
var contentRules = []contentRule{
	{"amsi-bypass", tDisableSec, "high", lazy(`(?i)amsiutils|amsiinitfailed|amsiscanbuffer|amsicontext|\[ref\]\.assembly\.gettype\(.{0,40}amsi`), []string{"amsi"}},
	{"logging-bypass", tDisableSec, "high", lazy(`(?i)enablescriptblocklogging\W{0,10}(=|,)\s*0|psetwlogprovider|etwprovider.{0,40}m_enabled|historysavestyle\s+savenothing`), []string{"scriptblocklogging", "etwprovider", "psetwlogprovider", "historysavestyle"}},
	{"security-tool-tampering", tDisableSec, "high", lazy(`(?i)set-mppreference\s+.{0,60}-disable\w*\s+(\$true|1)|add-mppreference\s+.{0,40}-exclusion|disableantispyware|disablerealtimemonitoring\s+(\$true|1)|sc(\.exe)?\s+(stop|delete|config)\s+windefend|reg(\.exe)?"?\s+add\s+.{0,200}(\\|/v\s+"?(num)?)(exclu|exceptions\\|noscandir)`), []string{"mppreference", "disableantispyware", "disablerealtimemonitoring", "windefend", "exclu", "exceptions", "noscandir"}},
	{"shadow-copy-deletion", tRecovery, "high", lazy(`(?i)vssadmin(\.exe)?\s+delete\s+shadows|wmic(\.exe)?\s+shadowcopy\s+delete|wbadmin(\.exe)?\s+delete\s+(catalog|systemstatebackup)|bcdedit(\.exe)?\s+.{0,40}recoveryenabled\s+no|win32_shadowcopy.{0,80}delete`), []string{"shadow", "wbadmin", "bcdedit"}},
	{"event-log-clearing", tLogClear, "high", lazy(`(?i)wevtutil(\.exe)?\s+(cl|clear-log)\b|clear-eventlog|remove-eventlog|\[system\.diagnostics\.eventing\.reader\.eventlogsession\]::globalsession\.clearlog`), []string{"wevtutil", "eventlog", "clearlog"}},
	{"reverse-shell", tRawC2, "high", lazy(`(?i)\bpowercat\b|invoke-powershelltcp|net\.sockets\.tcpclient\s*\(|\bnc(at)?(\.exe)?\s+.{0,80}\s-e\s+"?(cmd|powershell)`), []string{"powercat", "powershelltcp", "tcpclient", "-e"}},
	{"download", tDownload, "medium", lazy(`(?i)net\.webclient|downloadstring|downloadfile|downloaddata|invoke-webrequest|\biwr\s|invoke-restmethod|start-bitstransfer|bitsadmin(\.exe)?\s+/(transfer|addfile)|certutil(\.exe)?\s+.{0,40}-urlcache|curl(\.exe)?\s+.{0,200}(-o\b|--output)|\bwget(\.exe)?\s+https?://`), []string{"webclient", "download", "invoke-webrequest", "iwr", "invoke-restmethod", "bitstransfer", "bitsadmin", "urlcache", "curl", "wget"}},
	{"account-creation", tAccount, "high", lazy(`(?i)\bnet1?(\.exe)?\s+user\s+.{1,80}\s/add\b|new-localuser`), []string{"user", "localuser"}},
	{"run-key", tRunKey, "medium", lazy(`(?i)currentversion\\run(once)?\b|\\start menu\\programs\\startup\\`), []string{"currentversion\\run", "startup"}},
	{"scheduled-task", tSchTask, "medium", lazy(`(?i)schtasks(\.exe)?\s+/create|register-scheduledtask|new-scheduledtask`), []string{"schtasks", "scheduledtask"}},
}

// contentMatch is one rule that matched, with the text it matched.
type contentMatch struct {
	rule    *contentRule
	matched string
}

func matchContent(text string) []contentMatch {
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

// related lists the techniques of the matches, sorted and unique.
func related(ms []contentMatch, extra ...string) []string {
	seen := map[string]bool{}
	for _, m := range ms {
		seen[m.rule.technique.ID] = true
	}
	for _, id := range extra {
		seen[id] = true
	}
	out := make([]string, 0, len(seen))
	for id := range seen {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

var severityRank = map[string]int{"informational": 0, "low": 1, "medium": 2, "high": 3, "critical": 4}

func maxSeverity(a, b string) string {
	if severityRank[b] > severityRank[a] {
		return b
	}
	return a
}

// ruleNames joins the names of the matched rules for a finding's title.
func ruleNames(ms []contentMatch) string {
	names := make([]string, len(ms))
	for i, m := range ms {
		names[i] = m.rule.name
	}
	return strings.Join(names, ", ")
}

// userWritable reports whether a Windows path lies where any user can
// write, the usual place for dropped scripts.
func userWritable(p string) bool {
	p = strings.ToLower(strings.ReplaceAll(p, "/", `\`))
	for _, part := range []string{`\temp\`, `\tmp\`, `\appdata\`, `\downloads\`, `\users\public\`, `\programdata\`, `$recycle.bin`, `\desktop\`} {
		if strings.Contains(p, part) {
			return true
		}
	}
	return false
}

func containsAny(s string, words []string) bool {
	for _, w := range words {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}
