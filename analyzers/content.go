package analyzers

import (
	"sort"
	"strings"
	"sync"

	"triage/internal/ahocorasick"
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
	tCredDump   = timeline.MustTechnique("T1003")
	tLSASS      = timeline.MustTechnique("T1003.001")
	tKerberoast = timeline.MustTechnique("T1558.003")
	tDomainAcct = timeline.MustTechnique("T1087.002")
	tLocalAcct  = timeline.MustTechnique("T1087.001")
	tLocalGroup = timeline.MustTechnique("T1069.001")
	tDomainGrp  = timeline.MustTechnique("T1069.002")
	tTrust      = timeline.MustTechnique("T1482")
	tService    = timeline.MustTechnique("T1543.003")
	tRegistry   = timeline.MustTechnique("T1112")
	tSSH        = timeline.MustTechnique("T1021.004")
	tFirewall   = timeline.MustTechnique("T1562.004")
	tInjection  = timeline.MustTechnique("T1055")
	tRelay      = timeline.MustTechnique("T1557.001")
	tSMBExec    = timeline.MustTechnique("T1021.002")
	tWMI        = timeline.MustTechnique("T1047")
)

// contentRules is ordered from the most to the least telling.
var contentRules = []contentRule{
	{"amsi-bypass", tDisableSec, timeline.SeverityHigh, lazy(`(?i)amsiutils|amsiinitfailed|amsiscanbuffer|amsicontext|\[ref\]\.assembly\.gettype\(.{0,40}amsi`), []string{"amsi"}},
	{"logging-bypass", tDisableSec, timeline.SeverityHigh, lazy(`(?i)enablescriptblocklogging\W{0,10}(=|,)\s*0|psetwlogprovider|etwprovider.{0,40}m_enabled|historysavestyle\s+savenothing`), []string{"scriptblocklogging", "etwprovider", "psetwlogprovider", "historysavestyle"}},
	{"security-tool-tampering", tDisableSec, timeline.SeverityHigh, lazy(`(?i)set-mppreference\s+.{0,60}-disable\w*\s+(\$?true|1)\b|set-mppreference\s+.{0,60}-\w+\s+disabled?\b|set-mppreference\s+.{0,80}-\w*defaultaction\w*\s+(allow|6|9)\b|(add|set)-mppreference\s+.{0,40}-exclusion|disableantispyware|disablerealtimemonitoring\s+(\$?true|1)\b|sc(\.exe)?\s+(stop|delete|config)\s+windefend|reg(\.exe)?"?\s+add\s+.{0,200}(\\|/v\s+"?(num)?)(exclu|exceptions\\|noscandir)`), []string{"mppreference", "disableantispyware", "disablerealtimemonitoring", "windefend", "exclu", "exceptions", "noscandir"}},
	{"shadow-copy-deletion", tRecovery, timeline.SeverityHigh, lazy(`(?i)vssadmin(\.exe)?\s+delete\s+shadows|wmic(\.exe)?\s+shadowcopy\s+delete|wbadmin(\.exe)?\s+delete\s+(catalog|systemstatebackup)|bcdedit(\.exe)?\s+.{0,40}recoveryenabled\s+no|win32_shadowcopy.{0,80}delete`), []string{"shadow", "wbadmin", "bcdedit"}},
	{"event-log-clearing", tLogClear, timeline.SeverityHigh, lazy(`(?i)wevtutil(\.exe)?\s+(cl|clear-log)\b|clear-eventlog|remove-eventlog|\[system\.diagnostics\.eventing\.reader\.eventlogsession\]::globalsession\.clearlog`), []string{"wevtutil", "eventlog", "clearlog"}},
	{"reverse-shell", tRawC2, timeline.SeverityHigh, lazy(`(?i)\bpowercat\b|invoke-powershelltcp|net\.sockets\.tcpclient\s*\(|\bnc(at|64)?(\.exe)?"?\s+(.{0,80}\s)?-e\s+"?\S*(cmd|powershell|/bin/(ba)?sh)|/dev/tcp/\S+/\d+|socket\.socket\(.{0,200}(subprocess|pty\.spawn|os\.dup2)`), []string{"powercat", "powershelltcp", "tcpclient", "-e", "/dev/tcp/", "socket.socket"}},
	{"credential-theft", tCredDump, timeline.SeverityHigh, lazy(`(?i)invoke-mimikatz|sekurlsa::|lsadump::|kerberos::(golden|ptt)|comsvcs(\.dll)?[", ]+#?\d*\s*,?\s*minidump|minidumpwritedump|out-minidump|get-gpppassword|invoke-ninjacopy|get-remotemachineaccounthash|get-remotelocalaccounthash|get-remotecachedcredential|invoke-powerdump|get-passhashes|invoke-dcsync|procdump(64)?(\.exe)?\s+.{0,40}(-ma\s+)?lsass|reg(\.exe)?\s+save\s+"?hklm\\(sam|security|system)\b`), []string{"mimikatz", "sekurlsa", "lsadump", "kerberos::", "minidump", "gpppassword", "ninjacopy", "hash", "cachedcredential", "powerdump", "dcsync", "procdump", "reg"}},
	{"kerberoasting", tKerberoast, timeline.SeverityHigh, lazy(`(?i)invoke-kerberoast|kerberosrequestorsecuritytoken|get-domainspnticket|request-spnticket|rubeus(\.exe)?\s+kerberoast`), []string{"kerberoast", "kerberosrequestorsecuritytoken", "spnticket"}},
	{"offensive-framework", tInjection, timeline.SeverityHigh, lazy(`(?i)invoke-shellcode|invoke-reflectivepeinjection|invoke-dllinjection|invoke-psinject|invoke-tokenmanipulation|invoke-credentialinjection|get-keystrokes|invoke-allchecks|invoke-empire|invoke-bloodhound|sharphound|add-remoteregbackdoor`), []string{"invoke-", "get-keystrokes", "sharphound", "remoteregbackdoor"}},
	{"relay-tool", tRelay, timeline.SeverityHigh, lazy(`(?i)invoke-inveigh|invoke-smbexec|invoke-wmiexec|invoke-thehash`), []string{"inveigh", "smbexec", "wmiexec", "thehash"}},
	{"firewall-disable", tFirewall, timeline.SeverityHigh, lazy(`(?i)netsh(\.exe)?\s+(firewall\s+set\s+opmode\s+(mode=)?disable|f\w*\s+s\w*\s+o\w*\s+d\w*|a\w*\s+s\w*\s+\w+\s+state\s+off)|set-netfirewallprofile\s+.{0,80}-enabled\s+(false|\$false|0)`), []string{"netsh", "netfirewallprofile"}},
	{"service-persistence", tService, timeline.SeverityMedium, lazy(`(?i)new-service\s+.{0,200}-binarypathname|sc(\.exe)?\s+(create|config)\s+\S+\s+.{0,40}binpath=|set-itemproperty\s+.{0,120}\\services\\[^\\'"]+['"]?\s+.{0,40}(imagepath|failurecommand)|\\services\\[^\\'"]+\\?['"]?\s*/v\s+"?(imagepath|failurecommand)`), []string{"new-service", "sc", "services"}},
	{"remote-access-install", tSSH, timeline.SeverityMedium, lazy(`(?i)add-windowscapability\s+.{0,40}openssh\.server|openssh\.server~~~~|install-sshd\.ps1|new-netfirewallrule\s+.{0,120}localport\s+22\b`), []string{"openssh", "sshd", "localport"}},
	{"ad-discovery", tDomainAcct, timeline.SeverityLow, lazy(`(?i)get-ad(user|group|groupmember|computer|domain|trust|forest|domaincontroller|object)\b|get-net(user|group|groupmember|computer|domain|forest|domaintrust|session|loggedon)\b|get-domain(user|group|computer|trust|controller|groupmember)\b|\[(system\.)?directoryservices\.activedirectory\.(forest|domain)\]|directorysearcher|invoke-userhunter|find-localadminaccess|nltest(\.exe)?\s+/(domain_trusts|dclist|trusted_domains)|dsquery(\.exe)?\s+|adfind(\.exe)?\s|net1?(\.exe)?\s+(group|user)\s+.{0,80}/domain`), []string{"get-ad", "get-net", "get-domain", "directoryservices", "directorysearcher", "userhunter", "localadminaccess", "nltest", "dsquery", "adfind", "/domain"}},
	{"wmi-persistence", timeline.MustTechnique("T1546.003"), timeline.SeverityHigh, lazy(`(?is)(?:set-wmiinstance|new-ciminstance|\.createinstance\(|\[wmiclass\]).{0,400}(?:commandlineeventconsumer|activescripteventconsumer|__filtertoconsumerbinding)|(?:commandlineeventconsumer|activescripteventconsumer|__filtertoconsumerbinding).{0,400}(?:set-wmiinstance|new-ciminstance|\.put\(\))`), []string{"eventconsumer", "filtertoconsumerbinding"}},
	{"group-membership-change", timeline.MustTechnique("T1098"), timeline.SeverityHigh, lazy(`(?i)\bnet1?(\.exe)?\s+(local)?group\s+"?[^"/]+?"?\s+\S+\s+/add\b|add-(local|ad)groupmember\s`), []string{"group", "groupmember"}},
	{"local-discovery", tLocalGroup, timeline.SeverityLow, lazy(`(?i)get-local(groupmember|user|group)\b|net1?(\.exe)?\s+localgroup\s+"?administrators|get-wmiobject\s+(-class\s+)?win32_(useraccount|group)\b`), []string{"get-local", "localgroup", "win32_"}},
	{"payload-reassembly", tObfuscated, timeline.SeverityMedium, lazy(`(?i)get-service\s+.{0,40}-expand\w*\s+displayname.{0,20}out-file\s+-append`), []string{"displayname"}},
	{"download", tDownload, timeline.SeverityMedium, lazy(`(?i)net\.webclient|downloadstring|downloadfile|downloaddata|invoke-webrequest|\biwr\s|invoke-restmethod|start-bitstransfer|bitsadmin(\.exe)?\s+/(transfer|addfile)|certutil(\.exe)?\s+.{0,40}-urlcache|\bcurl(\.exe)?\s+.{0,200}(-o\b|--output|https?://)|\bwget(\.exe)?\s+.{0,40}https?://`), []string{"webclient", "download", "invoke-webrequest", "iwr", "invoke-restmethod", "bitstransfer", "bitsadmin", "urlcache", "curl", "wget"}},
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
	k := contentKeywords()
	candidates := make([]bool, len(contentRules))
	k.auto.FindFolded(text, func(needle int) {
		for _, r := range k.rules[needle] {
			candidates[r] = true
		}
	})
	var out []contentMatch
	for i := range contentRules {
		if !candidates[i] {
			continue
		}
		if m := contentRules[i].re.FindString(text); m != "" {
			out = append(out, contentMatch{&contentRules[i], m})
		}
	}
	return out
}

// contentKeywords are the content rules' keywords in one automaton, with
// the rules each is a keyword of: one pass over a text finds the rules
// worth their expression, where a search per keyword (a hundred of them)
// read a 10 KB script a hundred times, 250 µs a script.
var contentKeywords = sync.OnceValue(func() (k struct {
	auto  *ahocorasick.Automaton
	rules [][]int // per needle, the rules it is a keyword of
}) {
	index := map[string]int{}
	var needles []string
	for r, rule := range contentRules {
		for _, w := range rule.keywords {
			n, ok := index[w]
			if !ok {
				n = len(needles)
				index[w] = n
				needles = append(needles, w)
				k.rules = append(k.rules, nil)
			}
			k.rules[n] = append(k.rules[n], r)
		}
	}
	k.auto = ahocorasick.New(needles)
	return k
})

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
