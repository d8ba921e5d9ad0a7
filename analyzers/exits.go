package analyzers

import (
	"context"
	"fmt"
	"iter"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"triage/timeline"
)

// A Security 4689 records a process's exit but not its command line, so it
// cannot show by itself what a shell was told to do. Paired with its start
// by process id it tells how long the shell ran, which says whether it ran
// one command or stayed open for someone typing into it.

// processExit is the exit paired with a start.
type processExit struct {
	exit *Event
	ran  time.Duration
}

// processID reads a process id as the logs write it: 4688 and 4689 in hex
// ("0x1a2c"), Sysmon in decimal.
func processID(s string) (uint64, bool) {
	s = strings.TrimSpace(s)
	if h, ok := strings.CutPrefix(strings.ToLower(s), "0x"); ok {
		n, err := strconv.ParseUint(h, 16, 64)
		return n, err == nil
	}
	n, err := strconv.ParseUint(s, 10, 64)
	return n, err == nil && s != ""
}

// startedID is the id of the process a start record created.
func startedID(e *Event) (uint64, bool) {
	if e.Provider == timeline.ProviderSecurity {
		return processID(e.Field("NewProcessId"))
	}
	return processID(e.Field("ProcessId"))
}

// shellExits loads the cmd.exe exits (Security 4689) and pairs them with the
// cmd.exe starts among procs. Only the starts that created a process id
// some exit names are kept for the pairing: the others pair with nothing.
func shellExits(ctx context.Context, in *Input, procs iter.Seq[*Event]) (map[int64]processExit, error) {
	exits, err := in.Events(ctx, `source='`+timeline.SourceEVTX+`' AND provider='`+timeline.ProviderSecurity+`' AND event_id=4689
		AND process LIKE '%cmd.exe'`)
	if err != nil || len(exits) == 0 {
		return nil, err
	}
	type key struct {
		host string
		pid  uint64
	}
	exited := map[key]bool{}
	for i := range exits {
		if x := &exits[i]; x.image() == "cmd.exe" && !x.TS.IsZero() {
			if pid, ok := processID(x.Field("ProcessId")); ok {
				exited[key{x.Host, pid}] = true
			}
		}
	}
	var starts []Event
	for e := range procs {
		if pid, ok := startedID(e); ok && exited[key{e.Host, pid}] {
			starts = append(starts, *e)
		}
	}
	return pairExits(starts, exits, "cmd.exe"), in.err
}

// pairExits pairs each start of image with the nearest exit after it on the
// same host with the process id the start created. A later start that
// reused the id before that exit takes it instead: ids are reused once a
// process is gone. Records of one start (4688 and Sysmon 1) pair with the
// same exit.
func pairExits(starts, exits []Event, image string) map[int64]processExit {
	type key struct {
		host string
		pid  uint64
	}
	byKey := map[key][]*Event{}
	for i := range exits {
		x := &exits[i]
		if pid, ok := processID(x.Field("ProcessId")); ok && x.image() == image && !x.TS.IsZero() {
			byKey[key{x.Host, pid}] = append(byKey[key{x.Host, pid}], x)
		}
	}
	for _, xs := range byKey {
		sort.SliceStable(xs, func(i, j int) bool { return xs[i].TS.Before(xs[j].TS) })
	}
	// The start of each kind of record that last created the id before an
	// exit owns it; the kinds are kept apart so that a 4688 and the Sysmon 1
	// of one start both pair.
	type owner struct {
		key  key
		kind string
		exit *Event
	}
	latest := map[owner]*Event{}
	out := map[int64]processExit{}
	for i := range starts {
		e := &starts[i]
		pid, ok := startedID(e)
		if !ok || e.image() != image || e.TS.IsZero() {
			continue
		}
		k := key{e.Host, pid}
		xs := byKey[k]
		n := sort.Search(len(xs), func(j int) bool { return !xs[j].TS.Before(e.TS) })
		if n == len(xs) {
			continue
		}
		o := owner{k, timeline.RecordKind(e.Source, e.Channel, e.EventID), xs[n]}
		if prev := latest[o]; prev != nil {
			if prev.TS.After(e.TS) {
				continue
			}
			delete(out, prev.ID)
		}
		latest[o] = e
		out[e.ID] = processExit{exit: xs[n]}
	}
	// The shell ran from the first record of its start, so that every
	// record of one start tells the same duration.
	first := map[int64]time.Time{}
	for i := range starts {
		if x, ok := out[starts[i].ID]; ok {
			if t, seen := first[x.exit.ID]; !seen || starts[i].TS.Before(t) {
				first[x.exit.ID] = starts[i].TS
			}
		}
	}
	for id, x := range out {
		x.ran = x.exit.TS.Sub(first[x.exit.ID])
		out[id] = x
	}
	return out
}

// citeContext adds a record that tells about a start (its exit, its WMI
// caller) to a finding on the start. It is cited but not linked as another
// kind of record of the start, so that the findings of a start's 4688 and
// Sysmon 1 still merge.
func (f *Finding) citeContext(e *Event) {
	if !slices.Contains(f.EventIDs, e.ID) {
		f.EventIDs = append(f.EventIDs, e.ID)
	}
}

// exitSentence says when the shell exited and how long it ran.
func exitSentence(x processExit) string {
	s := fmt.Sprintf(" The shell exited %s after it started (Security 4689 at %s UTC, paired by process id", span(x.ran),
		x.exit.TS.UTC().Format("2006-01-02 15:04:05.000"))
	if st := x.exit.Field("Status"); st != "" {
		s += ", exit status " + st
	}
	return s + ")."
}
