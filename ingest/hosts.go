package ingest

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"triage/collectors"
	"triage/parsers/evtx"
	"triage/timeline"
)

// NameSource says where a host's name came from.
type NameSource string

// Where host names come from, in the order they are preferred.
const (
	// NamedByFlag: the examiner named the root (--host NAME=PATH) or every
	// root (--host NAME). Such a name is taken as given, even when another
	// root or a host already in the case has it: naming two roots alike is
	// a decision, not an accident.
	NamedByFlag NameSource = "--host"
	// NamedByComputer: the Computer field of the root's event logs, when no
	// other root of the case names the same computer.
	NamedByComputer NameSource = "computer"
	// NamedByFolder: the root's folder or file name, when its logs name no
	// computer or name one that another root or a host of the case also
	// names (30 copies of one collection would otherwise merge silently).
	NamedByFolder NameSource = "folder"
)

// HostName is how one evidence root's host was named, for the manifest,
// the hosts table and the report.
type HostName struct {
	Name         string `json:"name"`
	EvidenceRoot string `json:"evidence_root"`
	// EvidencePath is the root's absolute path with links resolved, which
	// triage run --add compares to refuse evidence already in the case.
	EvidencePath string     `json:"evidence_path"`
	Source       NameSource `json:"name_source"`
	// Computer is the Computer field the root's logs give, when read: a
	// root named otherwise still says which machine its logs claim.
	Computer string `json:"computer,omitempty"`
	// Detail says why a name is not the Computer field, in words.
	Detail string `json:"name_detail,omitempty"`
}

// nameHosts gives every opened root its host name, from what openRoot
// read of it (its logs' Computer field and its folder name). Names the examiner gave
// win; otherwise the Computer field names a root unless it is shared with
// another root of this run (compared without case, as Windows does) or is
// already a host of the case (taken), and then the root's folder name does,
// numbered when that too is taken, so two roots never share an automatic
// name.
func nameHosts(hosts []*Host, o Options) {
	used := map[string]bool{}
	for _, name := range o.Taken {
		used[strings.ToLower(name)] = true
	}
	computers := map[string]int{}
	for _, h := range hosts {
		switch name, named := o.Names[h.Root]; {
		case named:
			h.Name, h.NameSource = name, NamedByFlag
		case o.Host != "":
			h.Name, h.NameSource = o.Host, NamedByFlag
		case h.Computer != "":
			computers[strings.ToLower(h.Computer)]++
		}
	}
	for _, h := range hosts {
		if h.NameSource == NamedByFlag {
			used[strings.ToLower(h.Name)] = true
		}
	}
	var byFolder []*Host
	for _, h := range hosts {
		if h.NameSource != "" {
			continue
		}
		c := strings.ToLower(h.Computer)
		switch {
		case h.Computer == "":
			h.NameDetail = "no event log names the computer"
		case computers[c] > 1:
			h.NameDetail = fmt.Sprintf("Computer %s is named by %d evidence roots", h.Computer, computers[c])
		case used[c]:
			h.NameDetail = fmt.Sprintf("Computer %s is already a host of the case", h.Computer)
		default:
			h.Name, h.NameSource = h.Computer, NamedByComputer
			used[c] = true
			continue
		}
		byFolder = append(byFolder, h)
	}
	for _, h := range byFolder {
		base := h.folder
		if base == "" {
			base = "host"
		}
		name := base
		for n := 2; used[strings.ToLower(name)]; n++ {
			name = fmt.Sprintf("%s-%d", base, n)
		}
		if name != base {
			h.NameDetail += fmt.Sprintf("; folder name %s is taken", base)
		}
		h.Name, h.NameSource = name, NamedByFolder
		used[strings.ToLower(name)] = true
	}
}

// HostNames says how each root that was opened was named, in the order of
// the roots.
func (r *Result) HostNames() []HostName {
	out := []HostName{}
	for _, h := range r.opened {
		out = append(out, h.hostName())
	}
	return out
}

func (h *Host) hostName() HostName {
	return HostName{Name: h.Name, EvidenceRoot: h.Root, EvidencePath: h.path, Source: h.NameSource, Computer: h.Computer, Detail: h.NameDetail}
}

// hostFromEvents takes the Computer field of the first event log that has
// one, preferring the System and Security logs; "" when none does.
func hostFromEvents(ev *collectors.Evidence) string {
	logs := append([]*collectors.Artifact{}, ev.Artifacts...)
	rank := func(a *collectors.Artifact) int {
		switch strings.ToLower(filepath.Base(a.Path)) {
		case "system.evtx":
			return 0
		case "security.evtx":
			return 1
		}
		return 2
	}
	sort.SliceStable(logs, func(i, j int) bool { return rank(logs[i]) < rank(logs[j]) })
	for _, a := range logs {
		if a.Kind != collectors.EVTX {
			continue
		}
		if name := firstComputer(a); name != "" {
			return name
		}
	}
	return ""
}

func firstComputer(a *collectors.Artifact) string {
	f, err := a.Open()
	if err != nil {
		return ""
	}
	defer f.Close()
	r, err := evtx.NewReader(f, a.Size)
	if err != nil {
		return ""
	}
	r.SetWorkers(1)
	for rec := range r.Records() {
		if rec != nil && rec.System.Computer != "" {
			return rec.System.Computer
		}
	}
	return ""
}

// nameFrom says where the host's name came from, for the run log.
func (h *Host) nameFrom() string {
	if h.NameDetail == "" {
		return "name from " + string(h.NameSource)
	}
	return "name from " + string(h.NameSource) + ": " + h.NameDetail
}

// timelineHosts gives the hosts table's rows for the roots opened.
func timelineHosts(hosts []*Host) []timeline.Host {
	out := make([]timeline.Host, len(hosts))
	for i, h := range hosts {
		out[i] = timeline.Host{Name: h.Name, EvidenceRoot: h.Root, NameSource: string(h.NameSource),
			Computer: h.Computer, Detail: h.NameDetail, Path: h.path}
	}
	return out
}
