package analyzers

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"triage/timeline"
)

// Records of one process start (see timeline.StartSet) each give the
// analyzers a finding; mergeSameStarts makes them one.

// mergeLookBack bounds how many earlier findings a finding is compared with,
// so that a log whose records all carry one timestamp costs linear time.
const mergeLookBack = 64

// mergeSameStarts folds findings that say the same thing about the same
// start, recorded by different kinds of record, into the first of them; the
// merged finding cites every record. fs must be sorted by less.
func mergeSameStarts(fs []Finding) []Finding {
	out := fs[:0]
	for _, f := range fs {
		merged := false
		for i := len(out) - 1; i >= 0 && i >= len(out)-mergeLookBack && f.TS.Sub(out[i].TS) <= timeline.SameStartWindow; i-- {
			if sameDetection(&out[i], &f) {
				out[i].absorb(&f)
				merged = true
				break
			}
		}
		if !merged {
			out = append(out, f)
		}
	}
	return out
}

var unquote = strings.NewReplacer(`\"`, "", `"`, "")

// sameCommandLine compares command lines as logged by different records of
// one start: Windows PowerShell 400 gives HostApplication as the engine
// parsed it, with outer quotes dropped and \" unescaped, and the logs differ
// in case and spacing.
func sameCommandLine(a, b string) bool {
	norm := func(s string) string {
		return strings.Join(strings.Fields(strings.ToLower(unquote.Replace(s))), " ")
	}
	return norm(a) == norm(b)
}

func sameDetection(a, b *Finding) bool {
	if a.Host != b.Host || a.Title != b.Title || a.Rule != b.Rule || a.Severity != b.Severity ||
		!sameCommandLine(a.Matched, b.Matched) || a.Decoded != b.Decoded {
		return false
	}
	for _, k := range b.kinds {
		if slices.Contains(a.kinds, k) {
			return false
		}
	}
	return len(a.kinds) > 0 && len(b.kinds) > 0
}

// absorb adds b's evidence and links to f.
func (f *Finding) absorb(b *Finding) {
	f.absorbCiting(b, idSet(f.EventIDs))
}

func idSet(ids []int64) map[int64]bool {
	have := make(map[int64]bool, len(ids))
	for _, id := range ids {
		have[id] = true
	}
	return have
}

// absorbCiting is absorb given the set of the records f cites, which it
// keeps up to date: a finding absorbing thousands of repeats one by one
// would otherwise build that set again from every record each time.
func (f *Finding) absorbCiting(b *Finding, have map[int64]bool) {
	n := len(f.EventIDs)
	for _, id := range b.EventIDs {
		if !have[id] {
			f.EventIDs = append(f.EventIDs, id)
		}
	}
	for _, id := range f.EventIDs[n:] {
		have[id] = true
	}
	for _, r := range b.Related {
		if !slices.Contains(f.Related, r) {
			f.Related = append(f.Related, r)
		}
	}
	for k := range b.keys {
		f.keys[k] = true
	}
	for _, k := range b.kinds {
		f.addKind(k)
	}
}

// foldRepeats makes findings that repeat one detection on one host (same
// title, rule and severity), each within window of the one before, one
// finding citing every record, with each distinct matched text on its own
// line (up to maxFoldedMatched bytes): a payload written to disk by 69 echo
// commands is one event for the reader, not 69. fs must be sorted by less.
func foldRepeats(fs []Finding, window time.Duration) []Finding {
	type group struct {
		finding int
		last    time.Time
		count   int
		host    string
		// matched are the distinct texts quoted, once the finding absorbs:
		// most findings never do, and a map each was a large part of the
		// analyzers' heap on a log of millions of starts.
		matched map[string]bool
		cited   map[int64]bool // the records the finding cites, once it absorbs
		// quoted is the finding's Matched once it quotes a second text:
		// adding to the string itself copied up to a megabyte per repeat.
		quoted *strings.Builder
	}
	open := map[[4]string]*group{}
	var groups []*group
	out := fs[:0]
	sweep := 0
	for _, f := range fs {
		// A group whose last finding is more than window before this one,
		// or of another host, takes no more (fs is in time order within
		// each host): it leaves open, which would otherwise hold a key
		// per finding. Swept when open has doubled, so in linear time.
		if len(open) > 2*sweep+1024 {
			for key, g := range open {
				if g.host != f.Host || f.TS.Sub(g.last) > window {
					delete(open, key)
				}
			}
			sweep = len(open)
		}
		key := [4]string{f.Host, f.Title, f.Rule, f.Severity.String()}
		if g := open[key]; g != nil && f.TS.Sub(g.last) <= window {
			first := &out[g.finding]
			if g.cited == nil {
				g.cited = idSet(first.EventIDs)
				g.matched = map[string]bool{first.Matched: true}
			}
			first.absorbCiting(&f, g.cited)
			g.last, g.count = f.TS, g.count+1
			if g.quoted == nil {
				g.quoted = &strings.Builder{}
				g.quoted.WriteString(first.Matched)
			}
			if !g.matched[f.Matched] && g.quoted.Len()+len(f.Matched) < maxFoldedMatched {
				g.matched[f.Matched] = true
				g.quoted.WriteString("\n")
				g.quoted.WriteString(f.Matched)
			}
			continue
		}
		g := &group{finding: len(out), host: f.Host, last: f.TS, count: 1}
		open[key] = g
		groups = append(groups, g)
		out = append(out, f)
	}
	for _, g := range groups {
		if g.quoted != nil {
			out[g.finding].Matched = g.quoted.String()
		}
		if g.count > 1 {
			f := &out[g.finding]
			f.Title += fmt.Sprintf(", %d times within %s", g.count, span(g.last.Sub(f.TS)))
			if f.Features == nil {
				f.Features = map[string]any{}
			}
			f.Features["repeats"] = g.count
			f.Features["matched_texts_quoted"] = len(g.matched)
		}
	}
	return out
}

// maxFoldedMatched bounds the matched texts a folded finding quotes; a
// flood of distinct command lines is cited in full through its records.
const maxFoldedMatched = 1 << 20

// span writes how long a burst lasted: to the millisecond under a second,
// where rounding to seconds would say "0s".
func span(d time.Duration) time.Duration {
	if d < time.Second {
		return d.Round(time.Millisecond)
	}
	return d.Round(time.Second)
}
