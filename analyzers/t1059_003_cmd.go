package analyzers

import (
	"context"
	"fmt"
	"html"
	"iter"
	"math"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"triage/timeline"
)

var tCmd = timeline.MustTechnique("T1059.003")

// commandShell finds cmd.exe started by unusual parents, DOSfuscation,
// suspicious /c chains, and batch files by their place and content.
type commandShell struct{}

var _ Analyzer = (*commandShell)(nil)

func (*commandShell) Meta() Meta {
	return Meta{
		ID: "t1059.003-cmd", Technique: tCmd, Severity: timeline.SeverityHigh,
		Description: "cmd.exe from Office, browsers, servers and script hosts; parents that rarely start cmd on this host; " +
			"DOSfuscation scores; suspicious /c chains; batch files in user-writable places and what they do.",
		References: []string{"https://attack.mitre.org/techniques/T1059/003/"},
	}
}

// unusualParents start cmd.exe only when something is wrong.
var unusualParents = map[string]string{
	"winword.exe": "Office", "excel.exe": "Office", "powerpnt.exe": "Office", "outlook.exe": "Office",
	"msaccess.exe": "Office", "mspub.exe": "Office", "onenote.exe": "Office", "visio.exe": "Office",
	"chrome.exe": "browser", "firefox.exe": "browser", "msedge.exe": "browser", "iexplore.exe": "browser",
	"opera.exe": "browser", "brave.exe": "browser",
	"w3wp.exe": "web server", "httpd.exe": "web server", "nginx.exe": "web server", "tomcat.exe": "web server",
	"php-cgi.exe": "web server", "sqlservr.exe": "database server", "mysqld.exe": "database server",
	"postgres.exe": "database server", "oracle.exe": "database server",
	"wscript.exe": "script host", "cscript.exe": "script host", "mshta.exe": "script host",
	"wmiprvse.exe": wmiHostKind,
}

// remoteServiceParents are the services remote-execution tools install on
// the target to run commands; administrators use them too, so a shell they
// start is worth a look but not proof.
var remoteServiceParents = map[string]string{
	"psexesvc.exe": "PsExec", "remcomsvc.exe": "RemCom", "csexecsvc.exe": "CSExec",
}

// discoveryCommands are what an intruder runs first to learn the host, its
// users and its network, with the technique each one serves.
var discoveryCommands = []struct {
	re        *lazyRegexp
	technique string
}{
	{lazy(`(?i)^(whoami|quser|qwinsta|query\s+user|klist)\b`), "T1033"},
	{lazy(`(?i)^(systeminfo|hostname|ver)\b`), "T1082"},
	{lazy(`(?i)^(ipconfig|arp\s+-a|route\s+print|nbtstat|nslookup)\b`), "T1016"},
	{lazy(`(?i)^(netstat|net1?(\.exe)?\s+(session|use))\b`), "T1049"},
	{lazy(`(?i)^(net1?(\.exe)?\s+(user|group|localgroup|accounts)|dsquery|nltest)\b`), "T1087"},
	{lazy(`(?i)^(net1?(\.exe)?\s+(view|share))\b`), "T1135"},
	{lazy(`(?i)^tasklist\b`), "T1057"},
}

// shellCommand returns what follows cmd.exe's /c or /k switch. The search
// ignores ASCII case in place: lowering the line first would move the
// offsets of a line that is not valid UTF-8.
func shellCommand(cmdLine string) (string, bool) {
	for i := 0; i+3 <= len(cmdLine); i++ {
		if cmdLine[i] == '/' && (cmdLine[i+1]|0x20 == 'c' || cmdLine[i+1]|0x20 == 'k') && cmdLine[i+2] == ' ' {
			return cmdLine[i+3:], true
		}
	}
	return "", false
}

// chainedCommands splits a cmd.exe line on &, &&, || and |; quoting is
// ignored, which at worst splits a quoted argument.
var chainedCommands = lazy(`\s*(?:&&|\|\||&|\|)\s*`)

// discoveryChain returns the discovery commands in a chained command line
// and the techniques they serve, sorted and unique.
func discoveryChain(cmdLine string) (found []string, techniques []string) {
	body, ok := shellCommand(cmdLine)
	if !ok {
		return nil, nil
	}
	seen := map[string]bool{}
	for _, part := range chainedCommands.Split(body, -1) {
		part = strings.TrimLeft(part, ` "'(@`)
		for _, d := range discoveryCommands {
			if m := d.re.FindString(part); m != "" {
				found = append(found, m)
				if !seen[d.technique] {
					seen[d.technique] = true
					techniques = append(techniques, d.technique)
				}
				break
			}
		}
	}
	sort.Strings(techniques)
	return found, techniques
}

// echoRedirect is one "echo text >> file" command of a chain.
var echoRedirect = lazy(`(?i)^@?echo\s(.*?)\s*>>?\s*"?([^"&|<>]+?)"?\s*$`)

// minEchoPieces is how many echo commands into one file make it a file
// built piece by piece, the way droppers write a payload through a shell
// that gives them no upload.
const minEchoPieces = 3

// echoBuiltFiles finds files that cmd.exe command lines wrote piece by
// piece with echo, and shows what they held: base64 pieces are joined and
// decoded, other pieces are the file's lines.
func echoBuiltFiles(procs []Event) []Finding { return echoBuiltFilesOf(pointers(procs)) }

// echoBuiltFilesOf is echoBuiltFiles over a stream of starts.
func echoBuiltFilesOf(procs iter.Seq[*Event]) []Finding {
	type built struct {
		finding Finding
		target  string
		pieces  []string
		lines   []string // the command lines, verbatim, up to maxFoldedMatched bytes
		size    int
	}
	var files []*built
	byTarget := map[string]*built{}
	for e := range procs {
		if e.image() != "cmd.exe" || !strings.Contains(strings.ToLower(e.CommandLine), "echo") {
			continue
		}
		body, ok := shellCommand(e.CommandLine)
		if !ok {
			body = e.CommandLine
		}
		for _, part := range chainedCommands.Split(strings.Trim(body, `" `), -1) {
			m := echoRedirect.FindStringSubmatch(strings.TrimSpace(part))
			if m == nil {
				continue
			}
			key := e.Host + "\x00" + strings.ToLower(m[2])
			b := byTarget[key]
			if b == nil {
				// The finding cites each command line below, once.
				b = &built{finding: Finding{Host: e.Host, TS: e.TS, Technique: tCmd, Confidence: "high", Related: []string{tObfuscated.ID}}, target: m[2]}
				byTarget[key] = b
				files = append(files, b)
			}
			b.pieces = append(b.pieces, m[1])
			if !slices.Contains(b.finding.EventIDs, e.ID) {
				if b.size += len(e.CommandLine) + 1; b.size <= maxFoldedMatched {
					b.lines = append(b.lines, e.CommandLine)
				}
				b.finding.cite(e)
				b.finding.keys["file:"+base(b.target)] = true
			}
		}
	}
	var out []Finding
	for _, b := range files {
		if len(b.pieces) < minEchoPieces {
			continue
		}
		f := b.finding
		target := b.target[strings.LastIndexAny(b.target, `\/`)+1:]
		f.Severity = timeline.SeverityMedium
		f.Title = fmt.Sprintf("cmd.exe wrote %s in %d echo commands", target, len(b.pieces))
		f.Rule = fmt.Sprintf("%d command lines wrote %s piece by piece with echo, the way a payload is dropped through a shell that cannot upload files.", len(f.EventIDs), target)
		joined := strings.Join(b.pieces, "")
		if decoded, ok := decodePayload(joined); ok && len(joined) >= 64 {
			f.Decoded = decoded
			f.Rule += " Joined, the pieces are base64"
			if strings.HasPrefix(joined, "TVqQ") || strings.HasPrefix(joined, "TVpQ") {
				f.Severity = timeline.SeverityHigh
				f.Rule += " of a Windows executable (MZ header)"
			}
			f.Rule += "."
		} else {
			f.Decoded = strings.Join(b.pieces, "\n")
		}
		if ext := strings.ToLower(filepath.Ext(target)); slices.Contains([]string{".vbs", ".js", ".ps1", ".bat", ".cmd", ".hta", ".wsf"}, ext) {
			f.Severity = timeline.SeverityHigh
			f.Rule += " The file is a script, so what was written is code."
		}
		f.Matched = strings.Join(b.lines, "\n")
		f.Features = map[string]any{"pieces": len(b.pieces), "file": b.target}
		out = append(out, f)
	}
	return out
}

var (
	dosSubstring = lazy(`%[A-Za-z_][A-Za-z0-9_]*:~-?\d+(,-?\d+)?%`)
	dosDelayed   = lazy(`![A-Za-z_][A-Za-z0-9_]*(:[^!]*)?!`)
	dosForL      = lazy(`(?i)\bfor\s+/l\b`)
	dosSet       = lazy(`(?i)\bset\s+"?[A-Za-z_]\w*=`)

	// adminShareOutput is how impacket's wmiexec and smbexec read back a
	// command's output: redirected to a file on an administrative share.
	adminShareOutput = lazy(`(?i)>\s*\\\\[^\s\\]+\\[a-z]?\w*\$\\`)
	scheduledShell   = lazy(`(?i)\b(cmd|powershell|pwsh)(\.exe)?\b`)
	taskCommand      = lazy(`(?is)<Command>\s*([^<]*?(?:cmd(?:\.exe)?|powershell(?:\.exe)?|%comspec%|\.bat|\.cmd))\s*</Command>\s*(?:<Arguments>([^<]*)</Arguments>)?`)
	serviceShell     = lazy(`(?i)(cmd(\.exe)?|%comspec%)\s+/[ckq]|powershell(\.exe)?\s`)
	urlArgument      = lazy(`(?i)https?://\S+`)
	batchArgument    = lazy(`(?i)/[ck]\s+"?([^"\s]+\.(bat|cmd))`)
)

// dosfuscation scores a command line from 0 to 100 on the devices of
// DOSfuscation: carets, substring expansion, delayed expansion, FOR /L
// loops (character reversal) and set-based concatenation.
func dosfuscation(cmd string) (int, map[string]any) {
	if !strings.ContainsAny(cmd, "^%!") && !containsAny(strings.ToLower(cmd), []string{"for ", "set "}) {
		return 0, map[string]any{}
	}
	carets := strings.Count(cmd, "^")
	subs := len(dosSubstring.FindAllString(cmd, -1))
	delayed := len(dosDelayed.FindAllString(cmd, -1))
	forL := len(dosForL.FindAllString(cmd, -1))
	sets := len(dosSet.FindAllString(cmd, -1))
	score := math.Min(30, float64(carets)*3) + math.Min(30, float64(subs)*6) + math.Min(20, float64(delayed)*4) +
		math.Min(15, float64(forL)*15) + math.Min(15, float64(sets)*3)
	bonus, signals := signalScore(cmd, dosSignals)
	features := map[string]any{
		"carets": carets, "substrings": subs, "delayed_expansion": delayed, "for_l": forL, "set_commands": sets,
	}
	if len(signals) > 0 {
		features["signals"] = signals
	}
	return int(math.Min(100, score+float64(bonus))), features
}

func (a *commandShell) Analyze(ctx context.Context, in *Input) ([]Finding, error) {
	procs := in.startsOf(func(image string) bool { return image == "cmd.exe" })
	exits, err := shellExits(ctx, in, procs)
	if err != nil {
		return nil, err
	}
	// The detections that need a pass over the starts first (the parents'
	// baseline, the host's last day) read them twice; the others read
	// them in the first of those passes (see onePass).
	var out, echoed, runs []Finding
	var newParents newShellParents
	// The baseline: how often each parent starts cmd.exe on each host.
	parents := map[string]map[string]int{}
	totals := map[string]int{}
	onePass(procs, func(procs iter.Seq[*Event]) {
		for e := range procs {
			if e.image() == "cmd.exe" && e.ParentProcess != "" {
				if parents[e.Host] == nil {
					parents[e.Host] = map[string]int{}
				}
				parents[e.Host][base(e.ParentProcess)]++
				totals[e.Host]++
			}
		}
	}, func(procs iter.Seq[*Event]) {
		echoed = echoBuiltFilesOf(procs)
	}, func(procs iter.Seq[*Event]) {
		runs = shellRuns(procs, exits, in.Opts.Location)
	}, newParents.lastDays)
	onePass(procs, func(procs iter.Seq[*Event]) { out = a.startFindings(procs, parents, totals, exits) }, newParents.starts)
	out = append(out, echoed...)
	out = append(out, runs...)
	out = append(out, newParents.findings()...)
	// The programs the shell started, and the schedulers given a shell.
	for e := range in.startsOrChildren(func(image string) bool { return image == "at.exe" || image == "schtasks.exe" }, "cmd.exe") {
		if base(e.ParentProcess) == "cmd.exe" && e.image() != "cmd.exe" {
			ms := matchContent(e.CommandLine)
			url := urlArgument.FindString(e.CommandLine)
			if len(ms) > 0 || url != "" {
				f := cited(e, Finding{Technique: tCmd, Severity: timeline.SeverityLow, Confidence: "medium",
					Matched: e.CommandLine, Related: related(ms)})
				for _, m := range ms {
					f.Severity = max(f.Severity, m.rule.severity)
				}
				if len(ms) > 0 {
					f.Title = fmt.Sprintf("cmd.exe ran %s: %s", e.image(), ruleNames(ms))
					f.Rule = fmt.Sprintf("A program started from the command shell did %s.", describeMatches(ms))
				} else {
					f.Severity, f.Related = timeline.SeverityMedium, []string{tDownload.ID}
					f.Title = fmt.Sprintf("cmd.exe had %s fetch a URL", e.image())
					f.Rule = fmt.Sprintf("A program started from the command shell was given the URL %s.", clip(url, 200))
				}
				out = append(out, f)
			}
		}
		if exe := e.image(); (exe == "at.exe" || exe == "schtasks.exe") && scheduledShell.MatchString(e.CommandLine) {
			f := cited(e, Finding{Technique: tCmd, Related: []string{tSchTask.ID},
				Severity: timeline.SeverityMedium, Confidence: "medium", Matched: e.CommandLine,
				Title: "Command shell scheduled with " + exe,
				Rule:  "A scheduled job runs a command interpreter, which gives a shell under the scheduler's account (often SYSTEM)."})
			out = append(out, f)
		}
	}
	persisted := in.merged(slices.Concat(in.kindCursors(timeline.SourceEVTX, []int{4698, 4702}, `+provider='`+timeline.ProviderSecurity+`'`),
		in.kindCursors(timeline.SourceEVTX, []int{7045}, `+provider='`+timeline.ProviderSCM+`'`)))
	// Tools such as Tchopper install hundreds of services, one per piece of
	// a payload: a burst of them on one host is one finding citing each.
	type serviceBurst struct {
		finding int
		last    time.Time
		names   []string
	}
	var bursts []*serviceBurst
	burstOf := map[string]*serviceBurst{} // host → its latest burst
	for e := range persisted {
		f := cited(e, Finding{Technique: tCmd, Severity: timeline.SeverityHigh, Confidence: "high"})
		if e.EventID == 7045 {
			img := e.Field("ImagePath")
			if !serviceShell.MatchString(img) {
				continue
			}
			if b := burstOf[e.Host]; b != nil && e.TS.Sub(b.last) <= in.Opts.IncidentWindow && e.TS.Sub(b.last) >= 0 {
				b.last = e.TS
				b.names = append(b.names, e.Field("ServiceName"))
				out[b.finding].cite(e)
				continue
			}
			burstOf[e.Host] = &serviceBurst{finding: len(out), last: e.TS, names: []string{e.Field("ServiceName")}}
			bursts = append(bursts, burstOf[e.Host])
			f.Related = []string{"T1543.003", "T1569.002"}
			f.Title = "Service installed to run a command shell: " + e.Field("ServiceName")
			f.Rule = "A new service (7045) whose ImagePath runs cmd /c or PowerShell: how PsExec-style tools and smbexec run commands as SYSTEM."
			f.Matched = img
			if pipeEcho.MatchString(img) {
				f.Title = "Service installed to write into a named pipe (getsystem): " + e.Field("ServiceName")
				f.Related = append(f.Related, "T1134.001")
				f.Rule += " This one echoes into a named pipe (\\\\.\\pipe\\…), as Meterpreter's getsystem does to steal the service's SYSTEM token."
			}
			decodeCarrier(&f, img)
		} else {
			m := taskCommand.FindStringSubmatch(e.Field("TaskContent"))
			if m == nil {
				continue
			}
			f.Related = []string{tSchTask.ID}
			f.Title = "Scheduled task runs a command shell: " + e.Field("TaskName")
			f.Rule = "The task's action starts cmd, PowerShell or a batch file; atexec and smbexec create such tasks and delete them right after."
			f.Matched = strings.TrimSpace(m[1] + " " + html.UnescapeString(m[2]))
			if userWritable(m[1]) {
				f.Rule += " The batch file lies in a user-writable folder."
			}
			decodeCarrier(&f, f.Matched)
		}
		out = append(out, f)
	}
	for _, b := range bursts {
		if n := len(b.names); n > 1 {
			f := &out[b.finding]
			f.Title = fmt.Sprintf("%d services installed to run a command shell within %s, first %s", n,
				span(b.last.Sub(f.TS)), clip(b.names[0], 40))
			f.Rule += fmt.Sprintf(" %d such services were installed on this host, each within %s of the one before: one finding cites them all.", n, in.Opts.IncidentWindow)
			f.Features = map[string]any{"services": n, "service_names": b.names}
			if text, complete, ok := joinedBase64Text(b.names); ok {
				f.Decoded = text
				f.Related = related(nil, append(f.Related, tObfuscated.ID)...)
				f.Rule += fmt.Sprintf(" Joined in the order they were installed, the service names decode from base64 to %d bytes of text: a payload carried in service names, as Tchopper does.", len(text))
				if !complete {
					f.Rule += " The text breaks off there: a piece after it is missing from the log or out of order."
				}
			}
		}
	}
	sql, err := xpCmdShell(ctx, in)
	if err != nil {
		return nil, err
	}
	out = append(out, sql...)
	for e := range in.eventsOf(timeline.SourceBatch, nil, "") {
		out = append(out, batchFindings(e)...)
	}
	return out, nil
}

// batchFindings judges a batch file by where it lies and what it does.
func batchFindings(e *Event) []Finding {
	content, path := e.Field("content"), e.Process
	ms := matchContent(content)
	writable := userWritable(path)
	score, features := dosfuscation(content)
	if len(ms) == 0 && !writable && score < 40 {
		return nil
	}
	f := cited(e, Finding{Technique: tCmd, Confidence: "medium",
		Severity: timeline.SeverityInformational, Score: score, Features: features})
	f.keys["file:"+base(path)] = true
	var why []string
	if writable {
		f.Severity = timeline.SeverityLow
		why = append(why, "it lies in a user-writable folder")
	}
	for _, m := range ms {
		f.Severity = max(f.Severity, m.rule.severity)
	}
	if len(ms) > 0 {
		why = append(why, "it contains "+describeMatches(ms))
	}
	if score >= 40 {
		f.Severity = max(f.Severity, timeline.SeverityMedium)
		why = append(why, fmt.Sprintf("its DOSfuscation score is %d/100", score))
	}
	f.Related = related(ms)
	f.Title = "Batch file " + base(path)
	if len(ms) > 0 {
		f.Title += ": " + ruleNames(ms)
	}
	f.Rule = "The batch file stands out: " + strings.Join(why, "; ") + "."
	f.Matched = matchedLines(content, ms)
	if f.Matched == "" {
		f.Matched = path
	}
	return []Finding{f}
}

// joinedBase64Text decodes names that, joined in order, form base64 text.
// A missing or misordered piece shifts the bits of everything after it, so
// the text is the part before the first byte that is not text; complete
// says whether that is all of it.
func joinedBase64Text(names []string) (text string, complete bool, ok bool) {
	var joined strings.Builder
	for _, n := range names {
		if joined.Len()+len(n) > maxDecoded/3*4 {
			break
		}
		joined.WriteString(n)
	}
	if joined.Len() < 64 {
		return "", false, false
	}
	b, ok := decodeBase64(joined.String())
	if !ok {
		return "", false, false
	}
	end := 0
	for end < len(b) {
		r, size := utf8.DecodeRune(b[end:])
		if r == utf8.RuneError && size <= 1 || r < ' ' && r != '\t' && r != '\r' && r != '\n' {
			break
		}
		end += size
	}
	if end < 48 {
		return "", false, false
	}
	return string(b[:end]), end == len(b), true
}

// startFindings are the findings on each cmd.exe start of procs, given the
// parents' baseline (parents and totals, per host) and the exits paired
// with the starts.
func (a *commandShell) startFindings(procs iter.Seq[*Event], parents map[string]map[string]int, totals map[string]int,
	exits map[int64]processExit) []Finding {
	var out []Finding
	reportedRare := map[string]bool{}
	for e := range procs {
		if e.image() != "cmd.exe" {
			continue
		}
		parent := base(e.ParentProcess)
		startFindings := len(out)
		newFinding := func() Finding {
			f := cited(e, Finding{Technique: tCmd, Confidence: "high", Matched: e.CommandLine})
			return f
		}
		if f, ok := parentFinding(e, tCmd, "cmd.exe"); ok {
			out = append(out, f)
		} else if n, total := parents[e.Host][parent], totals[e.Host]; parent != "" && total >= 10 && n*50 <= total && !reportedRare[e.Host+parent] {
			reportedRare[e.Host+parent] = true
			f := newFinding()
			f.Severity, f.Confidence = timeline.SeverityLow, "low"
			f.Title = fmt.Sprintf("cmd.exe started by %s, a rare parent on this host (%d of %d)", parent, n, total)
			f.Rule = "Parents that start cmd.exe in 2% or fewer of the host's cmd.exe starts stand out from its baseline."
			f.Features = map[string]any{"parent": parent, "parent_count": n, "host_cmd_starts": total, "baseline": parents[e.Host]}
			out = append(out, f)
		}
		if found, techniques := discoveryChain(e.CommandLine); len(found) >= 2 {
			f := newFinding()
			f.Severity, f.Confidence = timeline.SeverityMedium, "medium"
			f.Title = fmt.Sprintf("cmd.exe /c chains %d discovery commands", len(found))
			f.Rule = "One command line runs several reconnaissance commands in a row (" + strings.Join(found, ", ") +
				"), as intruders do on a host they have just reached."
			f.Features = map[string]any{"commands": found}
			f.Related = techniques
			out = append(out, f)
		}
		if adminShareOutput.MatchString(e.CommandLine) {
			f := newFinding()
			f.Severity, f.Title = timeline.SeverityHigh, "cmd.exe output redirected to an administrative share (remote execution)"
			f.Rule = "The command writes its output to \\\\host\\ADMIN$ or C$, as impacket's wmiexec and smbexec do to read results back remotely."
			out = append(out, f)
		}
		if m := batchArgument.FindStringSubmatch(e.CommandLine); m != nil && userWritable(m[1]) {
			f := newFinding()
			f.Severity, f.Title = timeline.SeverityMedium, "cmd.exe ran a batch file from a user-writable folder: "+base(m[1])
			f.Rule = "The batch file lies in a folder any user can write to (Temp, AppData, Downloads, Public, ProgramData)."
			f.keys["file:"+base(m[1])] = true
			out = append(out, f)
		}
		if score, features := dosfuscation(e.CommandLine); score >= 40 {
			f := newFinding()
			f.Severity, f.Score, f.Features = timeline.SeverityMedium, score, features
			if score >= 70 {
				f.Severity = timeline.SeverityHigh
			}
			f.Title = fmt.Sprintf("DOSfuscated command line (score %d/100)", score)
			f.Rule = "The command line uses the devices of DOSfuscation: carets, %VAR:~n,m% substrings, !delayed! expansion, FOR /L loops and set concatenation."
			f.Related = []string{tObfuscated.ID}
			out = append(out, f)
		}
		if ms := matchContent(e.CommandLine); len(ms) > 0 {
			f := newFinding()
			f.Severity = timeline.SeverityLow
			for _, m := range ms {
				f.Severity = max(f.Severity, m.rule.severity)
			}
			f.Title = "cmd.exe /c " + ruleNames(ms)
			f.Rule = fmt.Sprintf("The command shell ran %s.", describeMatches(ms))
			f.Related = related(ms)
			out = append(out, f)
		}
		out = append(out, shellTricks(e)...)
		if kind, ok := remoteServiceParents[parent]; ok {
			// Said once per start: in the findings on what the shell did,
			// or alone when nothing else stands out.
			remote := fmt.Sprintf("%s installs this service on the target to run commands sent from another host; administrators use it too, attackers to move laterally.", kind)
			if len(out) > startFindings {
				for j := startFindings; j < len(out); j++ {
					out[j].Rule += fmt.Sprintf(" The shell was started by %s: %s", parent, remote)
					out[j].Related = related(nil, append(out[j].Related, "T1021.002", "T1569.002")...)
				}
			} else {
				f := newFinding()
				f.Severity, f.Confidence = timeline.SeverityMedium, "medium"
				f.Title = fmt.Sprintf("cmd.exe started by %s (%s service: remote execution)", parent, kind)
				f.Rule = remote
				f.Features = map[string]any{"parent": e.ParentProcess}
				f.Related = []string{"T1021.002", "T1569.002"}
				out = append(out, f)
			}
		}
		if x, ok := exits[e.ID]; ok {
			for j := startFindings; j < len(out); j++ {
				out[j].citeContext(x.exit.id)
				out[j].Rule += exitSentence(x)
			}
		}
	}
	return out
}
