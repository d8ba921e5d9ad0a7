package timeline

import (
	"fmt"
	"math"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"triage/parsers/evtx"
	"triage/parsers/prefetch"
)

// Providers whose events get a specific mapping.
const (
	providerSecurity   = "Microsoft-Windows-Security-Auditing"
	providerSysmon     = "Microsoft-Windows-Sysmon"
	providerPowerShell = "Microsoft-Windows-PowerShell"
	providerClassicPS  = "PowerShell" // the "Windows PowerShell" log
)

// summaryWidth bounds quoted text in a summary; the full text stays in the
// other columns.
const summaryWidth = 160

// FromEVTX normalizes one event record. The record's fields go into the
// event as a sorted list rather than Data: building a map per record and
// sorting its keys again to encode it was a tenth of the ingest's CPU. Only
// the PowerShell events whose fields are merged with parsed blocks use Data.
func FromEVTX(host string, artifactID int64, rec *evtx.Record) Event {
	s := &rec.System
	e := Event{
		TS: rec.Time(), Host: host, ArtifactID: artifactID, RecordID: int64(rec.ID), Source: "evtx",
		EventID: int(s.EventID), Channel: s.Channel, Provider: s.Provider, Computer: s.Computer,
		User: s.UserID, Level: int(s.Level), Recovered: rec.Recovered,
	}
	if s.EventRecordID != 0 {
		e.RecordID = int64(s.EventRecordID)
	}
	e.fields = sortedFields(rec.Data)
	field := func(k string) string { return lookup(e.fields, k) }
	switch {
	case s.Provider == providerSecurity && s.EventID == 4688:
		e.Process, e.CommandLine, e.ParentProcess = field("NewProcessName"), field("CommandLine"), field("ParentProcessName")
		e.User = account(field("SubjectDomainName"), field("SubjectUserName"), e.User)
		e.Summary = started(e.Process, e.ParentProcess, e.CommandLine)
	case s.Provider == providerSecurity && s.EventID == 4689:
		// An exit carries no command line; ProcessId and Status stay in the
		// data, where the analyzers pair it with its start.
		e.Process = field("ProcessName")
		e.User = account(field("SubjectDomainName"), field("SubjectUserName"), e.User)
		e.Summary = base(e.Process) + " exited"
		if st := field("Status"); st != "" {
			e.Summary += " with status " + st
		}
	case s.Provider == providerSysmon && s.EventID == 1:
		e.Process, e.CommandLine, e.ParentProcess = field("Image"), field("CommandLine"), field("ParentImage")
		if u := field("User"); u != "" {
			e.User = u
		}
		e.Summary = started(e.Process, e.ParentProcess, e.CommandLine)
	case s.Provider == providerSysmon && s.EventID == 7:
		e.Process = field("Image")
		e.Summary = base(e.Process) + " loaded " + field("ImageLoaded")
	case s.Provider == providerPowerShell && s.EventID == 4104:
		e.ScriptBlockID = field("ScriptBlockId")
		e.Summary = fmt.Sprintf("PowerShell script block %s part %s/%s: %s", e.ScriptBlockID,
			field("MessageNumber"), field("MessageTotal"), clip(field("ScriptBlockText")))
	case s.Provider == providerPowerShell && s.EventID == 4103:
		e.Data, e.fields = mapOf(e.fields), nil
		field = func(k string) string { return str(e.Data[k]) }
		for k, v := range keyValues(field("ContextInfo"), " = ") {
			e.Data[k] = v
		}
		e.Process, e.CommandLine = exeOf(field("Host Application")), field("Host Application")
		e.Summary = fmt.Sprintf("PowerShell pipeline ran %s: %s", field("Command Name"), clip(field("Payload")))
	case s.Provider == providerClassicPS && (s.EventID == 400 || s.EventID == 403 || s.EventID == 600 || s.EventID == 800):
		e.Data, e.fields = mapOf(e.fields), nil
		field = func(k string) string { return str(e.Data[k]) }
		for i := range rec.Data {
			for k, v := range keyValues(rec.Data[i].Value, "=") {
				if _, taken := e.Data[k]; !taken {
					e.Data[k] = v
				}
			}
		}
		e.Process, e.CommandLine = exeOf(field("HostApplication")), field("HostApplication")
		if cl := field("CommandLine"); cl != "" && s.EventID == 800 {
			e.CommandLine = cl
		}
		e.Summary = fmt.Sprintf("Windows PowerShell %d (engine %s, host %s): %s", s.EventID,
			field("EngineVersion"), field("HostName"), clip(e.CommandLine))
	default:
		e.Summary = s.Provider + " event " + strconv.Itoa(int(s.EventID))
	}
	setAside(&e)
	return e
}

// field is one entry of an event's data column.
type field struct{ key, value string }

// sortedFields keys the record's fields as evtx.FieldKeys does and sorts
// them by key. Where two fields end up with the same key the later one
// stays, as it did when they went into a map.
func sortedFields(data []evtx.Field) []field {
	if len(data) == 0 {
		return nil
	}
	c := fieldOrders.Get().(*fieldOrderCache)
	o := c.find(data)
	fs := make([]field, len(o.order))
	for i, j := range o.order {
		fs[i] = field{o.keys[j], data[j].Value}
	}
	fieldOrders.Put(c)
	return fs
}

// fieldOrder is how the fields of records with the given names go into the
// data column: their keys, and which fields in which order.
type fieldOrder struct {
	names []string
	keys  []string // evtx.FieldKeys
	order []int    // field indexes by key, a repeated key's last field only
}

func newFieldOrder(data []evtx.Field) *fieldOrder {
	o := &fieldOrder{names: make([]string, len(data)), keys: evtx.FieldKeys(data), order: make([]int, len(data))}
	for i := range data {
		o.names[i], o.order[i] = data[i].Name, i
	}
	slices.SortStableFunc(o.order, func(a, b int) int { return strings.Compare(o.keys[a], o.keys[b]) })
	out := o.order[:0]
	for i, j := range o.order {
		if i+1 < len(o.order) && o.keys[o.order[i+1]] == o.keys[j] {
			continue
		}
		out = append(out, j)
	}
	o.order = out
	return o
}

func (o *fieldOrder) fits(data []evtx.Field) bool {
	if len(o.names) != len(data) {
		return false
	}
	for i := range data {
		if o.names[i] != data[i].Name {
			return false
		}
	}
	return true
}

// fieldOrderCache remembers the orders of the last few field name lists.
// Records of one event type share their names, and keying and sorting them
// anew for each record was a sixth of the normalizing.
type fieldOrderCache struct {
	orders [8]*fieldOrder
	next   int // the slot to replace
}

func (c *fieldOrderCache) find(data []evtx.Field) *fieldOrder {
	for _, o := range c.orders {
		if o != nil && o.fits(data) {
			return o
		}
	}
	o := newFieldOrder(data)
	c.orders[c.next] = o
	c.next = (c.next + 1) % len(c.orders)
	return o
}

// fieldOrders holds a cache per parser goroutine, more or less.
var fieldOrders = sync.Pool{New: func() any { return new(fieldOrderCache) }}

// lookup finds a key in sorted fields; events have a few dozen fields at
// most, so a scan costs less than a search.
func lookup(fs []field, k string) string {
	for _, f := range fs {
		if f.key == k {
			return f.value
		}
	}
	return ""
}

func mapOf(fs []field) map[string]any {
	m := make(map[string]any, len(fs))
	for _, f := range fs {
		m[f.key] = f.value
	}
	return m
}

// appendFields writes sorted fields as appendJSONObject writes the same
// entries from a map.
func appendFields(dst []byte, fs []field) []byte {
	dst = append(dst, '{')
	for i, f := range fs {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = AppendJSONString(dst, f.key)
		dst = append(dst, ':')
		dst = AppendJSONString(dst, f.value)
	}
	return append(dst, '}')
}

// keyValues parses "key<sep>value" lines, as in the PowerShell logs'
// HostApplication and ContextInfo blocks.
func keyValues(block, sep string) map[string]string {
	out := map[string]string{}
	if !strings.Contains(block, sep) || !strings.Contains(block, "\n") {
		return out
	}
	for _, line := range strings.Split(block, "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), sep)
		k = strings.TrimSpace(k)
		// ContextInfo keys have spaces ("Host Application"); the classic
		// log's keys never do, so a line with one is a value's continuation.
		if !ok || k == "" || sep == "=" && strings.ContainsAny(k, " \t") {
			continue
		}
		out[k] = strings.TrimSpace(v)
	}
	return out
}

// exeOf takes the executable from a command line such as a HostApplication.
func exeOf(cmdline string) string {
	cmdline = strings.TrimSpace(cmdline)
	if strings.HasPrefix(cmdline, `"`) {
		if end := strings.Index(cmdline[1:], `"`); end >= 0 {
			return cmdline[1 : end+1]
		}
	}
	if i := strings.IndexAny(cmdline, " \t"); i >= 0 {
		return cmdline[:i]
	}
	return cmdline
}

func started(process, parent, cmdline string) string {
	s := base(process) + " started"
	if parent != "" {
		s += " by " + base(parent)
	}
	if cmdline != "" {
		s += ": " + clip(cmdline)
	}
	return s
}

func account(domain, user, fallback string) string {
	switch {
	case user == "" || user == "-":
		return fallback
	case domain == "" || domain == "-":
		return user
	}
	return domain + `\` + user
}

// base is the file name of a Windows path.
func base(p string) string {
	return path.Base(strings.ReplaceAll(p, `\`, "/"))
}

func clip(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > summaryWidth {
		return string(r[:summaryWidth]) + "…"
	}
	return s
}

// FromPrefetch gives one event per recorded run time, newest first.
// The events' data differ only in run_index, so the rest of it, file and
// directory lists included, is encoded once rather than once per event.
func FromPrefetch(host string, artifactID int64, pf *prefetch.File) []Event {
	exe := executablePath(pf)
	files := make([]string, len(pf.Files))
	for i, f := range pf.Files {
		files[i] = f.Name
	}
	volumes := make([]map[string]any, len(pf.Volumes))
	for i, v := range pf.Volumes {
		volumes[i] = map[string]any{"device_path": v.DevicePath, "serial": fmt.Sprintf("%08X", v.Serial),
			"created": FormatTime(v.Created)}
	}
	hash := fmt.Sprintf("0x%08X", pf.Hash)
	// The keys sorting before and after run_index, encoded as two objects
	// whose braces are then dropped around it.
	before, err1 := appendJSONObject(nil, map[string]any{"directories": pf.Directories, "executable": pf.Executable,
		"files": files, "hash": hash, "run_count": pf.RunCount})
	after, err2 := appendJSONObject(nil, map[string]any{"version": pf.Version, "volumes": volumes})
	var pre, post string
	shared := err1 == nil && err2 == nil
	if shared {
		pre, post = string(before[:len(before)-1])+`,"run_index":`, ","+string(after[1:])
	}
	var out []Event
	for i, t := range pf.LastRuns {
		e := Event{
			TS: t, Host: host, ArtifactID: artifactID, RecordID: int64(i), Source: "prefetch",
			Process: exe,
			Summary: fmt.Sprintf("%s ran (prefetch run time %d of %d recorded, run count %d)",
				pf.Executable, i+1, len(pf.LastRuns), pf.RunCount),
			Data: map[string]any{
				"executable": pf.Executable, "hash": hash, "run_count": pf.RunCount,
				"version": pf.Version, "files": files, "directories": pf.Directories, "volumes": volumes,
				"run_index": i,
			},
		}
		if shared {
			e.raw = pre + strconv.Itoa(i) + post
		}
		setAside(&e)
		out = append(out, e)
	}
	return out
}

// executablePath finds the executable's full path in the file list; a
// truncated name matches the start of the file name.
func executablePath(pf *prefetch.File) string {
	name := strings.ToUpper(pf.Executable)
	for _, f := range pf.Files {
		b := strings.ToUpper(base(f.Name))
		if b == name || pf.ExecutableTruncated && strings.HasPrefix(b, name) {
			return f.Name
		}
	}
	return pf.Executable
}

// FromHistoryLine normalizes one PSReadLine history line. The file records
// no per-line time, so the file's modification time stands in as an upper
// bound and the summary says so.
func FromHistoryLine(host string, artifactID int64, winPath string, mtime time.Time, lineNo int, line string) Event {
	user := profileUser(winPath)
	e := Event{
		TS: mtime, Host: host, ArtifactID: artifactID, RecordID: int64(lineNo), Source: "history",
		User: user, Process: "powershell.exe", CommandLine: line,
		Summary: fmt.Sprintf("PSReadLine history of %s, line %d (time is the file's mtime, an upper bound): %s",
			orUnknown(user), lineNo, clip(line)),
		Data: map[string]any{"line": line, "line_number": lineNo, "ts_is_upper_bound": true, "history_file": winPath},
	}
	setAside(&e)
	return e
}

// FromTextFile normalizes a batch or script file as one event at its mtime.
func FromTextFile(host string, artifactID int64, source, winPath string, mtime time.Time, encoding, content string, lines int) Event {
	e := Event{
		TS: mtime, Host: host, ArtifactID: artifactID, RecordID: 0, Source: source,
		User: profileUser(winPath), Process: winPath,
		Summary: fmt.Sprintf("%s file %s (%d lines; time is the file's mtime)", source, winPath, lines),
		Data:    map[string]any{"content": content, "encoding": encoding, "lines": lines, "path": winPath},
	}
	setAside(&e)
	return e
}

// The times an event can be placed at. The ts_ns column counts int64
// nanoseconds from 1970, which reach from 1677-09-21 to 2262-04-11; beyond
// them the count wraps and the event would sort among others at a time
// nobody recorded. (ts itself would also sort wrong as text past 9999.) A
// FILETIME reaches from 1601 to 30828, so a damaged or forged record can
// hold any of those.
var (
	earliestTime = time.Unix(0, math.MinInt64).UTC()
	latestTime   = time.Unix(0, math.MaxInt64).UTC()
)

// RawTimeKey is the data key that keeps an event's recorded time when that
// time cannot be placed on the timeline; its presence marks the event.
const RawTimeKey = "raw_time"

// Placeable reports whether t can be stored as an event's time: the zero
// time (no time) or a time between 1677-09-21 and 2262-04-11.
func Placeable(t time.Time) bool {
	return t.IsZero() || !t.Before(earliestTime) && !t.After(latestTime)
}

// setAside takes an event whose recorded time cannot be placed out of the
// time order: it keeps no time, like a history line, so every time range
// and sort leaves it out, while its data keeps the recorded time under
// RawTimeKey and its summary says what happened.
func setAside(e *Event) {
	if Placeable(e.TS) {
		return
	}
	raw := e.TS.UTC().Format(TimeLayout)
	e.TS = time.Time{}
	e.Summary += " (recorded time " + raw + " is outside 1677–2262 and was set aside: the event has no place in the time order)"
	if e.Data != nil {
		e.Data[RawTimeKey] = raw
		e.raw = "" // the shared encoding lacks the key; Data has everything
		return
	}
	i, found := slices.BinarySearchFunc(e.fields, RawTimeKey, func(f field, k string) int { return strings.Compare(f.key, k) })
	if found {
		// A field of the record spells the key: the recorded time, which is
		// ours to state, wins; the field is still in the evidence record.
		e.fields[i].value = raw
		return
	}
	e.fields = slices.Insert(e.fields, i, field{RawTimeKey, raw})
}

// profileUser takes the account name from a path under Users\<name>\.
func profileUser(winPath string) string {
	parts := strings.Split(strings.ReplaceAll(winPath, `\`, "/"), "/")
	for i := 0; i+1 < len(parts); i++ {
		if strings.EqualFold(parts[i], "Users") || strings.EqualFold(parts[i], "Documents and Settings") {
			return parts[i+1]
		}
	}
	return ""
}

func orUnknown(s string) string {
	if s == "" {
		return "an unknown user"
	}
	return s
}
