package report

import (
	"database/sql"
	"regexp"
	"sort"
	"strings"
)

// The fleet view stacks what ran across hosts: for each normalized
// interpreter command line, parent → child pair and script, the number of
// hosts it was seen on, fewest first. What every host does is noise; what
// one host in fifty does is where to look.

// fleetRowsShown bounds each fleet table; the rest are counted, not listed,
// as they are the values seen on the most hosts.
const fleetRowsShown = 40

// maxFleetValues bounds the distinct values a fleet table compares, so that
// a flood of unique command lines costs bounded memory; values past it are
// counted and the report says so.
const maxFleetValues = 200_000

// fleetHostsNamed is how many host names a row lists: a value on more
// hosts than that is common enough that its count says what matters.
const fleetHostsNamed = 3

type fleetView struct {
	Hosts  int // hosts in the case
	Tables []fleetTable
}

type fleetTable struct {
	Title, Column, Note string
	Rows                []fleetRow
	More                int  // values not listed: seen on more hosts than the last row
	Distinct            int  // distinct values compared
	Uncompared          int  // records whose value came past maxFleetValues
	AllEverywhere       bool // every value was seen on every host
	HashColumn          bool // Value is a SHA-256, shown compact
}

type fleetRow struct {
	Value   string // the normalized command line, the pair, or a SHA-256
	Example string // a path the script was seen at, for script rows
	Hosts   int
	Records int
	Seen    []string // the hosts, when there are at most fleetHostsNamed
}

// stack counts, per value, the hosts and records it was seen on. Records
// must come grouped by host (ORDER BY host), so that a host is counted once
// per value by comparing it with the last host seen.
type stack struct {
	hostIndex  map[string]int
	values     map[string]*stackEntry
	uncompared int
}

type stackEntry struct {
	hosts, records, lastHost int
	seen                     []string
	example                  string
}

func newStack() *stack {
	return &stack{hostIndex: map[string]int{}, values: map[string]*stackEntry{}}
}

func (s *stack) add(host, value, example string) {
	h, ok := s.hostIndex[host]
	if !ok {
		h = len(s.hostIndex) + 1
		s.hostIndex[host] = h
	}
	e := s.values[value]
	if e == nil {
		if len(s.values) >= maxFleetValues {
			s.uncompared++
			return
		}
		e = &stackEntry{example: example}
		s.values[value] = e
	}
	e.records++
	if e.lastHost != h {
		e.lastHost = h
		e.hosts++
		if len(e.seen) <= fleetHostsNamed {
			e.seen = append(e.seen, host)
		}
	}
}

// table sorts the values fewest hosts first, then fewest records, then by
// value, and keeps the first fleetRowsShown.
func (s *stack) table(title, column string, hosts int) fleetTable {
	t := fleetTable{Title: title, Column: column, Distinct: len(s.values), Uncompared: s.uncompared, AllEverywhere: len(s.values) > 0}
	rows := make([]fleetRow, 0, len(s.values))
	for v, e := range s.values {
		r := fleetRow{Value: v, Example: e.example, Hosts: e.hosts, Records: e.records}
		if e.hosts <= fleetHostsNamed {
			r.Seen = e.seen
		}
		t.AllEverywhere = t.AllEverywhere && e.hosts == hosts
		rows = append(rows, r)
	}
	sort.Slice(rows, func(i, j int) bool {
		a, b := rows[i], rows[j]
		if a.Hosts != b.Hosts {
			return a.Hosts < b.Hosts
		}
		if a.Records != b.Records {
			return a.Records < b.Records
		}
		return a.Value < b.Value
	})
	if len(rows) > fleetRowsShown {
		t.More = len(rows) - fleetRowsShown
		rows = rows[:fleetRowsShown]
	}
	t.Rows = rows
	return t
}

// processStarts selects the records of a process start that name the
// command line and the parent, grouped by host. As in interpreterRuns, the
// event ids alone make the index lookup.
const processStarts = `SELECT host, process, parent_process, command_line FROM events WHERE source='evtx' AND event_id IN (4688, 1) AND (
	(provider='Microsoft-Windows-Security-Auditing' AND event_id=4688) OR (provider='Microsoft-Windows-Sysmon' AND event_id=1))
	ORDER BY host, event_id, id`

// fleetScripts selects every script the case holds with its host: the
// reassembled 4104 blocks and the batch and script files.
const fleetScripts = `SELECT host, sha256, CASE WHEN path != '' THEN path ELSE 'script block ' || script_block_id END FROM scripts
	UNION ALL SELECT host, sha256, path FROM artifacts WHERE kind IN ('batch', 'script')
	ORDER BY 1`

// interpreterImages are the programs whose command lines the fleet view
// stacks, as the activity chart counts them.
var interpreterImages = map[string]bool{"powershell.exe": true, "pwsh.exe": true, "cmd.exe": true,
	"wscript.exe": true, "cscript.exe": true, "mshta.exe": true}

func loadFleet(db *sql.DB, d *data) error {
	d.Fleet.Hosts = len(d.Hosts)
	if len(d.Hosts) < 2 {
		return nil // one host has nothing to be compared with
	}
	commands, pairs, scripts := newStack(), newStack(), newStack()
	rows, err := db.Query(processStarts)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var host, process, parent, cmd string
		if err := rows.Scan(&host, &process, &parent, &cmd); err != nil {
			return err
		}
		child := imageName(process)
		if parent != "" && child != "" {
			pairs.add(host, imageName(parent)+" → "+child, "")
		}
		if interpreterImages[child] && cmd != "" {
			commands.add(host, normalizeCommandLine(cmd), "")
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	srows, err := db.Query(fleetScripts)
	if err != nil {
		return err
	}
	defer srows.Close()
	for srows.Next() {
		var host, sum, path string
		if err := srows.Scan(&host, &sum, &path); err != nil {
			return err
		}
		scripts.add(host, sum, path)
	}
	if err := srows.Err(); err != nil {
		return err
	}
	n := len(d.Hosts)
	d.Fleet.Tables = []fleetTable{
		commands.table("Interpreter command lines", "Command line (normalized)", n),
		pairs.table("Parent → child processes", "Parent → child", n),
		scripts.table("Scripts and batch files", "SHA-256", n),
	}
	d.Fleet.Tables[0].Note = "Lowercased; the program's folder, user profile names, GUIDs, hexadecimal and decimal numbers and temporary file names replaced by placeholders, so that the same command on two hosts reads the same."
	d.Fleet.Tables[2].HashColumn = true
	return nil
}

// imageName is the lowercased file name of a Windows or volume path.
func imageName(p string) string {
	return strings.ToLower(p[strings.LastIndexAny(p, `\/`)+1:])
}

var (
	fleetGUID    = regexp.MustCompile(`\{?[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\}?`)
	fleetProfile = regexp.MustCompile(`\\users\\[^\\"' ]+`)
	fleetTemp    = regexp.MustCompile(`\b(?:tmp|~df|~)[0-9a-f]{1,8}(?:\.tmp)?\b|\b[0-9a-f]{8}\.tmp\b`)
	fleetHex     = regexp.MustCompile(`\b0x[0-9a-f]+\b|\b[0-9a-f]{16,}\b`)
	fleetNumber  = regexp.MustCompile(`\d+`)
	fleetSpace   = regexp.MustCompile(`\s+`)
)

// normalizeCommandLine reduces a command line to what stays the same when
// the same command runs on another host or at another time: lowercased,
// the program's folder dropped, user names, GUIDs, temporary names and
// numbers replaced by placeholders, runs of spaces as one.
func normalizeCommandLine(cmd string) string {
	s := strings.ToLower(strings.TrimSpace(cmd))
	s = programName(s)
	s = fleetGUID.ReplaceAllString(s, "<guid>")
	s = fleetProfile.ReplaceAllString(s, `\users\<user>`)
	s = fleetTemp.ReplaceAllString(s, "<tmp>")
	s = fleetHex.ReplaceAllString(s, "<hex>")
	s = fleetNumber.ReplaceAllString(s, "<n>")
	return fleetSpace.ReplaceAllString(s, " ")
}

// programName replaces the path of the program a command line starts with
// by its file name: cmd.exe runs from System32 or SysWOW64, quoted or not.
func programName(s string) string {
	var prog, rest string
	if strings.HasPrefix(s, `"`) {
		end := strings.IndexByte(s[1:], '"')
		if end < 0 {
			return s
		}
		prog, rest = s[1:end+1], s[end+2:]
	} else if i := strings.IndexByte(s, ' '); i >= 0 {
		prog, rest = s[:i], s[i:]
	} else {
		prog = s
	}
	return prog[strings.LastIndexAny(prog, `\/`)+1:] + rest
}
