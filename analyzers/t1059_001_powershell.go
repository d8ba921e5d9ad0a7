package analyzers

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"triage/timeline"
)

var tPowerShell = timeline.MustTechnique("T1059.001")

// powerShell finds PowerShell abuse in process command lines, the
// PowerShell logs, reassembled script blocks, PSReadLine history, prefetch
// and image loads.
type powerShell struct{}

var _ Analyzer = (*powerShell)(nil)

func (*powerShell) Meta() Meta {
	return Meta{
		ID: "t1059.001-powershell", Technique: tPowerShell, Severity: timeline.SeverityHigh,
		Description: "Encoded commands, download cradles, AMSI and logging bypasses, stealth flags, obfuscation " +
			"scored on reassembled scripts, engine downgrades, remoting and unmanaged PowerShell.",
		References: []string{"https://attack.mitre.org/techniques/T1059/001/"},
	}
}

var (
	encodedFlag  = lazy(`(?i)(?:^|\s)` + psDash + `(?:ec|` + abbreviations("encodedcommand", 1) + `)\s+["']?([A-Za-z0-9+/=]{16,})`)
	stealthFlags = []struct {
		name string
		re   *lazyRegexp
	}{
		{"-nop", lazy(`(?i)(?:^|\s)` + psDash + abbreviations("noprofile", 3) + `\b`)},
		{"-w hidden", lazy(`(?i)(?:^|\s)` + psDash + abbreviations("windowstyle", 1) + `\s+(?:hidden|1)\b`)},
		{"-noni", lazy(`(?i)(?:^|\s)` + psDash + abbreviations("noninteractive", 4) + `\b`)},
		{"-ep bypass", lazy(`(?i)(?:^|\s)` + psDash + `(?:ep|` + abbreviations("executionpolicy", 2) + `)\s+(?:bypass|unrestricted)\b`)},
	}
	iex = lazy(`(?i)\biex\b|invoke-expression|\|\s*&\s*\(|\$env:comspec\s*\[\s*4\s*,|\$pshome\s*\[\s*\d+\s*\]\s*\+\s*\$pshome|&\s*\(\s*(?:gcm|get-command)\s+['"]?\*?i\??\*?e?\??\*?x`)

	inlinePayload = lazy(`(?i)frombase64string\(\s*['"]([A-Za-z0-9+/=]{20,})['"]`)
	runsPayload   = lazy(`(?i)gzipstream|deflatestream|\biex\b|invoke-expression|scriptblock\]::create|::load\(`)

	userScript = lazy(`(?i)[a-z]:\\[^"';|]*\.ps1`)
	namedPipe  = lazy(`(?i)system\.io\.pipes\.namedpipe(server|client)stream`)

	psConcat    = lazy(`['"]\s*\+\s*['"]`)
	psFormat    = lazy(`(?i)['"]\s*-f\s*['"(]|\{\d+\}\{\d+\}`)
	psCharCodes = lazy(`(?i)\[char\]\s*\d+|\[char\[\]\]`)
)

// psDash is what PowerShell accepts before a parameter name: the hyphen,
// the slash, and the en, em and horizontal-bar dashes, which attackers use
// to slip past rules that look for "-enc".
const psDash = `[-/\x{2013}\x{2014}\x{2015}]`

// abbreviations gives a regexp for every prefix of word at least min long:
// PowerShell takes any unambiguous abbreviation of a parameter.
func abbreviations(word string, min int) string {
	tail := ""
	for i := len(word) - 1; i >= min; i-- {
		tail = "(?:" + word[i:i+1] + tail + ")?"
	}
	return word[:min] + tail
}

func isPowerShell(p string) bool {
	switch base(p) {
	case "powershell.exe", "pwsh.exe", "powershell_ise.exe":
		return true
	}
	return false
}

func (a *powerShell) Analyze(ctx context.Context, in *Input) ([]Finding, error) {
	var out []Finding
	logged := in.merged(slices.Concat(in.kindCursors(timeline.SourceHistory, nil, ""),
		in.kindCursors(timeline.SourceEVTX, []int{400, 800}, `+provider='`+timeline.ProviderClassicPS+`'`),
		in.kindCursors(timeline.SourceEVTX, []int{4103}, `+provider='`+timeline.ProviderPowerShell+`'`)))
	starts := in.startsOf(func(image string) bool {
		return strings.Contains(image, "powershell") || strings.Contains(image, "pwsh")
	})
	for e := range concat(starts, logged) {
		fs := commandLineFindings(e)
		if e.Source == timeline.SourceHistory {
			for i := range fs {
				historyTimeIsUpperBound(&fs[i])
			}
		}
		out = append(out, fs...)
		out = append(out, engineFindings(e)...)
	}
	// One finding per script block: a long block is logged in many parts,
	// each at Warning level, and is one script.
	block := map[string]int{} // host and script block id → index in out
	for e := range in.eventsOf(timeline.SourceEVTX, []int{4104}, `+provider='`+timeline.ProviderPowerShell+`' AND +level=3`) {
		key := e.Host + "\x00" + e.ScriptBlockID
		if j, ok := block[key]; ok && e.ScriptBlockID != "" {
			f := &out[j]
			f.cite(e)
			f.Features["parts_logged"] = toInt(f.Features["parts_logged"]) + 1
			if e.Field("MessageNumber") == "1" {
				f.Matched = clip(e.Field("ScriptBlockText"), 400)
			}
			continue
		}
		severity, why := warnedBlockSeverity(e.Field("Path"), e.Field("ScriptBlockText"))
		f := cited(e, Finding{Technique: tPowerShell, Severity: severity, Confidence: "medium",
			Title: "Script block Windows logged as suspicious (4104 Warning)",
			Rule: "PowerShell logs a script block at Warning level when its own list of suspicious terms matches it; " + why +
				" A block logged in several parts is one finding citing each part; what the block does is judged on the reassembled script.",
			Matched:  clip(e.Field("ScriptBlockText"), 400),
			Features: map[string]any{"parts_logged": 1, "parts_total": e.Field("MessageTotal"), "script_block_id": e.ScriptBlockID}})
		if p := e.Field("Path"); p != "" {
			f.Title += ": " + p
		}
		block[key] = len(out)
		out = append(out, f)
	}
	for s := range in.scripts() {
		out = append(out, scriptFindings(*s)...)
	}
	if in.err != nil {
		return nil, in.err
	}
	unmanaged, err := unmanagedPowerShell(ctx, in)
	if err != nil {
		return nil, err
	}
	out = append(out, unmanaged...)
	lsass, err := lsassAccess(ctx, in)
	if err != nil {
		return nil, err
	}
	out = append(out, lsass...)
	policy, err := policyChanges(ctx, in)
	if err != nil {
		return nil, err
	}
	out = append(out, policy...)
	remote, err := winRMShells(ctx, in)
	if err != nil {
		return nil, err
	}
	out = append(out, remote...)
	return append(out, compiledCode(in)...), nil
}

// historyTimeIsUpperBound says, in a finding from a PSReadLine history
// line, that its time is the history file's modification time: the file
// keeps no time per line, so the command ran at that time or before it.
func historyTimeIsUpperBound(f *Finding) {
	f.Title += " (PSReadLine history, run at or before " + f.TS.UTC().Format("2006-01-02 15:04:05") + " UTC)"
	f.Rule += " PSReadLine keeps no time per line: the time given is when the history file was last written, an upper bound for when the command ran, not the time it ran."
	if f.Features == nil {
		f.Features = map[string]any{}
	}
	f.Features["time_is_upper_bound"] = true
}

// vendorScriptPlaces hold scripts that package managers, Windows and
// signed vendor modules install; PowerShell's Warning flag fires on their
// ordinary use of Add-Type, reflection or encoding.
var vendorScriptPlaces = []string{`\chocolatey\`, `\posh-git\`, `\windowspowershell\modules\`, `\powershell\modules\`,
	`\windows\diagnostics\`, `\windows	emp\sdiag_`, `\program files\`, `\program files (x86)\`, `\windows\system32\`, `\windows\syswow64\`}

// vendorScriptMarks are texts of generated or signed vendor scripts: CDXML
// CIM modules and Authenticode signature blocks.
var vendorScriptMarks = []string{"microsoft.powershell.cmdletization", "# sig # begin signature block", "$cmdletizationclass"}

// adminOnlyPlaces are the vendor places only administrators can write to.
var adminOnlyPlaces = []string{`\program files\`, `\program files (x86)\`, `\windows\system32\`, `\windows\syswow64\`,
	`\windows\diagnostics\`, `\programdata\chocolatey\`}

// installedVendorScript reports whether a script block is a vendor's: from
// a place only administrators write to, or signed or generated. A module
// folder in the user's documents is not enough, since anyone can drop one.
func installedVendorScript(path, text string) bool {
	head := strings.ToLower(text[:min(len(text), 4096)])
	tail := strings.ToLower(text[max(0, len(text)-4096):])
	return containsAny(strings.ToLower(path), adminOnlyPlaces) || containsAny(head, vendorScriptMarks) || containsAny(tail, vendorScriptMarks)
}

// warnedBlockSeverity rates a script block Windows flagged at Warning
// level by where it comes from: the flag fires on vendor modules and
// package-manager scripts every day, so the flag alone is low, a vendor
// script informational, and a script from a user-writable folder medium.
func warnedBlockSeverity(path, text string) (timeline.Severity, string) {
	lowerPath := strings.ToLower(path)
	head := strings.ToLower(text[:min(len(text), 4096)])
	tail := strings.ToLower(text[max(0, len(text)-4096):])
	switch {
	case containsAny(lowerPath, vendorScriptPlaces) || containsAny(head, vendorScriptMarks) || containsAny(tail, vendorScriptMarks):
		return timeline.SeverityInformational, "the block is a signed, generated or package-manager script from an installed place, which the flag often marks."
	case path != "" && userWritable(path):
		return timeline.SeverityMedium, "the script lies in a folder any user can write to."
	}
	return timeline.SeverityLow, "the flag alone, without a finding on the content, is weak evidence."
}

// lsassAccess finds PowerShell opening the memory of lsass.exe (Sysmon 10),
// which is how in-memory credential dumpers such as Invoke-Mimikatz read
// passwords and hashes.
func lsassAccess(ctx context.Context, in *Input) ([]Finding, error) {
	var out []Finding
	for e := range in.eventsOf(timeline.SourceEVTX, []int{10}, `+provider='`+timeline.ProviderSysmon+`' AND +data LIKE '%lsass.exe%'`) {
		source := e.Field("SourceImage")
		if !isPowerShell(source) || base(e.Field("TargetImage")) != "lsass.exe" {
			continue
		}
		trace := e.Field("CallTrace")
		f := cited(e, Finding{Technique: tPowerShell, Related: []string{"T1003.001"}, Severity: timeline.SeverityHigh, Confidence: "high",
			Title:    "PowerShell opened the memory of lsass.exe",
			Rule:     "PowerShell asked for access to lsass.exe (Sysmon 10), the process that holds logon credentials; in-memory dumpers such as Invoke-Mimikatz do this.",
			Matched:  fmt.Sprintf("%s → %s, access %s", source, e.Field("TargetImage"), e.Field("GrantedAccess")),
			Features: map[string]any{"GrantedAccess": e.Field("GrantedAccess"), "call_trace_unknown_module": strings.Contains(trace, "UNKNOWN(")}})
		if strings.Contains(trace, "UNKNOWN(") {
			f.Rule += " The call came from code in no module on disk (UNKNOWN in the call trace): code loaded in memory."
		}
		f.keys["image:"+base(source)] = true
		out = append(out, f)
	}
	return out, nil
}

// commandLineFindings judges one PowerShell command line or history line.
func commandLineFindings(e *Event) []Finding {
	cmd := e.CommandLine
	if e.EventID == 4103 && e.Source == "evtx" {
		// The pipeline's commands are in Payload; the command line is the host.
		cmd = e.Field("Payload")
		if rebuilt := pipelineAsCommands(cmd); rebuilt != "" {
			cmd = rebuilt
		}
	}
	if cmd == "" {
		return nil
	}
	var out []Finding
	script := userScript.FindString(cmd)
	newFinding := func() Finding {
		f := cited(e, Finding{Technique: tPowerShell, Confidence: "high"})
		if script != "" {
			f.keys["file:"+base(script)] = true
		}
		return f
	}
	if m := encodedFlag.FindStringSubmatch(cmd); m != nil {
		if decoded, ok := decodeUTF16Base64(m[1]); ok {
			ms := matchContent(decoded)
			f := newFinding()
			f.Severity, f.Title = timeline.SeverityHigh, "PowerShell -EncodedCommand"
			f.Rule = "The command line passes a base64 UTF-16LE script with -EncodedCommand (or an abbreviation), hiding what runs from casual review."
			f.Matched, f.Decoded = cmd, decoded
			f.Related = related(ms, tObfuscated.ID)
			if len(ms) > 0 {
				f.Title += ": " + ruleNames(ms)
			}
			out = append(out, f)
		}
	}
	if m := inlinePayload.FindStringSubmatch(cmd); m != nil && runsPayload.MatchString(cmd) {
		f := newFinding()
		f.Severity, f.Title = timeline.SeverityHigh, "PowerShell runs an embedded base64 payload"
		f.Rule = "The command decodes a base64 blob with FromBase64String and runs or decompresses it in memory, as Metasploit and Cobalt Strike stagers do."
		f.Matched, f.Related = cmd, []string{tObfuscated.ID}
		if decoded, ok := decodePayload(m[1]); ok {
			f.Decoded = decoded
			f.Related = related(matchContent(decoded), tObfuscated.ID)
		}
		out = append(out, f)
	}
	if f, ok := parentFinding(e, tPowerShell, "PowerShell"); ok && isPowerShell(e.Process) {
		if script != "" {
			f.keys["file:"+base(script)] = true
		}
		out = append(out, f)
	}
	if namedPipe.MatchString(cmd) {
		f := newFinding()
		f.Severity, f.Title = timeline.SeverityMedium, "PowerShell opens a named-pipe channel"
		f.Rule = "The command creates a named-pipe server or client stream, which pipe-based shells use to take commands."
		f.Matched = cmd
		out = append(out, f)
	}
	if score, features := obfuscationScore(cmd); score >= 40 && len(cmd) >= 20 {
		f := newFinding()
		f.Severity, f.Confidence, f.Score, f.Features = timeline.SeverityMedium, "medium", score, features
		f.Title = fmt.Sprintf("Obfuscated PowerShell command (score %d/100)", score)
		f.Rule = "The command scores high on obfuscation features: backticks, concatenation and format operators, char codes, random case and entropy."
		f.Matched, f.Related = cmd, []string{tObfuscated.ID}
		out = append(out, f)
	}
	var flags []string
	for _, fl := range stealthFlags {
		if fl.re.MatchString(cmd) {
			flags = append(flags, fl.name)
		}
	}
	ms := matchContent(cmd)
	hasIEX := iex.MatchString(withoutEscapes(cmd))
	if len(ms) > 0 {
		f := newFinding()
		f.Severity = timeline.SeverityInformational
		for _, m := range ms {
			f.Severity = max(f.Severity, m.rule.severity)
		}
		if hasIEX {
			f.Severity = timeline.SeverityHigh
			if m := knownInstaller.FindString(cmd); m != "" {
				f.Severity = timeline.SeverityMedium
				f.Rule += fmt.Sprintf(" It downloads and runs %s, the published installer of a package manager or runtime: medium, as administrators run it; check who did.", m)
			}
		}
		f.Title = "PowerShell " + ruleNames(ms)
		f.Rule = fmt.Sprintf("The command line contains %s (%s).", ruleNames(ms), describeMatches(ms))
		f.Matched, f.Related = cmd, related(ms)
		f.Features = map[string]any{"iex": hasIEX, "flags": flags}
		out = append(out, f)
	} else if hasIEX {
		// MITRE's analytic names IEX alone: text run as code.
		f := newFinding()
		f.Severity, f.Title = timeline.SeverityMedium, "PowerShell Invoke-Expression"
		f.Rule = "The command runs text as code with Invoke-Expression (IEX)."
		f.Matched, f.Features = cmd, map[string]any{"flags": flags}
		out = append(out, f)
	}
	out = append(out, powerShellLaunchTraits(e, cmd, newFinding)...)
	if script != "" && userWritable(script) && hasFlag(flags, "-ep bypass") && len(out) == 0 {
		f := newFinding()
		f.Severity, f.Title = timeline.SeverityMedium, "PowerShell bypasses the execution policy to run "+base(script)
		f.Rule = "-ExecutionPolicy Bypass with a script from a folder any user can write to (Temp, AppData, Downloads, Public, ProgramData, C:\\TMP): how dropped scripts are run."
		f.Matched, f.Features = cmd, map[string]any{"flags": flags, "script": script}
		out = append(out, f)
	}
	if len(flags) >= 2 && len(out) == 0 {
		f := newFinding()
		f.Severity, f.Confidence, f.Title = timeline.SeverityMedium, "medium", "PowerShell started with stealth flags: "+strings.Join(flags, " ")
		f.Rule = "Two or more of -NoProfile, -WindowStyle Hidden, -NonInteractive and -ExecutionPolicy Bypass: how droppers start PowerShell."
		f.Matched, f.Features = cmd, map[string]any{"flags": flags}
		out = append(out, f)
	}
	return out
}

func describeMatches(ms []contentMatch) string {
	parts := make([]string, len(ms))
	for i, m := range ms {
		parts[i] = fmt.Sprintf("%s → %s %q", m.rule.name, m.rule.technique.ID, clip(m.matched, 80))
	}
	return strings.Join(parts, "; ")
}

// engineFindings reads the classic Windows PowerShell log: engine version
// 2 means a downgrade past script block logging and AMSI; ServerRemoteHost
// means a remoting session.
func engineFindings(e *Event) []Finding {
	if e.Source != "evtx" || e.EventID != 400 {
		return nil
	}
	var out []Finding
	if v := e.Field("EngineVersion"); strings.HasPrefix(v, "2.") {
		f := cited(e, Finding{Technique: tPowerShell, Related: []string{tDowngrade.ID},
			Severity: timeline.SeverityHigh, Confidence: "high", Title: "PowerShell engine downgraded to version " + v,
			Rule:    "Event 400 shows the 2.0 engine starting; it predates script block logging and AMSI, so attackers request it with -Version 2.",
			Matched: e.Field("HostApplication"), Features: map[string]any{"EngineVersion": v}})
		out = append(out, f)
	}
	if h := e.Field("HostName"); timeline.RemoteSession(h, e.Field("HostApplication")) || e.image() == "wsmprovhost.exe" {
		f := cited(e, Finding{Technique: tPowerShell, Severity: timeline.SeverityMedium, Confidence: "high",
			Title:   "PowerShell remoting session (ServerRemoteHost)",
			Rule:    "Event 400 with HostName ServerRemoteHost: commands were run on this host from another one over WinRM.",
			Matched: e.Field("HostApplication"), Features: map[string]any{"HostName": h}})
		out = append(out, f)
	}
	return out
}

// scriptFindings judges a reassembled script: content rules and the
// obfuscation score are computed on the whole text, not on fragments.
func scriptFindings(s Script) []Finding {
	var out []Finding
	score, features := obfuscationScore(s.Text)
	ms := matchContent(s.Text)
	newFinding := func() Finding {
		f := Finding{Host: s.Host, TS: s.TS, Technique: tPowerShell, EventIDs: s.EventIDs, Confidence: "medium"}
		f.keys = map[string]bool{"script block:" + s.BlockID: true}
		if s.Path != "" {
			f.keys["file:"+base(s.Path)] = true
		}
		return f
	}
	if score >= 40 {
		f := newFinding()
		f.Severity, f.Score, f.Features = timeline.SeverityMedium, score, features
		if score >= 75 {
			f.Severity = timeline.SeverityHigh
		}
		f.Title = fmt.Sprintf("Obfuscated PowerShell script block (score %d/100)", score)
		f.Rule = "The reassembled script scores high on obfuscation features: backticks, concatenation and format operators, char-code arrays, random case and entropy."
		f.Matched, f.Related = clip(s.Text, 2000), []string{tObfuscated.ID}
		out = append(out, f)
	}
	if decoded, found := unpackedPayloads(s.Text); found > 0 {
		inner := matchContent(decoded)
		f := newFinding()
		f.Severity, f.Confidence = timeline.SeverityMedium, "high"
		if runsPayload.MatchString(s.Text) {
			f.Severity = timeline.SeverityHigh
		}
		for _, m := range inner {
			f.Severity = max(f.Severity, m.rule.severity)
		}
		f.Title = "PowerShell script block unpacks a base64 payload"
		if len(inner) > 0 {
			f.Title += ": " + ruleNames(inner)
		}
		f.Rule = fmt.Sprintf("The reassembled script block %s decodes %d FromBase64String literal(s), inflating gzip or deflate streams, "+
			"as stagers and packed tools do; the unpacked text is shown decoded and was checked like any script.", s.BlockID, found)
		if len(inner) > 0 {
			f.Rule += " It contains " + describeMatches(inner) + "."
		}
		f.Matched, f.Decoded = matchedLines(s.Text, []contentMatch{{matched: firstPayload(s.Text)}}), decoded
		f.Related = related(inner, tObfuscated.ID, "T1140")
		out = append(out, f)
	}
	if len(ms) > 0 {
		f := newFinding()
		f.Severity = timeline.SeverityLow
		for _, m := range ms {
			f.Severity = max(f.Severity, m.rule.severity)
		}
		f.Title = "PowerShell script block: " + ruleNames(ms)
		if s.Path != "" {
			f.Title += " (" + s.Path + ")"
		}
		f.Rule = fmt.Sprintf("The reassembled script block %s (%d of %d parts) contains %s.", s.BlockID, s.PartsOK, s.PartsExpected, describeMatches(ms))
		f.Matched, f.Related, f.Score, f.Features = matchedLines(s.Text, ms), related(ms), score, features
		out = append(out, f)
	}
	// A signed, generated or installed vendor script names these things in
	// its own code (a troubleshooting pack writing minidumps, a module
	// that manages services): at most medium, said in the finding.
	if installedVendorScript(s.Path, s.Text) {
		for i := range out {
			if out[i].Severity > timeline.SeverityMedium {
				out[i].Severity = timeline.SeverityMedium
				out[i].Rule += " The block is a signed, generated or installed vendor script, so it is rated medium at most: check that the file is the vendor's."
			}
		}
	}
	return out
}

// matchedLines quotes the lines of text that hold each match.
func matchedLines(text string, ms []contentMatch) string {
	var lines []string
	seen := map[string]bool{}
	for _, m := range ms {
		i := strings.Index(text, m.matched)
		if i < 0 {
			continue
		}
		start := strings.LastIndexByte(text[:i], '\n') + 1
		end := strings.IndexByte(text[i:], '\n')
		if end < 0 {
			end = len(text) - i
		}
		line := clip(strings.TrimSpace(text[start:i+end]), 300)
		if !seen[line] {
			seen[line] = true
			lines = append(lines, line)
		}
	}
	return strings.Join(lines, "\n")
}

// obfuscationScore rates text from 0 to 100 and returns the features that
// drove it.
func obfuscationScore(text string) (int, map[string]any) {
	if len(text) == 0 {
		return 0, map[string]any{}
	}
	n := float64(len(text))
	backticks := strings.Count(text, "`")
	gated := &gatedText{s: text}
	concat := psConcat.countIn(gated, -1)
	format := psFormat.countIn(gated, -1)
	charCodes := psCharCodes.countIn(gated, -1)
	upper, lower, flips := 0, 0, 0
	prevUpper := false
	for i, r := range text {
		if !unicode.IsLetter(r) {
			continue
		}
		u := unicode.IsUpper(r)
		if u {
			upper++
		} else {
			lower++
		}
		if i > 0 && u != prevUpper {
			flips++
		}
		prevUpper = u
	}
	letters := float64(upper + lower)
	caseFlips := 0.0
	if letters > 0 {
		caseFlips = float64(flips) / letters
	}
	entropy := shannon(text)
	score := 0.0
	score += math.Min(30, float64(backticks)/n*1000*3)
	score += math.Min(20, float64(concat)/n*1000*4)
	score += math.Min(15, float64(format)/n*1000*5)
	score += math.Min(20, float64(charCodes)*2)
	if caseFlips > 0.35 {
		score += math.Min(15, (caseFlips-0.35)*60)
	}
	if entropy > 5.2 {
		score += math.Min(15, (entropy-5.2)*20)
	}
	bonus, signals := signalScoreOf(gated, psSignals)
	score += float64(bonus)
	features := map[string]any{
		"backticks": backticks, "concatenations": concat, "format_operators": format, "char_codes": charCodes,
		"case_flip_ratio": math.Round(caseFlips*1000) / 1000, "entropy": math.Round(entropy*1000) / 1000, "length": len(text),
	}
	if ratio, low := symbolRatio(text); low {
		score += 30
		features["plain_character_ratio"] = ratio
		signals = append(signals, "mostly punctuation")
	}
	if len(signals) > 0 {
		features["signals"] = signals
	}
	return int(math.Round(math.Min(100, score))), features
}

func shannon(s string) float64 {
	var counts [256]int
	for i := 0; i < len(s); i++ {
		counts[s[i]]++
	}
	h, n := 0.0, float64(len(s))
	for _, c := range counts {
		if c > 0 {
			p := float64(c) / n
			h -= p * math.Log2(p)
		}
	}
	return h
}

// maxDecoded bounds what an embedded payload may inflate to.
const maxDecoded = 1 << 20

// decodePayload decodes base64 and, where it is gzip, decompresses it,
// bounded; binary results are shown as a hex preview.
func decodePayload(s string) (string, bool) {
	b, ok := decodeBase64(s)
	if !ok {
		return "", false
	}
	if len(b) > 2 && b[0] == 0x1f && b[1] == 0x8b {
		if zr, err := gzip.NewReader(bytes.NewReader(b)); err == nil {
			if inflated, err := io.ReadAll(io.LimitReader(zr, maxDecoded)); len(inflated) > 0 && (err == nil || err == io.ErrUnexpectedEOF) {
				b = inflated
			}
		}
	} else if !utf8.Valid(b) {
		// DeflateStream payloads are raw deflate, with no header to tell
		// them by: one that inflates to text is taken.
		inflated, err := io.ReadAll(io.LimitReader(flate.NewReader(bytes.NewReader(b)), maxDecoded))
		if len(inflated) > 0 && (err == nil || err == io.ErrUnexpectedEOF) && utf8.Valid(inflated) && bytes.IndexByte(inflated, 0) < 0 {
			b = inflated
		}
	}
	if utf8.Valid(b) && bytes.IndexByte(b, 0) < 0 {
		return string(b), true
	}
	return fmt.Sprintf("(%d bytes of binary data) %x…", len(b), b[:min(len(b), 64)]), true
}

// decodeBase64 decodes standard base64 with or without padding. Text
// joined from pieces may carry padding inside or lack a final character;
// what decodes up to there is kept.
func decodeBase64(s string) ([]byte, bool) {
	s = strings.TrimRight(s, "=")
	if len(s)%4 == 1 {
		s = s[:len(s)-1] // no whole byte is left in the last character
	}
	b, err := base64.RawStdEncoding.DecodeString(s)
	return b, err == nil
}

// decodeUTF16Base64 decodes an -EncodedCommand payload.
func decodeUTF16Base64(s string) (string, bool) {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		b, err = base64.RawStdEncoding.DecodeString(strings.TrimRight(s, "="))
	}
	if err != nil || len(b) < 2 {
		return "", false
	}
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = uint16(b[2*i]) | uint16(b[2*i+1])<<8
	}
	return string(utf16.Decode(u)), true
}

// powerShellEngineHosts are Windows programs that load the PowerShell engine in
// normal work: the troubleshooting host runs diagnostic packs, the C#
// compiler references it when PowerShell compiles Add-Type code, the
// remoting host runs remote sessions (reported as remoting), and Server
// Manager, the configuration manager agent and the monitoring agent
// (MonitoringHost, HealthService) run PowerShell for their tasks.
var powerShellEngineHosts = map[string]bool{"sdiagnhost.exe": true, "csc.exe": true, "wsmprovhost.exe": true,
	"servermanager.exe": true, "ccmexec.exe": true, "monitoringhost.exe": true, "healthservice.exe": true}

// unmanagedPowerShell finds processes other than PowerShell's own that load
// System.Management.Automation: PowerShell run from inside another program.
func unmanagedPowerShell(ctx context.Context, in *Input) ([]Finding, error) {
	var out []Finding
	for e := range in.eventsOf(timeline.SourceEVTX, []int{7}, `+provider='`+timeline.ProviderSysmon+`' AND +data LIKE '%system.management.automation%'`) {
		if isPowerShell(e.Process) || powerShellEngineHosts[e.image()] || !strings.Contains(strings.ToLower(e.Field("ImageLoaded")), "system.management.automation") {
			continue
		}
		f := cited(e, Finding{Technique: tPowerShell, Severity: timeline.SeverityHigh, Confidence: "medium",
			Title:   "Unmanaged PowerShell: " + e.image() + " loaded System.Management.Automation",
			Rule:    "A process that is not powershell.exe, pwsh.exe or the ISE loaded the PowerShell engine (Sysmon 7), as tools that run PowerShell without powershell.exe do.",
			Matched: e.Field("ImageLoaded")})
		out = append(out, f)
	}
	for e := range in.eventsOf(timeline.SourceEVTX, []int{7}, `+provider='`+timeline.ProviderSysmon+`'
		AND (+process LIKE '%\powershell.exe' OR +process LIKE '%\pwsh.exe')`) {
		// Native images that NGen compiles on the host carry no signature
		// of their own, so every PowerShell start loads unsigned ones.
		if !strings.EqualFold(e.Field("Signed"), "false") || strings.Contains(strings.ToLower(e.Field("ImageLoaded")), `\assembly\nativeimages_`) {
			continue
		}
		f := cited(e, Finding{Technique: tPowerShell, Severity: timeline.SeverityMedium, Confidence: "medium",
			Title:   "PowerShell loaded an unsigned module: " + base(e.Field("ImageLoaded")),
			Rule:    "PowerShell loaded a DLL that carries no valid signature (Sysmon 7), as in-memory tools such as Mimikatz loaders do.",
			Matched: e.Field("ImageLoaded")})
		out = append(out, f)
	}
	// One finding per prefetch file, on its first run listed: the file
	// list is the same for all its runs.
	seen := map[int64]bool{}
	// The name holds no i or s, which Unicode folds from other letters, so
	// SQLite's ASCII LIKE passes every run the test below passes.
	for e := range in.prefetchOf(nil, `+data LIKE '%management%'`) {
		if seen[e.ArtifactID] {
			continue
		}
		seen[e.ArtifactID] = true
		if !strings.Contains(strings.ToUpper(e.data), "SYSTEM.MANAGEMENT.AUTOMATION") || isPowerShell(e.Process) || isPowerShell(e.Field("executable")) || powerShellEngineHosts[e.image()] || powerShellEngineHosts[strings.ToLower(e.Field("executable"))] {
			continue
		}
		var dll string
		for _, name := range e.Strings("files") {
			if strings.Contains(strings.ToUpper(name), "SYSTEM.MANAGEMENT.AUTOMATION") {
				dll = name
				break
			}
		}
		if dll == "" {
			continue
		}
		f := cited(e, Finding{Technique: tPowerShell, Severity: timeline.SeverityMedium, Confidence: "low",
			Title:   "Unmanaged PowerShell: " + e.Field("executable") + " loaded System.Management.Automation (prefetch)",
			Rule:    "The prefetch file list of a process that is not PowerShell names the PowerShell engine; some legitimate .NET tools host it too.",
			Matched: dll})
		out = append(out, f)
	}
	return out, nil
}

func clip(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}

func hasFlag(flags []string, name string) bool {
	for _, f := range flags {
		if f == name {
			return true
		}
	}
	return false
}
