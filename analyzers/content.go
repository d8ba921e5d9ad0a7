package analyzers

import (
	"sort"
	"strings"

	"triage/timeline"
)

// contentRule recognizes a technique inside a command line, script or batch
// file. These are the techniques that show up inside interpreter content.
type contentRule struct {
	name      string
	technique Technique
	severity  timeline.Severity
	re        *lazyRegexp
	keywords  []string // lowercase literals one of which any match contains: a cheap test before the regexp
}

var (
	tDownload   = timeline.MustTechnique("T1105")
	tObfuscated = timeline.MustTechnique("T1027")
	tLogClear   = timeline.MustTechnique("T1070.001")
	tRecovery   = timeline.MustTechnique("T1490")
	tDisableSec = timeline.MustTechnique("T1562.001")
	tDowngrade  = timeline.MustTechnique("T1562.010")
	tAccount    = timeline.MustTechnique("T1136")
	tRunKey     = timeline.MustTechnique("T1547.001")
	tSchTask    = timeline.MustTechnique("T1053.005")
	tRawC2      = timeline.MustTechnique("T1095")
)

// contentRules is ordered from the most to the least telling.
var contentRules = []contentRule{
	{"amsi-bypass", tDisableSec, timeline.SeverityHigh, lazy(`(?i)amsiutils|amsiinitfailed|amsiscanbuffer|amsicontext|\[ref\]\.assembly\.gettype\(.{0,40}amsi`), []string{"amsi"}},
	{"logging-bypass", tDisableSec, timeline.SeverityHigh, lazy(`(?i)enablescriptblocklogging\W{0,10}(=|,)\s*0|psetwlogprovider|etwprovider.{0,40}m_enabled|historysavestyle\s+savenothing`), []string{"scriptblocklogging", "etwprovider", "psetwlogprovider", "historysavestyle"}},
	{"security-tool-tampering", tDisableSec, timeline.SeverityHigh, lazy(`(?i)set-mppreference\s+.{0,60}-disable\w*\s+(\$true|1)|add-mppreference\s+.{0,40}-exclusion|disableantispyware|disablerealtimemonitoring\s+(\$true|1)|sc(\.exe)?\s+(stop|delete|config)\s+windefend|reg(\.exe)?"?\s+add\s+.{0,200}(\\|/v\s+"?(num)?)(exclu|exceptions\\|noscandir)`), []string{"mppreference", "disableantispyware", "disablerealtimemonitoring", "windefend", "exclu", "exceptions", "noscandir"}},
	{"shadow-copy-deletion", tRecovery, timeline.SeverityHigh, lazy(`(?i)vssadmin(\.exe)?\s+delete\s+shadows|wmic(\.exe)?\s+shadowcopy\s+delete|wbadmin(\.exe)?\s+delete\s+(catalog|systemstatebackup)|bcdedit(\.exe)?\s+.{0,40}recoveryenabled\s+no|win32_shadowcopy.{0,80}delete`), []string{"shadow", "wbadmin", "bcdedit"}},
	{"event-log-clearing", tLogClear, timeline.SeverityHigh, lazy(`(?i)wevtutil(\.exe)?\s+(cl|clear-log)\b|clear-eventlog|remove-eventlog|\[system\.diagnostics\.eventing\.reader\.eventlogsession\]::globalsession\.clearlog`), []string{"wevtutil", "eventlog", "clearlog"}},
	{"reverse-shell", tRawC2, timeline.SeverityHigh, lazy(`(?i)\bpowercat\b|invoke-powershelltcp|net\.sockets\.tcpclient\s*\(|\bnc(at)?(\.exe)?\s+.{0,80}\s-e\s+"?(cmd|powershell)`), []string{"powercat", "powershelltcp", "tcpclient", "-e"}},
	{"download", tDownload, timeline.SeverityMedium, lazy(`(?i)net\.webclient|downloadstring|downloadfile|downloaddata|invoke-webrequest|\biwr\s|invoke-restmethod|start-bitstransfer|bitsadmin(\.exe)?\s+/(transfer|addfile)|certutil(\.exe)?\s+.{0,40}-urlcache|curl(\.exe)?\s+.{0,200}(-o\b|--output)|\bwget(\.exe)?\s+https?://`), []string{"webclient", "download", "invoke-webrequest", "iwr", "invoke-restmethod", "bitstransfer", "bitsadmin", "urlcache", "curl", "wget"}},
	{"account-creation", tAccount, timeline.SeverityHigh, lazy(`(?i)\bnet1?(\.exe)?\s+user\s+.{1,80}\s/add\b|new-localuser`), []string{"user", "localuser"}},
	{"run-key", tRunKey, timeline.SeverityMedium, lazy(`(?i)currentversion\\run(once)?\b|\\start menu\\programs\\startup\\`), []string{"currentversion\\run", "startup"}},
	{"scheduled-task", tSchTask, timeline.SeverityMedium, lazy(`(?i)schtasks(\.exe)?\s+/create|register-scheduledtask|new-scheduledtask`), []string{"schtasks", "scheduledtask"}},
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
