package analyzers

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"triage/internal/phases"
	"triage/timeline"
)

// Run executes every registered analyzer over the timeline in db and writes
// the findings, finding_evidence and incidents tables. It replaces what an
// earlier run of the analyzers wrote.
func Run(ctx context.Context, db *sql.DB, opts Options) (Summary, error) {
	opts.defaults()
	in := &Input{db: db, Opts: opts, ctx: ctx, reads: &sharedReads{}}
	if err := timeline.BuildPowerShellSessions(ctx, db); err != nil {
		return Summary{}, fmt.Errorf("analyzers: PowerShell sessions: %w", err)
	}
	phases.Mark("PowerShell sessions")
	registry := Registry()
	found := make([][]Finding, len(registry))
	aside := startAside(ctx, in, registry)
	defer aside.stop()
	if err := runInLanes(ctx, in, registry, aside.index, found); err != nil {
		return Summary{}, err
	}
	if i := aside.index; i >= 0 {
		fs, err := aside.wait()
		if found[i], err = in.finish(registry[i], fs, err); err != nil {
			return Summary{}, err
		}
		phases.Mark("analyzer %s, beside the others", registry[i].Meta().ID)
	}
	var all []Finding
	for _, fs := range found {
		all = append(all, fs...)
	}
	incidents := groupIncidents(all, opts.IncidentWindow)
	return Summary{Findings: len(all), Incidents: len(incidents)}, write(ctx, db, all, incidents)
}

// finish orders, merges and folds the findings a gave, as every
// analyzer's are, and names a in them; err is a's.
func (in *Input) finish(a Analyzer, fs []Finding, err error) ([]Finding, error) {
	id := a.Meta().ID
	if err != nil {
		return nil, fmt.Errorf("analyzers: %s: %w", id, err)
	}
	if err := attributeWMIStarts(in.ctx, in, fs); err != nil {
		return nil, fmt.Errorf("analyzers: %s: WMI callers: %w", id, err)
	}
	sort.SliceStable(fs, func(i, j int) bool { return less(&fs[i], &fs[j]) })
	fs = mergeSameStarts(fs)
	if err := in.attachPrefetchRuns(fs); err != nil {
		return nil, fmt.Errorf("analyzers: %s: prefetch runs: %w", id, err)
	}
	fs = foldRepeats(fs, in.Opts.IncidentWindow)
	for i := range fs {
		fs[i].analyzer = id
	}
	// Folded, the findings may sit in the array of the unfolded ones,
	// which Run would keep to the end: 40–90 MiB more peak on the 1.1 GiB
	// synthetic log.
	return slices.Clone(fs), nil
}

func (o *Options) defaults() {
	if o.Location == nil {
		o.Location = time.UTC
	}
	if o.BusinessEnd == 0 {
		o.BusinessStart, o.BusinessEnd = 8, 18
	}
	if o.IncidentWindow == 0 {
		o.IncidentWindow = 5 * time.Minute
	}
}

func less(a, b *Finding) bool {
	if a.Host != b.Host {
		return a.Host < b.Host
	}
	if !a.TS.Equal(b.TS) {
		return a.TS.Before(b.TS)
	}
	return first(a.EventIDs) < first(b.EventIDs)
}

func first(ids []int64) int64 {
	if len(ids) == 0 {
		return 0
	}
	return ids[0]
}

func write(ctx context.Context, db *sql.DB, all []Finding, incidents []incident) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, q := range []string{`DELETE FROM finding_evidence`, `DELETE FROM findings`, `DELETE FROM incidents`} {
		if _, err := tx.Exec(q); err != nil {
			return err
		}
	}
	for i, inc := range incidents {
		links, _ := json.Marshal(inc.links)
		if _, err := tx.Exec(`INSERT INTO incidents (id, host, first_ts, last_ts, severity, title, links) VALUES (?,?,?,?,?,?,?)`,
			i+1, inc.host, timeline.FormatTime(inc.first), timeline.FormatTime(inc.last), inc.severity.String(), inc.title, string(links)); err != nil {
			return err
		}
	}
	insert, err := tx.Prepare(`INSERT INTO findings (analyzer, host, ts, ts_ns, technique_id, technique_name, tactic, related,
		severity, confidence, title, rule, matched, decoded, score, features, incident_id, rule_id) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`)
	if err != nil {
		return err
	}
	defer insert.Close()
	evidence, err := tx.Prepare(`INSERT OR IGNORE INTO finding_evidence (finding_id, event_id, artifact_path, record_id, artifact_sha256)
		SELECT ?, e.id, a.path, e.record_id, a.sha256 FROM events e JOIN artifacts a ON a.id = e.artifact_id WHERE e.id = ?`)
	if err != nil {
		return err
	}
	defer evidence.Close()
	for _, f := range all {
		if f.Related == nil {
			f.Related = []string{}
		}
		if f.Features == nil {
			f.Features = map[string]any{}
		}
		rel, _ := json.Marshal(f.Related)
		feat, _ := json.Marshal(f.Features)
		var inc any
		if f.incident > 0 {
			inc = f.incident
		}
		res, err := insert.Exec(f.analyzer, f.Host, timeline.FormatTime(f.TS), timeline.UnixNano(f.TS), f.Technique.ID,
			f.Technique.Name, f.Technique.Tactic, string(rel), f.Severity.String(), f.Confidence, f.Title, f.Rule, f.Matched,
			f.Decoded, f.Score, string(feat), inc, f.RuleID)
		if err != nil {
			return err
		}
		id, _ := res.LastInsertId()
		for _, ev := range f.EventIDs {
			if _, err := evidence.Exec(id, ev); err != nil {
				return err
			}
		}
	}
	return tx.Commit()
}

// incident is a group of findings on one host, close in time and linked by
// process, parent, script block or file name.
type incident struct {
	host        string
	first, last time.Time
	severity    timeline.Severity
	title       string
	links       []string
}

func groupIncidents(all []Finding, window time.Duration) []incident {
	idx := make([]int, len(all))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return less(&all[idx[a]], &all[idx[b]]) })
	var out []incident
	var cur []int
	var links map[string]bool
	flush := func() {
		if len(cur) >= 2 {
			inc := incident{host: all[cur[0]].Host, first: all[cur[0]].TS, last: all[cur[len(cur)-1]].TS, severity: timeline.SeverityInformational}
			techniques := map[string]bool{}
			for _, i := range cur {
				inc.severity = max(inc.severity, all[i].Severity)
				techniques[all[i].Technique.ID] = true
				all[i].incident = int64(len(out) + 1)
			}
			for l := range links {
				inc.links = append(inc.links, l)
			}
			sort.Strings(inc.links)
			var ts []string
			for t := range techniques {
				ts = append(ts, t)
			}
			sort.Strings(ts)
			inc.title = fmt.Sprintf("%d findings on %s within %s: %s", len(cur), inc.host,
				span(inc.last.Sub(inc.first)), strings.Join(ts, ", "))
			out = append(out, inc)
		}
		cur, links = nil, map[string]bool{}
	}
	flush()
	for _, i := range idx {
		f := &all[i]
		if len(cur) > 0 {
			prev := &all[cur[len(cur)-1]]
			shared := sharedKeys(prev, f)
			if prev.Host != f.Host || f.TS.Sub(prev.TS) > window || len(shared) == 0 {
				flush()
			} else {
				for _, k := range shared {
					links[k] = true
				}
			}
		}
		cur = append(cur, i)
	}
	flush()
	return out
}

// sharedKeys says how two findings are linked: by a process or parent
// image, a script block, a file name, or the same event.
func sharedKeys(a, b *Finding) []string {
	var out []string
	for k := range a.keys {
		if b.keys[k] {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// cited completes a finding about event e: host and time are e's, e is the
// first record it cites, and it is linked by e (see cite).
func cited(e *Event, f Finding) Finding {
	f.Host, f.TS = e.Host, e.TS
	f.cite(e)
	return f
}

// cite adds e to the records a finding cites, once, and records what the
// finding can be linked to other findings by: e's process and parent
// images, script block and script file. When e is a process start, Run
// later adds the prefetch run time of that start.
func (f *Finding) cite(e *Event) {
	if !slices.Contains(f.EventIDs, e.ID) {
		f.EventIDs = append(f.EventIDs, e.ID)
	}
	f.link(e)
}

// link records what a finding can be linked by.
func (f *Finding) link(e *Event) {
	if f.keys == nil {
		f.keys = map[string]bool{}
	}
	f.addKind(timeline.RecordKind(e.Source, e.Channel, e.EventID))
	for _, p := range []string{e.Process, e.ParentProcess} {
		if b := base(p); b != "" && b != "." {
			f.keys["image:"+b] = true
		}
	}
	if e.ScriptBlockID != "" {
		f.keys["script block:"+e.ScriptBlockID] = true
	}
	if e.Source == "evtx" && e.EventID == 4104 {
		// The script file the block came from links it to the command
		// line that ran that file.
		if p := e.Field("Path"); p != "" {
			f.keys["file:"+base(p)] = true
		}
	}
	f.keys[fmt.Sprintf("event:%d", e.ID)] = true
	if f.started == "" && isProcessStart(e) {
		f.started = e.image()
	}
}

// addKind adds a record kind to those the finding's records are of.
func (f *Finding) addKind(k string) {
	if !slices.Contains(f.kinds, k) {
		f.kinds = append(f.kinds, k)
	}
}

func isProcessStart(e *Event) bool {
	return timeline.CategoryOf(e.Source, e.Provider, e.EventID) == timeline.CategoryProcessStart
}

// sameStartFinding returns the finding, among fs, about the process start
// that a prefetch run time records: the same program on the same host
// within timeline.SameStartWindow.
func sameStartFinding(fs []Finding, run *Event) *Finding {
	exe := base(run.Process)
	for i := range fs {
		f := &fs[i]
		if d := f.TS.Sub(run.TS).Abs(); f.started == exe && f.Host == run.Host && d <= timeline.SameStartWindow {
			return f
		}
	}
	return nil
}

// attachPrefetchRuns adds to each finding about a process start the
// prefetch run time of that start, so that the finding cites the log
// record and the prefetch file together. When one program started twice
// within the window, each finding takes the run nearest its start. The
// runs are read host by host, and only those of the programs the findings
// started are kept.
func (in *Input) attachPrefetchRuns(fs []Finding) error {
	programs := map[string]map[string]bool{} // host → programs started
	var hosts []string
	for i := range fs {
		if f := &fs[i]; f.started != "" {
			if programs[f.Host] == nil {
				programs[f.Host] = map[string]bool{}
				hosts = append(hosts, f.Host)
			}
			programs[f.Host][f.started] = true
		}
	}
	for _, host := range hosts {
		byProgram := map[string][]*Event{}
		for e := range in.prefetchOf(func(image string) bool { return programs[host][image] }, `+host = ?`, host) {
			if exe := e.image(); programs[host][exe] {
				e.data, e.fields = "", nil // a run is cited and linked by its columns alone
				byProgram[exe] = append(byProgram[exe], e)
			}
		}
		if in.err != nil {
			return in.err
		}
		attachRuns(fs, host, byProgram)
	}
	return nil
}

// attachRuns attaches to the findings of host in fs the nearest of its
// runs (byProgram: program → runs in id order).
func attachRuns(fs []Finding, host string, byProgram map[string][]*Event) {
	for i := range fs {
		f := &fs[i]
		if f.started == "" || f.Host != host {
			continue
		}
		var nearest *Event
		for _, run := range byProgram[f.started] {
			if d := f.TS.Sub(run.TS).Abs(); d <= timeline.SameStartWindow && (nearest == nil || d < f.TS.Sub(nearest.TS).Abs()) {
				nearest = run
			}
		}
		if nearest != nil && !slices.Contains(f.EventIDs, nearest.ID) {
			f.cite(nearest)
		}
	}
}
