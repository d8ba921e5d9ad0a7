package analyzers

import (
	"context"
	"fmt"
	"net"
	"sort"
	"strings"
	"time"

	"triage/timeline"
)

// A process WmiPrvSE.exe starts tells only that WMI started it: a local
// `wmic process call create` and a command sent from another host give the
// same parent. A report that calls it remote on that alone misleads its
// reader, so the parent rule says "local or remote" and attributeWMIStarts
// narrows it where the timeline shows the caller.

// wmiHostKind is the parent kind of WmiPrvSE.exe before the evidence says
// which WMI it was.
const wmiHostKind = "WMI provider host (WMI execution, local or remote)"

// clock is how the attribution writes the caller's time.
const clock = "2006-01-02 15:04:05.000"

const (
	// wmiCallWindow is how long before the child a wmic call that asked for
	// it may lie: WMI starts the process within a second on the demo host
	// and the corpus; a few seconds leave room for a loaded machine.
	wmiCallWindow = 5 * time.Second
	// networkLogonWindow is how long before the child a network logon
	// (4624 type 3) is taken as the session a remote caller opened.
	networkLogonWindow = 10 * time.Second
)

// attributeWMIStarts rewrites the parent findings on children of
// WmiPrvSE.exe in fs where the timeline shows the caller: a wmic.exe
// `process call create` of that program on the same host just before
// (local), one on another host naming this host with /node: (remote), or,
// failing both, a network logon just before (remote likely). The evidence
// is cited.
func attributeWMIStarts(ctx context.Context, in *Input, fs []Finding) error {
	var calls []*Event
	callsBuilt := false
	for i := range fs {
		f := &fs[i]
		if f.Features["parent_kind"] != wmiHostKind || len(f.EventIDs) == 0 {
			continue
		}
		child, err := in.startByID(ctx, f.EventIDs[0])
		if err != nil {
			return err
		}
		if child == nil {
			continue
		}
		if !callsBuilt {
			var wmic []Event
			for e := range in.startsOf(func(image string) bool { return image == "wmic.exe" }) {
				wmic = append(wmic, *e)
			}
			if in.err != nil {
				return in.err
			}
			calls, callsBuilt = wmiCalls(wmic), true
		}
		if caller, remote := wmiCaller(calls, child); caller != nil {
			f.citeContext(caller.ID)
			// Times, not spans: the 4688 and the Sysmon 1 of the child must
			// say the same, to be merged.
			before, line := "at "+caller.TS.UTC().Format(clock)+" UTC, just", clip(caller.CommandLine, 200)
			if remote {
				retitle(f, "remote WMI execution by wmic /node: from "+caller.Host)
				f.Rule += fmt.Sprintf(" A wmic.exe on %s asked WMI on this host to start it %s before (%s): the WMI execution was remote.",
					caller.Host, before, line)
				f.Features["wmi_origin"] = "remote"
			} else {
				retitle(f, "local WMI execution by wmic process call create")
				f.Rule += fmt.Sprintf(" A wmic.exe on this host asked WMI to start it %s before (%s): the WMI execution was local.", before, line)
				f.Features["wmi_origin"] = "local"
			}
			continue
		}
		logons, err := in.networkLogonsBefore(ctx, child)
		if err != nil {
			return err
		}
		if l := networkLogonBefore(logons, child); l != nil {
			f.citeContext(l.ID)
			who := logonAccount(l.Field("TargetDomainName"), l.Field("TargetUserName"))
			from := l.Field("IpAddress")
			if from == "" || from == "-" {
				from = l.Field("WorkstationName")
			}
			f.Rule += fmt.Sprintf(" A network logon (4624 type 3) of %s from %s came %s before, as a remote WMI caller's does; "+
				"no wmic call on this host asked for the process. Network logons are frequent, so this makes remote execution likely, not certain.",
				orUnrecorded(who), orUnrecorded(from), "at "+l.TS.UTC().Format(clock)+" UTC, just")
			retitle(f, "WMI execution after a network logon: likely remote")
			f.Features["wmi_origin"] = "remote likely"
			continue
		}
		f.Rule += " No wmic call on this host and no network logon just before show whether the WMI call came from this host or another."
	}
	return nil
}

// retitle replaces the parent kind in a WMI parent finding's title.
func retitle(f *Finding, kind string) {
	f.Title = strings.Replace(f.Title, "("+wmiHostKind+")", "(WMI provider host ("+kind+"))", 1)
}

// maxLookBack bounds the records before a child that are weighed as its
// caller, so that a log flooded with wmic calls or logons costs linear time.
const maxLookBack = 64

// byTime returns the events that pass keep and have a time, in time order.
func byTime(events []Event, keep func(*Event) bool) []*Event {
	var out []*Event
	for i := range events {
		if e := &events[i]; !e.TS.IsZero() && keep(e) {
			out = append(out, e)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].TS.Before(out[j].TS) })
	return out
}

// wmiCalls are the wmic.exe starts that ask WMI to create a process, in
// time order.
func wmiCalls(procs []Event) []*Event {
	return byTime(procs, func(e *Event) bool { return e.image() == "wmic.exe" && wmicCreate.MatchString(e.CommandLine) })
}

// before returns the events of sorted (in time order) at or before ts and
// within window of it, nearest first, at most maxLookBack of them.
func before(sorted []*Event, ts time.Time, window time.Duration) []*Event {
	n := sort.Search(len(sorted), func(i int) bool { return sorted[i].TS.After(ts) })
	var out []*Event
	for i := n - 1; i >= 0 && len(out) < maxLookBack && ts.Sub(sorted[i].TS) <= window; i-- {
		out = append(out, sorted[i])
	}
	return out
}

// wmiCaller is the wmic.exe start among calls (see wmiCalls) that asked WMI
// for child: on child's host (remote false) without /node: naming another
// host, or on another host with /node: naming child's host (remote true),
// within wmiCallWindow before it, creating the child's program. The nearest
// one wins.
func wmiCaller(calls []*Event, child *Event) (caller *Event, remote bool) {
	for _, e := range before(calls, child.TS, wmiCallWindow) {
		m := wmicCreate.FindStringSubmatch(e.CommandLine)
		if m == nil {
			continue
		}
		if exe := base(exeOfCommand(strings.Trim(strings.TrimSpace(m[1]), `"'`))); exe != "" && exe != child.image() &&
			strings.TrimSuffix(exe, ".exe") != strings.TrimSuffix(child.image(), ".exe") {
			continue
		}
		node := ""
		if n := wmicNode.FindStringSubmatch(e.CommandLine); n != nil {
			node = strings.ToLower(n[1])
		}
		local := node == "" || node == "localhost" || node == "127.0.0.1" || node == "."
		switch {
		case e.Host == child.Host && local:
			return e, false
		case e.Host != child.Host && !local && sameHostName(node, child.Host):
			return e, true
		}
	}
	return nil, false
}

// sameHostName compares a /node: name with a host name, either of which may
// be fully qualified; an address is compared whole.
func sameHostName(node, host string) bool {
	short := func(s string) string { s, _, _ = strings.Cut(strings.ToLower(s), "."); return s }
	if strings.EqualFold(node, host) {
		return true
	}
	return net.ParseIP(node) == nil && short(node) == short(host)
}

// networkLogonBefore is the nearest network logon among logons (4624 type
// 3, in time order) on child's host within networkLogonWindow before it.
func networkLogonBefore(logons []*Event, child *Event) *Event {
	for _, l := range before(logons, child.TS, networkLogonWindow) {
		if l.Host == child.Host {
			return l
		}
	}
	return nil
}

func logonAccount(domain, user string) string {
	if user == "" || user == "-" {
		return ""
	}
	if domain == "" || domain == "-" {
		return user
	}
	return domain + `\` + user
}

func orUnrecorded(s string) string {
	if s == "" {
		return "an unrecorded source"
	}
	return s
}

// startByID is the process start with the given event id, or nil.
func (in *Input) startByID(ctx context.Context, id int64) (*Event, error) {
	starts, err := in.Events(ctx, `id = ? AND `+processEvents, id)
	if err != nil || len(starts) == 0 {
		return nil, err
	}
	return &starts[0], nil
}

// networkLogonsBefore are the network logons (4624 type 3) of every host
// within networkLogonWindow before child, in time order: those of the
// timeline that networkLogonBefore weighs, read by time through the index.
func (in *Input) networkLogonsBefore(ctx context.Context, child *Event) ([]*Event, error) {
	if child.TS.IsZero() {
		return nil, nil
	}
	to := timeline.UnixNano(child.TS)
	all, err := in.Events(ctx, `ts_ns BETWEEN ? AND ? AND +source='`+timeline.SourceEVTX+`' AND +provider='`+timeline.ProviderSecurity+`' AND +event_id=4624`,
		to-int64(networkLogonWindow), to)
	if err != nil {
		return nil, err
	}
	return byTime(all, func(l *Event) bool { return l.Field("LogonType") == "3" }), nil
}
