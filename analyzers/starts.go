package analyzers

import (
	"slices"
	"strconv"
	"strings"
	"time"
)

// One process start is often recorded several times: by Security 4688, by
// Sysmon 1, as a prefetch run time and, for PowerShell, by the engine's 400
// event, all within moments of each other. A
// report that counted each record as a run, or gave each record a finding of
// its own, would overstate what happened.

// sameStartWindow is how far apart two records of one start may lie. On the
// corpus hosts they are milliseconds apart; two seconds leaves room for a
// loaded machine without joining separate runs of a script's loop, which
// are each logged by every record kind anyway.
const sameStartWindow = 2 * time.Second

// recordKind names which kind of record an event is (the log and event id,
// or the artifact kind), for telling two records of one start from two
// starts logged by the same log.
func recordKind(e *Event) string {
	if e.Source == "evtx" {
		return e.Channel + "/" + strconv.Itoa(e.EventID)
	}
	return e.Source
}

// startSet counts distinct process starts, recognising a record of a start
// already seen through another kind of record.
type startSet map[startKey][]startRecord

const maxStartsPerSecond = 256

type startKey struct {
	host, image string
	second      int64
}

type startRecord struct {
	kind string
	ts   time.Time
}

// add records e as a start of image and reports whether it is a new start
// (false: another kind of record already gave the same start).
func (s startSet) add(e *Event, image string) bool {
	kind, sec := recordKind(e), e.TS.Unix()
	reach := int64(sameStartWindow / time.Second)
	for d := -reach; d <= reach; d++ {
		for _, r := range s[startKey{e.Host, image, sec + d}] {
			if r.kind != kind && absDuration(r.ts.Sub(e.TS)) <= sameStartWindow {
				return false
			}
		}
	}
	// Past a few hundred starts of one program in one second the log is
	// flooded or forged; further starts still count, unmatched, so that
	// such a second costs no more than an ordinary one.
	if k := (startKey{e.Host, image, sec}); len(s[k]) < maxStartsPerSecond {
		s[k] = append(s[k], startRecord{kind, e.TS})
	}
	return true
}

func absDuration(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

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
		for i := len(out) - 1; i >= 0 && i >= len(out)-mergeLookBack && f.TS.Sub(out[i].TS) <= sameStartWindow; i-- {
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

// sameCommandLine compares command lines as logged by different records of
// one start: Windows PowerShell 400 gives HostApplication as the engine
// parsed it, with outer quotes dropped and \" unescaped, and the logs differ
// in case and spacing.
func sameCommandLine(a, b string) bool {
	unquote := strings.NewReplacer(`\"`, "", `"`, "")
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
	for k := range b.kinds {
		if a.kinds[k] {
			return false
		}
	}
	return len(a.kinds) > 0 && len(b.kinds) > 0
}

// absorb adds b's evidence and links to f.
func (f *Finding) absorb(b *Finding) {
	have := map[int64]bool{}
	for _, id := range f.EventIDs {
		have[id] = true
	}
	for _, id := range b.EventIDs {
		if !have[id] {
			f.EventIDs = append(f.EventIDs, id)
		}
	}
	for _, r := range b.Related {
		if !slices.Contains(f.Related, r) {
			f.Related = append(f.Related, r)
		}
	}
	for k := range b.keys {
		f.keys[k] = true
	}
	for k := range b.kinds {
		f.kinds[k] = true
	}
}
