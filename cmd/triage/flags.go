package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"triage/internal/printable"
	"triage/report"
)

// verbFlags is one verb's flag set with the text its --help prints. Every
// verb parses through it, so that all of them treat --help, unknown flags
// and misplaced flags alike and show flags as --flag.
type verbFlags struct {
	*flag.FlagSet
	name     string   // as typed after triage: "run", "dump evtx"
	synopsis string   // what follows the name in the usage line
	about    []string // lines under the usage line
}

func newVerbFlags(name, synopsis string, about ...string) *verbFlags {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	// The flag package's own messages spell flags with one dash and print
	// the whole usage on every mistake; parse says it our way instead.
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return &verbFlags{FlagSet: fs, name: name, synopsis: synopsis, about: about}
}

// parse parses args and returns the arguments after the flags. When ok is
// false the verb returns code at once: --help was printed to stdout
// (exitOK), or a usage error and its hints went to stderr (exitUsage).
func (v *verbFlags) parse(args []string, stdout, stderr io.Writer) (rest []string, code int, ok bool) {
	err := v.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		if err := v.usage(stdout); err != nil {
			fmt.Fprintf(stderr, "triage: %s: write usage: %v\n", v.name, err)
			return nil, exitFail, false
		}
		return nil, exitOK, false
	}
	if err != nil {
		return nil, v.fail(stderr, v.translate(err)), false
	}
	rest = v.Args()
	consumed := len(args) - len(rest)
	if consumed > 0 && args[consumed-1] == "--" {
		return rest, exitOK, true // what follows -- is never a flag
	}
	for _, a := range rest {
		switch {
		case a == "-h" || a == "-help" || a == "--help":
			return v.parse([]string{a}, stdout, stderr) // help asked for at the end of a line
		case len(a) > 1 && a[0] == '-':
			return nil, v.fail(stderr, v.misplaced(a)), false
		}
	}
	return rest, exitOK, true
}

// fail prints err, with its hints when it is a usageError, and returns
// exitUsage.
func (v *verbFlags) fail(stderr io.Writer, err error) int {
	reportUsageError(stderr, "triage: "+v.name+": ", err)
	fmt.Fprintf(stderr, "triage: hint: 'triage %s --help' shows the usage\n", v.name)
	return exitUsage
}

// reportUsageError prints err after prefix, then one "triage: hint:" line
// per hint it carries. Everything is escaped: flag values are often pasted
// from evidence.
func reportUsageError(stderr io.Writer, prefix string, err error) {
	fmt.Fprintf(stderr, "%s%s\n", prefix, printable.Escape(err.Error()))
	var ue *usageError
	if errors.As(err, &ue) {
		for _, h := range ue.hints {
			fmt.Fprintf(stderr, "triage: hint: %s\n", printable.Escape(h))
		}
	}
}

// The flag package reports its errors as text only; these match the
// messages it has printed since Go 1.0.
var (
	flagUndefined = regexp.MustCompile(`^flag provided but not defined: -+(.*)$`)
	flagNoValue   = regexp.MustCompile(`^flag needs an argument: -+(.*)$`)
	flagBadBool   = regexp.MustCompile(`^invalid boolean value "(.*)" for -+([^:]*):`)
	flagBadSyntax = regexp.MustCompile(`^bad flag syntax: (.*)$`)
)

// translate turns the flag package's error into ours, with hints.
func (v *verbFlags) translate(err error) error {
	msg := err.Error()
	if m := flagUndefined.FindStringSubmatch(msg); m != nil {
		ue := &usageError{msg: "unknown flag --" + m[1]}
		if near := v.nearest(m[1]); near != "" {
			ue.hints = append(ue.hints, "did you mean --"+near+"?")
		}
		return ue
	}
	if m := flagNoValue.FindStringSubmatch(msg); m != nil {
		return &usageError{msg: "flag --" + m[1] + " needs a value", hints: []string{"write " + v.spelled(m[1])}}
	}
	if m := flagBadBool.FindStringSubmatch(msg); m != nil {
		return &usageError{msg: fmt.Sprintf("flag --%s takes no value, got %q", m[2], m[1]),
			hints: []string{"write --" + m[2] + " alone to turn it on"}}
	}
	if m := flagBadSyntax.FindStringSubmatch(msg); m != nil {
		return &usageError{msg: fmt.Sprintf("bad flag syntax %q", m[1])}
	}
	return err
}

// misplaced explains an argument that looks like a flag after the first
// argument that does not: the flag package stops at that one, so a flag
// there would silently be taken as a file name.
func (v *verbFlags) misplaced(arg string) error {
	name, _, _ := strings.Cut(strings.TrimLeft(arg, "-"), "=")
	if v.Lookup(name) != nil {
		return &usageError{msg: fmt.Sprintf("flag %s comes after the arguments", arg),
			hints: []string{fmt.Sprintf("flags go before the arguments: triage %s %s %s", v.name, v.spelled(name),
				strings.TrimPrefix(v.synopsis, "[flags] "))}}
	}
	return &usageError{msg: fmt.Sprintf("%s after the arguments is not a flag of triage %s", arg, v.name),
		hints: []string{fmt.Sprintf("to name a file that starts with -, write ./%s or put -- before it", arg)}}
}

// spelled is how a flag is written with its value, as usage shows it.
func (v *verbFlags) spelled(name string) string {
	f := v.Lookup(name)
	if f == nil {
		return "--" + name
	}
	if metavar, _ := flag.UnquoteUsage(f); metavar != "" {
		return "--" + name + " " + metavar
	}
	return "--" + name
}

// nearest is the defined flag closest to a mistyped name, or "" when none
// is close enough to be a likely typo.
func (v *verbFlags) nearest(name string) string {
	best, bestDist := "", 3
	v.VisitAll(func(f *flag.Flag) {
		d := editDistance(strings.ToLower(name), f.Name)
		if strings.HasPrefix(f.Name, name) && len(name) >= 2 {
			d = 1
		}
		if d < bestDist {
			best, bestDist = f.Name, d
		}
	})
	return best
}

// editDistance is the Levenshtein distance of two short strings.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

// usage writes the verb's help: the usage line, what it does, its flags
// as --flag with their defaults, and the exit statuses.
func (v *verbFlags) usage(w io.Writer) error {
	ew := &errWriter{w: w}
	fmt.Fprintf(ew, "usage: triage %s %s\n\n", v.name, v.synopsis)
	for _, line := range v.about {
		fmt.Fprintln(ew, line)
	}
	var flags []*flag.Flag
	v.VisitAll(func(f *flag.Flag) { flags = append(flags, f) })
	if len(flags) > 0 {
		fmt.Fprintln(ew)
		fmt.Fprintln(ew, "flags:")
	}
	for _, f := range flags {
		_, meaning := flag.UnquoteUsage(f)
		fmt.Fprintf(ew, "  %-24s %s", v.spelled(f.Name), meaning)
		if f.DefValue != "" && f.DefValue != "false" {
			fmt.Fprintf(ew, " (default %s)", f.DefValue)
		}
		fmt.Fprintln(ew)
	}
	fmt.Fprintln(ew)
	printExitStatuses(ew)
	return ew.err
}

// usageError is a wrong flag or argument, with the hints that say how to
// write it right.
type usageError struct {
	msg   string
	hints []string
}

func (e *usageError) Error() string { return e.msg }

// parseZone loads an IANA time zone, with a hint for the usual mistakes:
// a name in the wrong case, a UTC offset, or Local.
func parseZone(flagName, s string) (*time.Location, error) {
	switch s {
	case "":
		return nil, &usageError{msg: "--" + flagName + " is empty", hints: []string{"write --" + flagName + " UTC, or the host's IANA zone such as Europe/Berlin"}}
	case "Local":
		return nil, &usageError{msg: "--" + flagName + " Local is the zone of the machine running triage, not of the evidence",
			hints: []string{"name the host's zone, such as --" + flagName + " Europe/Berlin"}}
	}
	loc, err := time.LoadLocation(s)
	if err == nil {
		return loc, nil
	}
	ue := &usageError{msg: fmt.Sprintf("--%s %q is not an IANA time zone", flagName, s)}
	if fixed, ok := etcZone(s); ok {
		ue.hints = append(ue.hints, fmt.Sprintf("did you mean --%s %s? (a fixed offset; the Etc zones count west as positive)", flagName, fixed))
	} else if cased := zoneCase(s); cased != s {
		if _, err := time.LoadLocation(cased); err == nil {
			ue.hints = append(ue.hints, fmt.Sprintf("did you mean --%s %s?", flagName, cased))
		}
	}
	if len(ue.hints) == 0 {
		ue.hints = append(ue.hints, "zone names look like Europe/Berlin, America/New_York or UTC")
	}
	return nil, ue
}

var utcOffset = regexp.MustCompile(`^(?i:UTC|GMT)?\s*([+-])(\d{1,2})(?::?00)?$`)

// etcZone turns an offset such as UTC+2 or +02:00 into Etc/GMT-2.
func etcZone(s string) (string, bool) {
	m := utcOffset.FindStringSubmatch(s)
	if m == nil {
		return "", false
	}
	h, _ := strconv.Atoi(m[2])
	if h > 14 {
		return "", false
	}
	if h == 0 {
		return "UTC", true
	}
	sign := "-"
	if m[1] == "-" {
		sign = "+"
	}
	return "Etc/GMT" + sign + strconv.Itoa(h), true
}

// zoneCase capitalises each word of a zone name: europe/berlin gives
// Europe/Berlin, AMERICA/NEW_YORK gives America/New_York.
func zoneCase(s string) string {
	b := []byte(strings.ToLower(s))
	for i := range b {
		if (i == 0 || b[i-1] == '/' || b[i-1] == '_' || b[i-1] == '-') && b[i] >= 'a' && b[i] <= 'z' {
			b[i] -= 'a' - 'A'
		}
	}
	return string(b)
}

// parseBusinessHours reads HH-HH, each hour 00 to 24. A start after the
// end is an overnight range (22-06: from 22:00 to 06:00 the next day); an
// end of 00 is midnight, the same as 24.
func parseBusinessHours(s string) (start, end int, err error) {
	a, b, found := strings.Cut(s, "-")
	start, okStart := wholeHour(a)
	end, okEnd := wholeHour(b)
	switch {
	case !found || !okStart || !okEnd:
		ue := &usageError{msg: fmt.Sprintf("--business-hours %q: want HH-HH, two hours from 00 to 24", s)}
		if guess, ok := guessHours(s); ok {
			ue.hints = append(ue.hints, "did you mean --business-hours "+guess+"?")
		} else {
			ue.hints = append(ue.hints, "for example --business-hours 08-18, or 22-06 for a night shift")
		}
		return 0, 0, ue
	case start == 24:
		return 0, 0, &usageError{msg: fmt.Sprintf("--business-hours %q: a day starts at 00, not 24", s),
			hints: []string{fmt.Sprintf("did you mean --business-hours 00-%02d?", end)}}
	}
	if end == 0 {
		end = 24
	}
	if start == end || start == 0 && end == 24 && b == "00" {
		return 0, 0, &usageError{msg: fmt.Sprintf("--business-hours %q is an empty range", s),
			hints: []string{"--business-hours 00-24 counts every hour as business hours"}}
	}
	return start, end, nil
}

// wholeHour reads one or two digits from 0 to 24.
func wholeHour(s string) (int, bool) {
	if len(s) < 1 || len(s) > 2 || strings.Trim(s, "0123456789") != "" {
		return 0, false
	}
	h, _ := strconv.Atoi(s)
	return h, h <= 24
}

var clockTime = regexp.MustCompile(`(?i)(\d{1,2})(?:[:.h](\d{2}))?\s*(am|pm)?`)

// guessHours reads two clock times written another way, such as
// 08:00-18:00, 8am-6pm or 08–18 with a dash pasted from a document.
func guessHours(s string) (string, bool) {
	m := clockTime.FindAllStringSubmatch(s, -1)
	if len(m) != 2 {
		return "", false
	}
	var h [2]int
	for i, t := range m {
		h[i], _ = strconv.Atoi(t[1])
		switch strings.ToLower(t[3]) {
		case "am":
			if h[i] == 12 {
				h[i] = 0
			}
		case "pm":
			if h[i] < 12 {
				h[i] += 12
			}
		}
		if h[i] > 24 {
			return "", false
		}
	}
	guess := fmt.Sprintf("%02d-%02d", h[0], h[1])
	if guess == s {
		return "", false
	}
	if _, _, err := parseBusinessHours(guess); err != nil {
		return "", false
	}
	return guess, true
}

// parseReportTime reads an RFC 3339 time, with a hint when the value is
// one of the near misses: no zone, a space for the T, a date alone.
func parseReportTime(flagName, s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339, s)
	if err == nil {
		return t, nil
	}
	ue := &usageError{msg: fmt.Sprintf("--%s %q is not an RFC 3339 time", flagName, s)}
	if guess, ok := guessRFC3339(s); ok {
		ue.hints = append(ue.hints, fmt.Sprintf("did you mean --%s %s?", flagName, guess))
	} else {
		ue.hints = append(ue.hints, fmt.Sprintf("for example --%s 2024-03-01T09:00:00Z", flagName))
	}
	return time.Time{}, ue
}

func guessRFC3339(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if len(s) > 10 && s[10] == ' ' {
		s = s[:10] + "T" + s[11:]
	}
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			if layout == time.RFC3339 {
				return t.Format(time.RFC3339Nano), true
			}
			return t.Format("2006-01-02T15:04:05Z"), true
		}
	}
	return "", false
}

// plainText refuses control characters in a free-text flag such as
// --case: the value is stated in the report and the manifest as given.
func plainText(flagName, s string) error {
	if printable.Escape(s) != s {
		return &usageError{msg: fmt.Sprintf("--%s %s holds control characters", flagName, printable.Escape(s))}
	}
	return nil
}

// timelineCSVUsage is the --timeline-csv flag's help, the same for every
// verb that renders the report.
const timelineCSVUsage = "also write timeline.csv, every event in time order, for Timeline Explorer; a case that has one keeps it up to date"

// hasTimelineCSV reports whether the case in dir holds a timeline.csv,
// which a render then writes again rather than leave behind stale.
func hasTimelineCSV(dir string) bool {
	fi, err := os.Lstat(filepath.Join(dir, report.TimelineCSVName))
	return err == nil && fi.Mode().IsRegular()
}
