package report

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"triage/timeline"
)

// data is everything the report shows, loaded once, in stable order.
type data struct {
	Generated   string
	TZ          string
	Run         runInfo
	Hosts       []string
	First, Last string
	Artifacts   []artifact
	Findings    []finding
	ByTechnique []techniqueGroup
	Severities  []severityCount
	Incidents   []incidentView
	Scripts     []script
	ScriptsCut  int // scripts not listed (see maxScriptsShown)
	// ScriptFilesCut are the distinct script texts not saved in scripts/
	// (see maxScriptFiles).
	ScriptFilesCut int
	Sessions       []session
	SessionsCut    int // sessions not listed
	Activity       chart
	Heatmap        heatmap
	AttackRows     []attackRow
	Fleet          fleetView
	Completeness   completeness
	// Integrity lists the artifacts that changed during the run.
	Integrity []integrityProblem
	// Skipped lists the files not examined, at most maxSkippedShown of
	// them; SkippedCut says how many more there are.
	Skipped         []skipped
	SkippedByReason []reasonCount
	SkippedCut      int
	Sigma           *sigmaSection // sigma.go; nil when no Sigma rules ran
	Case            caseView      // case.go: the hosts and the runs of the case
	// The summary's counts and its first incidents, which a case report
	// split by host (see hosts.go) states without listing.
	FindingCount, IncidentCount, ArtifactCount int
	TopIncidents                               []incidentView
	// Split is set on the case report of a case split by host, which
	// links HostPages; Page is the host of a host's page.
	Split     bool
	HostPages []hostPage
	Page      string
	loc       *time.Location
	host      string // the host a page is about; "" for the whole case
	// hostRuns are each host's interpreter runs, counted for the host
	// pages by the case's charts; nil when there were too many hosts.
	hostRuns map[string]*runBins
}

type attackRow struct {
	ID, Name string
	Count    int
}

type runInfo struct {
	Version, Commit, GoVersion, Case, Examiner, Started, Finished, BusinessHours string
	CommandLine, Evidence                                                        []string
	Status, StatusDetail                                                         string
	Incomplete                                                                   bool     // the run did not complete
	NotClean                                                                     []string // why a complete run is not clean
}

type integrityProblem struct{ Host, Path, Problem string }

type skipped struct {
	Host, Path, Reason, Detail string
	Size                       int64
}

type reasonCount struct {
	Reason string
	Count  int
}

// maxSkippedShown bounds the not-examined list in the report: a disk image
// holds hundreds of thousands of files that are not artifacts.
const maxSkippedShown = 2000

type artifact struct {
	Host, Path, Kind, SHA256, MD5, Status, Flags, Errors string
	// HashAnchor is set on the first artifact with its SHA-256: the row
	// the compact hashes elsewhere in the report link to.
	HashAnchor                     bool
	Size                           int64
	Records, Recovered, ErrorCount int
	Missing                        int64
}

type evidence struct {
	EventID  int64
	TS       string
	Record   string // the kind of record: the log and event id, or the artifact kind
	Path     string
	RecordID int64
	SHA256   string
	Summary  string
}

type finding struct {
	ID                                                  int64
	Host, TS, Local, TechniqueID, TechniqueName, Tactic string
	Severity, Confidence, Title, Rule, Matched, Decoded string
	Related                                             []string
	Score                                               int
	Features                                            string
	RuleID                                              string // the Sigma rule, for analyzer sigma
	Incident                                            int64
	Evidence                                            []evidence
	// EvidenceCut is how many more records the finding cites than the
	// report lists (see maxEvidenceShown).
	EvidenceCut int
}

type techniqueGroup struct {
	ID, Name    string
	Findings    []finding
	Count, High int
}

type severityCount struct {
	Severity string
	Count    int
}

type incidentView struct {
	ID                                 int64
	Host, First, Last, Severity, Title string
	Page                               string // the page that lists it, when not this one
	Links                              []string
	Findings                           []finding
	Chain                              []evidence // every record its findings cite, in time order
	ChainCut                           int        // records of the chain not listed (see maxChainShown)
}

type script struct {
	Host, BlockID, First, Last, SHA256, Path, Text, Missing string
	Expected, Found                                         int
}

func load(db *sql.DB, opts Options) (*data, error) {
	return loadPage(db, opts, "", false)
}

// loadPage loads the report of the whole case (host ""), of one host's
// page, or the summary of a case split by host (split).
func loadPage(db *sql.DB, opts Options, host string, split bool) (*data, error) {
	d := &data{Generated: timeline.FormatTime(opts.ReportTime.UTC()), TZ: opts.Location.String(), loc: opts.Location,
		host: host, Page: host, Split: split}
	var argv, evid, notClean string
	err := db.QueryRow(`SELECT tool_version, tool_commit, go_version, command_line, case_id, examiner, evidence,
		started_ts, finished_ts, business_hours, status, status_detail, not_clean FROM runs
		ORDER BY status = 'complete', id DESC LIMIT 1`).Scan(&d.Run.Version, &d.Run.Commit,
		&d.Run.GoVersion, &argv, &d.Run.Case, &d.Run.Examiner, &evid, &d.Run.Started, &d.Run.Finished, &d.Run.BusinessHours,
		&d.Run.Status, &d.Run.StatusDetail, &notClean)
	if err == sql.ErrNoRows {
		d.Run.Status, d.Run.StatusDetail = string(timeline.RunInProgress), "the timeline records no run"
	} else if err != nil {
		return nil, err
	}
	json.Unmarshal([]byte(argv), &d.Run.CommandLine)
	json.Unmarshal([]byte(evid), &d.Run.Evidence)
	json.Unmarshal([]byte(notClean), &d.Run.NotClean)
	d.Run.Incomplete = d.Run.Status != string(timeline.RunComplete)
	if opts.Dated != nil {
		var span timeline.Span
		for h, s := range opts.Dated {
			if host == "" || h == host {
				span.Merge(s)
			}
		}
		d.First, d.Last = span.First, span.Last
	} else {
		// The first and last by ts_ns, through the time indexes: min(ts)
		// read every event. Dated after 1970, an event's ts and ts_ns
		// agree (times past 2262 are set aside), so the order is the
		// same.
		q, args := d.scoped(`SELECT ts FROM events WHERE ts_ns > 0`)
		db.QueryRow(q+` ORDER BY ts_ns LIMIT 1`, args...).Scan(&d.First)
		db.QueryRow(q+` ORDER BY ts_ns DESC LIMIT 1`, args...).Scan(&d.Last)
	}
	scripts, charts, fleet := loadScripts, loadCharts, loadFleet
	if p := opts.Prepared; p != nil && host == "" {
		scripts = func(_ *sql.DB, d *data) error {
			d.Scripts, d.ScriptsCut, d.ScriptFilesCut = p.d.Scripts, p.d.ScriptsCut, p.d.ScriptFilesCut
			return nil
		}
		charts = func(_ *sql.DB, d *data) error {
			d.Activity, d.Heatmap, d.hostRuns = p.d.Activity, p.d.Heatmap, p.d.hostRuns
			return nil
		}
		fleet = func(_ *sql.DB, d *data) error { d.Fleet = p.d.Fleet; return nil }
	}
	if host != "" {
		charts = hostCharts(opts.hostRuns)
	}
	steps := []func(*sql.DB, *data) error{loadArtifacts, loadIntegrity, loadSkipped, loadFindings, loadIncidents, scripts, loadSessions, charts, fleet, loadSigma, loadCase}
	switch {
	case split:
		steps = []func(*sql.DB, *data) error{loadArtifacts, loadIntegrity, loadSkipped, loadFindingCounts, loadTopIncidents, loadHostPages, charts, fleet, loadSigma, loadCase}
	case host != "":
		steps = steps[:len(steps)-3] // the fleet view, the Sigma rule set and the hosts and runs are the case's
	}
	for _, step := range steps {
		if err := step(db, d); err != nil {
			return nil, err
		}
	}
	d.FindingCount, d.ArtifactCount = max(d.FindingCount, len(d.Findings)), len(d.Artifacts)
	if !split {
		d.IncidentCount, d.TopIncidents = len(d.Incidents), d.Incidents[:min(len(d.Incidents), 10)]
	} else {
		d.Artifacts = nil // listed on the host pages
	}
	return d, nil
}

// Prepared is what the case's page takes from the events and the scripts
// alone, which the analyzers neither read for it nor write: its charts,
// its list of scripts and its fleet view, which were half of a large log's
// report. A run reads it beside the analyzers (Prepare), and Render takes
// it from Options.Prepared instead of reading it again.
type Prepared struct {
	d *data
}

// Prepare reads, on db, what Render would read for the case's page from
// the events and scripts, with the Location of opts.
func Prepare(db *sql.DB, opts Options) (*Prepared, error) {
	if opts.Location == nil {
		opts.Location = time.UTC
	}
	d := &data{loc: opts.Location}
	// loadArtifacts gives the hosts the fleet view compares.
	for _, step := range []func(*sql.DB, *data) error{loadArtifacts, loadScripts, loadCharts, loadFleet} {
		if err := step(db, d); err != nil {
			return nil, err
		}
	}
	d.Artifacts = nil
	return &Prepared{d: d}, nil
}

// scoped adds to a query whose last clause is a WHERE the condition that
// keeps a host page's rows: host = ?, on column host of the table the
// query reads, or on the column given.
func (d *data) scoped(query string, column ...string) (string, []any) {
	if d.host == "" {
		return query, nil
	}
	c := "host"
	if len(column) > 0 {
		c = column[0]
	}
	return query + " AND " + c + " = ?", []any{d.host}
}

func loadArtifacts(db *sql.DB, d *data) error {
	q, args := d.scoped(`SELECT host, path, kind, size, sha256, md5, status, records, recovered, errors, error_list,
		flags, missing_records FROM artifacts WHERE 1`)
	rows, err := db.Query(q+` ORDER BY host, path, id`, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	hosts := map[string]bool{}
	anchored := map[string]bool{}
	for rows.Next() {
		var a artifact
		var errs string
		if err := rows.Scan(&a.Host, &a.Path, &a.Kind, &a.Size, &a.SHA256, &a.MD5, &a.Status, &a.Records, &a.Recovered,
			&a.ErrorCount, &errs, &a.Flags, &a.Missing); err != nil {
			return err
		}
		var list []string
		json.Unmarshal([]byte(errs), &list)
		a.Errors = strings.Join(list, "\n")
		a.Flags = flagText(a.Flags)
		a.HashAnchor = !anchored[a.SHA256]
		anchored[a.SHA256] = true
		d.Artifacts = append(d.Artifacts, a)
		hosts[a.Host] = true
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for h := range hosts {
		d.Hosts = append(d.Hosts, h)
	}
	d.Completeness = summarizeCompleteness(d.Artifacts)
	sort.Strings(d.Hosts)
	return rows.Err()
}

func loadIntegrity(db *sql.DB, d *data) error {
	q, args := d.scoped(`SELECT host, path, integrity_error FROM artifacts WHERE integrity_error != ''`)
	rows, err := db.Query(q+` ORDER BY host, path, id`, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var p integrityProblem
		if err := rows.Scan(&p.Host, &p.Path, &p.Problem); err != nil {
			return err
		}
		d.Integrity = append(d.Integrity, p)
	}
	return rows.Err()
}

func loadSkipped(db *sql.DB, d *data) error {
	q, args := d.scoped(`SELECT reason, count(*) FROM skipped WHERE 1`)
	rows, err := db.Query(q+` GROUP BY reason ORDER BY reason`, args...)
	if err != nil {
		return err
	}
	total := 0
	for rows.Next() {
		var c reasonCount
		if err := rows.Scan(&c.Reason, &c.Count); err != nil {
			rows.Close()
			return err
		}
		d.SkippedByReason = append(d.SkippedByReason, c)
		total += c.Count
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	// Files that are not artifacts are the many and the least telling:
	// the other reasons come first, so a cut list keeps them.
	q, args = d.scoped(`SELECT host, path, size, reason, detail FROM skipped WHERE 1`)
	rows, err = db.Query(q+` ORDER BY reason = 'not-artifact', host, reason, path, id LIMIT ?`, append(args, maxSkippedShown)...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var s skipped
		if err := rows.Scan(&s.Host, &s.Path, &s.Size, &s.Reason, &s.Detail); err != nil {
			return err
		}
		d.Skipped = append(d.Skipped, s)
	}
	d.SkippedCut = total - len(d.Skipped)
	return rows.Err()
}

// flagText shows the parse flags worth a reader's attention.
func flagText(js string) string {
	var m map[string]any
	json.Unmarshal([]byte(js), &m)
	var parts []string
	for _, k := range []string{"dirty", "full", "no_crc", "truncated"} {
		if v, _ := m[k].(bool); v {
			parts = append(parts, k)
		}
	}
	for _, k := range []string{"crc_errors", "bad_chunks"} {
		if v, _ := m[k].(float64); v > 0 {
			parts = append(parts, k+"="+strings.TrimSuffix(strings.TrimSuffix(jsonNumber(v), ".0"), ".00"))
		}
	}
	return strings.Join(parts, ", ")
}

func jsonNumber(v float64) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func loadFindings(db *sql.DB, d *data) error {
	ev, cut, err := loadEvidence(db, d)
	if err != nil {
		return err
	}
	q, args := d.scoped(`SELECT id, host, ts, technique_id, technique_name, tactic, related, severity, confidence,
		title, rule, matched, decoded, score, features, coalesce(incident_id, 0), rule_id FROM findings WHERE 1`)
	rows, err := db.Query(q+` ORDER BY id`, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	groups := map[string]*techniqueGroup{}
	sev := map[string]int{}
	for rows.Next() {
		var f finding
		var related string
		if err := rows.Scan(&f.ID, &f.Host, &f.TS, &f.TechniqueID, &f.TechniqueName, &f.Tactic, &related, &f.Severity,
			&f.Confidence, &f.Title, &f.Rule, &f.Matched, &f.Decoded, &f.Score, &f.Features, &f.Incident, &f.RuleID); err != nil {
			return err
		}
		json.Unmarshal([]byte(related), &f.Related)
		f.TechniqueName = techniqueName(f.TechniqueID, f.TechniqueName)
		if f.Features == "{}" {
			f.Features = ""
		}
		f.Local = d.local(f.TS)
		f.Evidence, f.EvidenceCut = ev[f.ID], cut[f.ID]
		d.Findings = append(d.Findings, f)
		g := groups[f.TechniqueID]
		if g == nil {
			g = &techniqueGroup{ID: f.TechniqueID, Name: techniqueName(f.TechniqueID, f.TechniqueName)}
			groups[f.TechniqueID] = g
		}
		g.Findings = append(g.Findings, f)
		g.Count++
		if rank[f.Severity] >= timeline.SeverityHigh {
			g.High++
		}
		sev[f.Severity]++
	}
	for _, g := range groups {
		// Most severe first within a technique, then by time.
		sort.SliceStable(g.Findings, func(i, j int) bool {
			a, b := g.Findings[i], g.Findings[j]
			if rank[a.Severity] != rank[b.Severity] {
				return rank[a.Severity] > rank[b.Severity]
			}
			return a.ID < b.ID
		})
		d.ByTechnique = append(d.ByTechnique, *g)
	}
	sort.Slice(d.ByTechnique, func(i, j int) bool { return d.ByTechnique[i].ID < d.ByTechnique[j].ID })
	related := map[string]int{}
	for _, f := range d.Findings {
		for _, r := range f.Related {
			related[r]++
		}
	}
	d.AttackRows = attackRows(groups, related)
	for _, s := range timeline.Severities {
		d.Severities = append(d.Severities, severityCount{s.String(), sev[s.String()]})
	}
	return rows.Err()
}

// rank orders severities by their names as stored.
var rank = func() map[string]timeline.Severity {
	m := map[string]timeline.Severity{}
	for _, s := range timeline.Severities {
		m[s.String()] = s
	}
	return m
}()

// techniqueName is the name the timeline's technique table gives id, or
// else the name stored with the finding.
func techniqueName(id, stored string) string {
	if t, ok := timeline.LookupTechnique(id); ok {
		return t.Name
	}
	return stored
}

// maxEvidenceShown bounds the records the report lists under one finding:
// a folded finding can cite every record of a flood. The count of the rest
// is stated; findings.csv and timeline.db's finding_evidence list every one.
const maxEvidenceShown = 50

// evidenceRows selects the records findings cite, at most ? of each, with
// how many each cites in all. The rows follow the primary key, so SQLite
// numbers them without a sort.
const evidenceRows = `SELECT x.finding_id, x.event_id, e.ts, e.source, e.channel, e.event_id, x.artifact_path, x.record_id,
	x.artifact_sha256, e.summary, x.n FROM (SELECT finding_id, event_id, artifact_path, record_id, artifact_sha256,
	row_number() OVER (PARTITION BY finding_id ORDER BY event_id) AS r, count(*) OVER (PARTITION BY finding_id) AS n
	FROM finding_evidence WHERE %s) x JOIN events e ON e.id = x.event_id WHERE x.r <= ? ORDER BY x.finding_id, x.event_id`

// loadEvidence returns the records each finding cites, up to
// maxEvidenceShown, and how many more each cites.
func loadEvidence(db *sql.DB, d *data) (map[int64][]evidence, map[int64]int, error) {
	where, args := d.scoped(`1`)
	if d.host != "" {
		where, args = `finding_id IN (SELECT id FROM findings WHERE host = ?)`, []any{d.host}
	}
	rows, err := db.Query(fmt.Sprintf(evidenceRows, where), append(args, maxEvidenceShown)...)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	out := map[int64][]evidence{}
	cut := map[int64]int{}
	for rows.Next() {
		var id int64
		var e evidence
		var source, channel string
		var eventID, n int
		if err := rows.Scan(&id, &e.EventID, &e.TS, &source, &channel, &eventID, &e.Path, &e.RecordID, &e.SHA256, &e.Summary, &n); err != nil {
			return nil, nil, err
		}
		cut[id] = n - min(n, maxEvidenceShown)
		e.Record = source
		if source == "evtx" {
			e.Record = fmt.Sprintf("%s event %d", channel, eventID)
		}
		out[id] = append(out[id], e)
	}
	return out, cut, rows.Err()
}

func loadIncidents(db *sql.DB, d *data) error {
	q, args := d.scoped(`SELECT id, host, first_ts, last_ts, severity, title, links FROM incidents WHERE 1`)
	rows, err := db.Query(q+` ORDER BY id`, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	byID := map[int64][]finding{}
	for _, f := range d.Findings {
		if f.Incident > 0 {
			byID[f.Incident] = append(byID[f.Incident], f)
		}
	}
	for rows.Next() {
		var in incidentView
		var links string
		if err := rows.Scan(&in.ID, &in.Host, &in.First, &in.Last, &in.Severity, &in.Title, &links); err != nil {
			return err
		}
		json.Unmarshal([]byte(links), &in.Links)
		in.Findings = byID[in.ID]
		in.Chain = chain(in.Findings)
		d.Incidents = append(d.Incidents, in)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	rows.Close()
	for i := range d.Incidents {
		if err := cutChain(db, &d.Incidents[i]); err != nil {
			return err
		}
	}
	sort.SliceStable(d.Incidents, func(i, j int) bool { return rank[d.Incidents[i].Severity] > rank[d.Incidents[j].Severity] })
	return nil
}

// maxChainShown bounds the records an incident's chain lists.
const maxChainShown = 200

// cutChain keeps the first maxChainShown records of an incident's chain
// and counts the records its findings cite that the chain does not list:
// those past the cut and those past each finding's maxEvidenceShown.
func cutChain(db *sql.DB, in *incidentView) error {
	cut := len(in.Chain) > maxChainShown
	if cut {
		in.Chain = in.Chain[:maxChainShown]
	}
	for _, f := range in.Findings {
		cut = cut || f.EvidenceCut > 0
	}
	if !cut {
		return nil
	}
	// The incident's findings first (CROSS JOIN keeps SQLite to that
	// order), then their evidence by its key: the planner would otherwise
	// read every finding's evidence, and look up its event, once per
	// incident (5.5 of a large log's 12 s of report).
	var all int
	if err := db.QueryRow(`SELECT count(DISTINCT fe.event_id) FROM findings f CROSS JOIN finding_evidence fe ON fe.finding_id = f.id
		CROSS JOIN events e ON e.id = fe.event_id WHERE f.incident_id = ?`, in.ID).Scan(&all); err != nil {
		return err
	}
	in.ChainCut = all - len(in.Chain)
	return nil
}

// chain lists once each record the findings cite, in time order, so that
// an incident shows the prefetch run, process events, script block and
// batch file behind it side by side.
func chain(fs []finding) []evidence {
	seen := map[int64]bool{}
	var out []evidence
	for _, f := range fs {
		for _, e := range f.Evidence {
			if !seen[e.EventID] {
				seen[e.EventID] = true
				out = append(out, e)
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].TS != out[j].TS {
			return out[i].TS < out[j].TS
		}
		return out[i].EventID < out[j].EventID
	})
	return out
}

// maxScriptsShown and maxSessionsShown bound the scripts and PowerShell
// sessions the report lists; timeline.db holds every one, scripts/ the
// first maxScriptFiles texts.
const (
	maxScriptsShown  = 1000
	maxSessionsShown = 1000
)

// loadScripts lists the first maxScriptsShown scripts; their text is in
// scripts/, which writeScripts fills from the timeline.
func loadScripts(db *sql.DB, d *data) error {
	var total int
	q, args := d.scoped(`SELECT count(*) FROM scripts WHERE 1`)
	if err := db.QueryRow(q, args...).Scan(&total); err != nil {
		return err
	}
	d.ScriptsCut = total - min(total, maxScriptsShown)
	// Only a page that cuts its list says what scripts/ holds, which is
	// the case's, whichever page lists them: the other pages skip a count
	// over every script of the case.
	if d.ScriptsCut > 0 {
		var texts int
		if err := db.QueryRow(`SELECT count(DISTINCT sha256) FROM scripts`).Scan(&texts); err != nil {
			return err
		}
		d.ScriptFilesCut = texts - min(texts, maxScriptFiles)
	}
	q, args = d.scoped(`SELECT host, script_block_id, first_ts, last_ts, parts_expected, parts_found, missing_parts,
		sha256, path FROM scripts WHERE 1`)
	rows, err := db.Query(q+` ORDER BY `+scriptsOrder+` LIMIT ?`, append(args, maxScriptsShown)...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var s script
		if err := rows.Scan(&s.Host, &s.BlockID, &s.First, &s.Last, &s.Expected, &s.Found, &s.Missing, &s.SHA256, &s.Path); err != nil {
			return err
		}
		if s.Missing == "[]" {
			s.Missing = ""
		}
		d.Scripts = append(d.Scripts, s)
	}
	return rows.Err()
}

// local renders a stored UTC time in the report's zone.
func (d *data) local(ts string) string {
	t, err := timeline.ParseTime(ts)
	if err != nil || t.IsZero() {
		return ""
	}
	return t.In(d.loc).Format("2006-01-02 15:04:05 MST")
}

type session struct {
	Host, Start, End, Duration, HostName, HostApplication, EngineVersion string
	Remote                                                               bool
}

// loadSessions reads the PowerShell sessions the analyzers derived; a
// timeline from before the table existed has none.
func loadSessions(db *sql.DB, d *data) error {
	var total int
	q, args := d.scoped(`SELECT count(*) FROM powershell_sessions WHERE 1`)
	if err := db.QueryRow(q, args...).Scan(&total); err != nil {
		if strings.Contains(err.Error(), "no such table") {
			return nil
		}
		return err
	}
	d.SessionsCut = total - min(total, maxSessionsShown)
	q, args = d.scoped(`SELECT host, start_ts, end_ts, duration_ms, host_name, host_application, engine_version, remote
		FROM powershell_sessions WHERE 1`)
	rows, err := db.Query(q+` ORDER BY host, start_ts, id LIMIT ?`, append(args, maxSessionsShown)...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var s session
		var ms int64
		if err := rows.Scan(&s.Host, &s.Start, &s.End, &ms, &s.HostName, &s.HostApplication, &s.EngineVersion, &s.Remote); err != nil {
			return err
		}
		if ms >= 0 {
			s.Duration = (time.Duration(ms) * time.Millisecond).String()
		}
		d.Sessions = append(d.Sessions, s)
	}
	return rows.Err()
}
