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
	exit exitRecord
	ran  time.Duration
}

// exitRecord is what a pairing keeps of a 4689: its record, to cite, its
// time and the exit status. Kept whole, the exits of a busy host's shells
// held a kilobyte each.
type exitRecord struct {
	id     int64
	ts     time.Time
	status string
}

// pidKey is a process id on a host.
type pidKey struct {
	host string
	pid  uint64
}

// keyedExit is an exit of the program a pairing is for, by process id.
type keyedExit struct {
	exitRecord
	key pidKey
}

// keyedStart is a start of that program, by the process id it created.
type keyedStart struct {
	id   int64
	ts   time.Time
	key  pidKey
	kind string // of record: a 4688 and a Sysmon 1 of one start both pair
}

// keyExit is x as a pairing for image keeps it; ok is false for an exit of
// another program, without a time or without a readable process id.
func keyExit(x *Event, image string) (keyedExit, bool) {
	pid, ok := processID(x.Field("ProcessId"))
	if !ok || x.image() != image || x.TS.IsZero() {
		return keyedExit{}, false
	}
	return keyedExit{exitRecord{id: x.ID, ts: x.TS, status: strings.Clone(x.Field("Status"))}, pidKey{x.Host, pid}}, true
}

// keyStart is e as a pairing for image keeps it, as keyExit.
func keyStart(e *Event, image string) (keyedStart, bool) {
	pid, ok := startedID(e)
	if !ok || e.image() != image || e.TS.IsZero() {
		return keyedStart{}, false
	}
	return keyedStart{id: e.ID, ts: e.TS, key: pidKey{e.Host, pid}, kind: timeline.RecordKind(e.Source, e.Channel, e.EventID)}, true
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

// shellExits reads the cmd.exe exits (Security 4689) and pairs them with
// the cmd.exe starts among procs. Only the starts that created a process
// id some exit names are kept for the pairing: the others pair with
// nothing.
func shellExits(ctx context.Context, in *Input, procs iter.Seq[*Event]) (map[int64]processExit, error) {
	var exits []keyedExit
	for x := range in.eventsOf(timeline.SourceEVTX, []int{4689}, `+provider='`+timeline.ProviderSecurity+`' AND +process LIKE '%cmd.exe'`) {
		if k, ok := keyExit(x, "cmd.exe"); ok {
			exits = append(exits, k)
		}
	}
	if len(exits) == 0 {
		return nil, in.err
	}
	exited := map[pidKey]bool{}
	for _, x := range exits {
		exited[x.key] = true
	}
	var starts []keyedStart
	for e := range procs {
		if s, ok := keyStart(e, "cmd.exe"); ok && exited[s.key] {
			starts = append(starts, s)
		}
	}
	return pairExits(starts, exits), in.err
}

// pairExits pairs each start with the nearest exit after it on the same
// host with the process id the start created. A later start that reused
// the id before that exit takes it instead: ids are reused once a process
// is gone. Records of one start (4688 and Sysmon 1) pair with the same
// exit.
func pairExits(starts []keyedStart, exits []keyedExit) map[int64]processExit {
	byKey := map[pidKey][]*keyedExit{}
	for i := range exits {
		x := &exits[i]
		byKey[x.key] = append(byKey[x.key], x)
	}
	for _, xs := range byKey {
		sort.SliceStable(xs, func(i, j int) bool { return xs[i].ts.Before(xs[j].ts) })
	}
	// The start of each kind of record that last created the id before an
	// exit owns it; the kinds are kept apart so that a 4688 and the Sysmon 1
	// of one start both pair.
	type owner struct {
		key  pidKey
		kind string
		exit int64
	}
	latest := map[owner]*keyedStart{}
	out := map[int64]processExit{}
	for i := range starts {
		e := &starts[i]
		xs := byKey[e.key]
		n := sort.Search(len(xs), func(j int) bool { return !xs[j].ts.Before(e.ts) })
		if n == len(xs) {
			continue
		}
		o := owner{e.key, e.kind, xs[n].id}
		if prev := latest[o]; prev != nil {
			if prev.ts.After(e.ts) {
				continue
			}
			delete(out, prev.id)
		}
		latest[o] = e
		out[e.id] = processExit{exit: xs[n].exitRecord}
	}
	// The shell ran from the first record of its start, so that every
	// record of one start tells the same duration.
	first := map[int64]time.Time{}
	for i := range starts {
		if x, ok := out[starts[i].id]; ok {
			if t, seen := first[x.exit.id]; !seen || starts[i].ts.Before(t) {
				first[x.exit.id] = starts[i].ts
			}
		}
	}
	for id, x := range out {
		x.ran = x.exit.ts.Sub(first[x.exit.id])
		out[id] = x
	}
	return out
}

// citeContext adds a record that tells about a start (its exit, its WMI
// caller) to a finding on the start. It is cited but not linked as another
// kind of record of the start, so that the findings of a start's 4688 and
// Sysmon 1 still merge.
func (f *Finding) citeContext(id int64) {
	if !slices.Contains(f.EventIDs, id) {
		f.EventIDs = append(f.EventIDs, id)
	}
}

// exitSentence says when the shell exited and how long it ran.
func exitSentence(x processExit) string {
	s := fmt.Sprintf(" The shell exited %s after it started (Security 4689 at %s UTC, paired by process id", span(x.ran),
		x.exit.ts.UTC().Format("2006-01-02 15:04:05.000"))
	if st := x.exit.status; st != "" {
		s += ", exit status " + st
	}
	return s + ")."
}
