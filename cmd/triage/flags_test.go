package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestParseBusinessHours(t *testing.T) {
	for _, tt := range []struct {
		in         string
		start, end int
		hint       string // "" when the value is valid
	}{
		{"08-18", 8, 18, ""}, {"8-18", 8, 18, ""}, {"00-24", 0, 24, ""}, {"22-06", 22, 6, ""},
		{"18-00", 18, 24, ""}, {"18-24", 18, 24, ""}, {"23-01", 23, 1, ""},
		{"xx-18", 0, 0, "for example --business-hours 08-18, or 22-06 for a night shift"},
		{"08:00-18:00", 0, 0, "did you mean --business-hours 08-18?"},
		{"8am-6pm", 0, 0, "did you mean --business-hours 08-18?"},
		{"08–18", 0, 0, "did you mean --business-hours 08-18?"}, // an en dash
		{"10pm-6am", 0, 0, "did you mean --business-hours 22-06?"},
		{"24-06", 0, 0, "did you mean --business-hours 00-06?"},
		{"08-08", 0, 0, "--business-hours 00-24 counts every hour as business hours"},
		{"00-00", 0, 0, "--business-hours 00-24 counts every hour as business hours"},
		{"08-25", 0, 0, "for example"}, {"", 0, 0, "for example"}, {"-", 0, 0, "for example"},
		{"008-18", 0, 0, "for example"}, {"+8-18", 0, 0, "did you mean --business-hours 08-18?"},
	} {
		start, end, err := parseBusinessHours(tt.in)
		if tt.hint == "" {
			if err != nil || start != tt.start || end != tt.end {
				t.Errorf("%q: %d-%d, %v; want %d-%d", tt.in, start, end, err, tt.start, tt.end)
			}
			continue
		}
		var ue *usageError
		if !errors.As(err, &ue) || len(ue.hints) == 0 || !strings.HasPrefix(ue.hints[0], tt.hint) {
			t.Errorf("%q: %v, want a usage error with the hint %q", tt.in, err, tt.hint)
		}
	}
}

func TestParseZone(t *testing.T) {
	for _, tt := range []struct{ in, hint string }{
		{"UTC", ""}, {"Europe/Berlin", ""}, {"America/New_York", ""},
		{"europe/berlin", "did you mean --tz Europe/Berlin?"},
		{"AMERICA/NEW_YORK", "did you mean --tz America/New_York?"},
		{"UTC+2", "did you mean --tz Etc/GMT-2?"}, {"+05:00", "did you mean --tz Etc/GMT-5?"},
		{"GMT-3", "did you mean --tz Etc/GMT+3?"}, {"UTC+0", "did you mean --tz UTC?"},
		{"Local", "name the host's zone"}, {"", "write --tz UTC"},
		{"Mars/Olympus", "zone names look like"}, {"../../etc/passwd", "zone names look like"},
	} {
		loc, err := parseZone("tz", tt.in)
		if tt.hint == "" {
			if err != nil || loc.String() != tt.in {
				t.Errorf("%q: %v, %v", tt.in, loc, err)
			}
			continue
		}
		var ue *usageError
		if !errors.As(err, &ue) || len(ue.hints) == 0 || !strings.HasPrefix(ue.hints[0], tt.hint) {
			t.Errorf("%q: %v (hints %v), want the hint %q", tt.in, err, ue, tt.hint)
		}
	}
}

func TestParseReportTime(t *testing.T) {
	for _, tt := range []struct{ in, hint string }{
		{"2024-03-01T09:00:00Z", ""}, {"2024-03-01T09:00:00+01:00", ""}, {"2024-03-01T09:00:00.5Z", ""},
		{"2024-03-01T09:00:00", "did you mean --report-time 2024-03-01T09:00:00Z?"},
		{"2024-03-01 09:00:00+01:00", "did you mean --report-time 2024-03-01T09:00:00+01:00?"},
		{"2024-03-01", "did you mean --report-time 2024-03-01T00:00:00Z?"},
		{"now", "for example --report-time 2024-03-01T09:00:00Z"},
	} {
		_, err := parseReportTime("report-time", tt.in)
		if tt.hint == "" {
			if err != nil {
				t.Errorf("%q: %v", tt.in, err)
			}
			continue
		}
		var ue *usageError
		if !errors.As(err, &ue) || len(ue.hints) == 0 || ue.hints[0] != tt.hint {
			t.Errorf("%q: %v, want the hint %q", tt.in, err, tt.hint)
		}
	}
}

// TestEveryVerbHasHelp: --help and -h on every verb and dump format print
// the usage to stdout, with the flags as --flag and the exit statuses,
// and exit 0.
func TestEveryVerbHasHelp(t *testing.T) {
	var argvs [][]string
	for _, name := range verbNames() {
		argvs = append(argvs, []string{name, "--help"}, []string{name, "-h"})
	}
	for format := range dumpers {
		argvs = append(argvs, []string{"dump", format, "--help"})
	}
	for _, argv := range argvs {
		var stdout, stderr bytes.Buffer
		code := dispatch(argv, &stdout, &stderr)
		out := stdout.String()
		if code != exitOK || stderr.Len() > 0 || !strings.HasPrefix(out, "usage: triage "+argv[0]) ||
			!strings.Contains(out, "\nexit status:\n") || strings.Contains(out, "\n  -") && !strings.Contains(out, "\n  --") {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", argv, code, out, stderr.String())
		}
	}
}

func TestEditDistance(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		want int
	}{{"", "", 0}, {"tz", "tz", 0}, {"busines-hours", "business-hours", 1}, {"verison", "version", 2}, {"abc", "", 3}} {
		if got := editDistance(tt.a, tt.b); got != tt.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}
