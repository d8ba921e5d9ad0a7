package analyzers

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"io"
	"path"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"triage/analyzers/sigma"
	"triage/internal/gctune"
	"triage/internal/phases"
	"triage/timeline"
)

// SigmaRules is the Sigma rule set a run applies: the selected rules,
// indexed, and everything the loader read or refused, for the manifest.
type SigmaRules struct {
	Set        *sigma.RuleSet
	Collection *sigma.Collection
	Selected   []*sigma.Rule
	Dropped    []sigma.Refusal // loaded but not selected, with the reason
	Paths      []string        // the --sigma paths as given

	// Records' list and SetSHA256's hash, computed once: the manifest's
	// record and the sigma_rules table both give them, from different
	// goroutines.
	records       []SigmaRuleRecord
	recordsOnce   sync.Once
	setSHA256     string
	setSHA256Once sync.Once
}

// NewSigmaRules selects from a loaded collection and indexes the rules.
func NewSigmaRules(paths []string, c *sigma.Collection, sel sigma.Selection) *SigmaRules {
	kept, dropped := c.Select(sel)
	return &SigmaRules{Set: sigma.NewRuleSet(kept), Collection: c, Selected: kept, Dropped: dropped, Paths: paths}
}

// sigmaAnalyzer runs Sigma rules over the timeline's event log records.
type sigmaAnalyzer struct{}

var _ Analyzer = (*sigmaAnalyzer)(nil)

func (*sigmaAnalyzer) Meta() Meta {
	return Meta{
		ID: "sigma", Technique: Technique{ID: "none"}, Severity: timeline.SeverityCritical,
		Description: "Sigma rules given with --sigma, matched against every event log record under the logsource " +
			"mapping of the Sigma taxonomy; each finding names its rule, author and references.",
		References: []string{"https://github.com/SigmaHQ/sigma-specification"},
	}
}

// maxLinkedPerFinding bounds how many events of one folded finding feed
// incident linking; every event is still cited as evidence.
const maxLinkedPerFinding = 64

func (*sigmaAnalyzer) Analyze(ctx context.Context, in *Input) ([]Finding, error) {
	rules := in.Opts.Sigma
	// The rule set is recorded beside the findings it gave, replacing an
	// earlier run's or hunt's.
	if rules == nil || len(rules.Selected) == 0 {
		return nil, writeSigmaRules(ctx, in.db, rules)
	}
	record := func() error {
		err := writeSigmaRules(ctx, in.db, rules)
		phases.Mark("sigma: rules recorded")
		return err
	}
	if in.reader == nil {
		// One connection: the records are written before the pass reads.
		if err := record(); err != nil {
			return nil, err
		}
		return in.matchSigma(ctx, rules)
	}
	// On connections of its own the pass reads the timeline, in WAL mode,
	// while the records are written.
	recorded := make(chan error, 1)
	go func() { recorded <- record() }()
	out, err := in.matchSigma(ctx, rules)
	if rerr := <-recorded; err == nil {
		err = rerr
	}
	return out, err
}

// matchSigma runs the rules over every event log record and folds their
// matches into findings.
func (in *Input) matchSigma(ctx context.Context, rules *SigmaRules) ([]Finding, error) {
	var out []Finding
	type openKey struct{ host, rule string }
	type open struct {
		finding int
		last    time.Time
		count   int
		matched map[string]bool
		linked  int
	}
	opens := map[openKey]*open{}
	var groups []*open
	correlator := sigma.NewCorrelator(rules.Collection)
	src := sigmaSource{db: in.db}
	if in.reader != nil {
		src = sigmaSource{db: in.reader, byID: true}
	}
	err := scanSigmaEvents(ctx, src, rules.Set, correlator.Wants, func(e *Event, h sigmaHit) {
		r, matched := h.rule, h.matched
		if h.fields != nil {
			correlator.Observe(r, e.TS, e.Host, e.ID, h.fields)
		}
		if r.Suppressed() {
			return // a correlation counts it without generate
		}
		k := openKey{e.Host, r.ID + "\x00" + r.Path}
		if g := opens[k]; g != nil && e.TS.Sub(g.last).Abs() <= in.Opts.IncidentWindow {
			f := &out[g.finding]
			f.EventIDs = append(f.EventIDs, e.ID)
			if g.linked < maxLinkedPerFinding {
				f.link(e)
				g.linked++
			}
			if e.TS.After(g.last) {
				g.last = e.TS
			}
			g.count++
			if !g.matched[matched] && len(f.Matched)+len(matched) < maxFoldedMatched {
				g.matched[matched] = true
				f.Matched += "\n" + matched
			}
			return
		}
		f := sigmaFinding(e, r, matched)
		f.link(e)
		g := &open{finding: len(out), last: e.TS, count: 1, matched: map[string]bool{matched: true}, linked: 1}
		opens[k] = g
		groups = append(groups, g)
		out = append(out, f)
	})
	if err != nil {
		return nil, err
	}
	phases.Mark("sigma: pass")
	for _, h := range correlator.Finish() {
		out = append(out, correlationFinding(h))
	}
	for _, g := range groups {
		if g.count > 1 {
			f := &out[g.finding]
			f.Title += fmt.Sprintf(", %d times within %s", g.count, span(g.last.Sub(f.TS)))
			f.Features["events"] = g.count
		}
	}
	return out, nil
}

func sigmaFinding(e *Event, r *sigma.Rule, matched string) Finding {
	tech, related := sigmaTechniques(r.Tags)
	if sub := interpreterTechnique(e); sub != "" && sub != tech.ID && !containsString(related, sub) {
		related = append(related, sub)
	}
	severity := sigmaSeverity(r.Level)
	desc := strings.TrimSpace(r.Description)
	rule := fmt.Sprintf("Sigma rule %s matched: %s", r.ID, firstSentence(desc))
	features := map[string]any{
		"sigma_id": r.ID, "sigma_path": r.Path, "sigma_status": r.Status, "sigma_level": r.Level,
		"sigma_author": r.Author, "sigma_references": nonNil(r.References), "sigma_description": desc,
		"sigma_license": sigmaLicense(r),
	}
	return Finding{
		Host: e.Host, TS: e.TS, Technique: tech, Related: related, Severity: severity,
		Confidence: sigmaConfidence(r.Status), Title: r.Title, Rule: rule, Matched: matched,
		Features: features, EventIDs: []int64{e.ID}, RuleID: r.ID,
	}
}

// sigmaSeverity is a rule's level as a severity. A rule without a level is
// medium: the specification leaves it unset, and medium is what backends
// assume.
func sigmaSeverity(level string) timeline.Severity {
	if s, ok := timeline.ParseSeverity(level); ok {
		return s
	}
	return timeline.SeverityMedium
}

// correlationFinding is a correlation rule that fired for one group.
func correlationFinding(h sigma.CorrelationHit) Finding {
	c := h.Correlation
	tech, related := sigmaTechniques(c.Tags)
	severity := sigmaSeverity(c.Level)
	var group []string
	for _, g := range c.GroupBy {
		group = append(group, g+"="+h.Group[g])
	}
	matched := fmt.Sprintf("%s %g within %s", c.Type, h.Value, span(h.Last.Sub(h.First)))
	if len(group) > 0 {
		matched += " for " + strings.Join(group, ", ")
	}
	desc := strings.TrimSpace(c.Description)
	return Finding{
		Host: h.Host, TS: h.First, Technique: tech, Related: related, Severity: severity, Confidence: sigmaConfidence(c.Status),
		Title: c.Title, Rule: fmt.Sprintf("Sigma correlation %s (%s of %s within %s) fired: %s", c.ID, c.Type,
			strings.Join(c.Refs, ", "), c.Timespan, firstSentence(desc)),
		Matched: matched, EventIDs: h.EventIDs, RuleID: c.ID,
		Features: map[string]any{"sigma_id": c.ID, "sigma_path": c.Path, "sigma_author": c.Author,
			"sigma_references": nonNil(c.References), "sigma_license": sigmaLicenseOf(c.License), "events": len(h.EventIDs)},
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// sigmaLicense names the licence a rule is shared under; SigmaHQ's rules
// carry none in the file and are under the Detection Rule License 1.1.
func sigmaLicense(r *sigma.Rule) string { return sigmaLicenseOf(r.License) }

func sigmaLicenseOf(l string) string {
	if l != "" {
		return l
	}
	return "DRL-1.1"
}

func firstSentence(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if i := strings.Index(s, ". "); i > 0 {
		s = s[:i+1]
	}
	return s
}

// sigmaConfidence follows the rule's maturity: stable rules have been
// tuned on real data, experimental ones not yet.
func sigmaConfidence(status string) string {
	switch status {
	case "stable":
		return "high"
	case "test":
		return "medium"
	}
	return "low"
}

// sigmaTechniques reads ATT&CK tags: attack.t1059.001 is a technique, an
// attack.<tactic> tag names the tactic. The first technique is the
// finding's; the others are related.
func sigmaTechniques(tags []string) (Technique, []string) {
	tech := Technique{ID: "none"}
	var related []string
	for _, t := range tags {
		lt := strings.ToLower(t)
		name, ok := strings.CutPrefix(lt, "attack.")
		if !ok {
			continue
		}
		switch {
		case len(name) > 1 && name[0] == 't' && name[1] >= '0' && name[1] <= '9':
			id := strings.ToUpper(name)
			if tech.ID == "none" {
				tech.ID = id
			} else if !containsString(related, id) {
				related = append(related, id)
			}
		case attackTactics[name] != "" && tech.Tactic == "":
			tech.Tactic = attackTactics[name]
		}
	}
	if known, ok := timeline.LookupTechnique(tech.ID); ok {
		// The table's name; the rule's own tactic tag, where it has one,
		// says which use of the technique it looks for.
		tech.Name = known.Name
		if tech.Tactic == "" {
			tech.Tactic = known.Tactic
		}
	}
	if related == nil {
		related = []string{}
	}
	return tech, related
}

// attackTactics names the ATT&CK tactics as Sigma tags spell them.
var attackTactics = map[string]string{
	"reconnaissance": "Reconnaissance", "resource-development": "Resource Development", "initial-access": "Initial Access",
	"execution": "Execution", "persistence": "Persistence", "privilege-escalation": "Privilege Escalation",
	"defense-evasion": "Defense Evasion", "defense-impairment": "Defense Impairment", "stealth": "Stealth",
	"credential-access": "Credential Access", "discovery": "Discovery", "lateral-movement": "Lateral Movement",
	"collection": "Collection", "command-and-control": "Command and Control", "exfiltration": "Exfiltration",
	"impact": "Impact",
}

// interpreterTechnique is the T1059 sub-technique of the interpreter an
// event is about: its process, or the PowerShell log it came from.
func interpreterTechnique(e *Event) string {
	switch e.Channel {
	case "Microsoft-Windows-PowerShell/Operational", "PowerShellCore/Operational", "Windows PowerShell":
		return "T1059.001"
	}
	exe := strings.ToLower(path.Base(strings.ReplaceAll(e.Process, `\`, "/")))
	switch exe {
	case "powershell.exe", "pwsh.exe", "powershell_ise.exe":
		return "T1059.001"
	case "cmd.exe":
		return "T1059.003"
	case "wscript.exe", "cscript.exe", "mshta.exe":
		cl := strings.ToLower(e.CommandLine)
		if strings.Contains(cl, ".js") || strings.Contains(cl, "javascript:") || strings.Contains(cl, "jscript") {
			return "T1059.007"
		}
		return "T1059.005"
	case "python.exe", "pythonw.exe", "py.exe":
		return "T1059.006"
	case "bash.exe", "wsl.exe", "sh.exe":
		return "T1059.004"
	}
	return ""
}

func formatMatched(fvs []sigma.FieldValue) string {
	var b strings.Builder
	for i, fv := range fvs {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(fv.Field)
		b.WriteString(": ")
		b.WriteString(fv.Value)
	}
	return b.String()
}

// sigmaHit is a rule's match of an event, with what the analyzer keeps of
// it: the matched values as a finding shows them and, for a rule whose
// matches feed a correlation, the event's fields.
type sigmaHit struct {
	rule    *sigma.Rule
	matched string
	fields  sigma.Fields // nil unless keepFields(rule)
}

// sigmaSource is where scanSigmaEvents reads.
type sigmaSource struct {
	db *sql.DB
	// byID: the stream reads only the columns matching needs, and a
	// matched record's other columns are read by its id on a second
	// connection of db. Most records match no rule, and the columns they
	// did not need were two fifths of the reading.
	byID bool
}

// scanSigmaEvents streams the event log records in id order and calls
// hit for every rule that matches, in record order and in rule order
// within a record. One goroutine reads rows from SQLite and workers, one
// per processor, rule out, decode and match them a batch at a time, each
// with a Matcher of its own; the batches are handed to hit in the order
// they were read, so the result does not depend on the workers. The
// batches in flight bound the memory. Only the records of a channel and
// event id some rule reads, whose text holds a literal of one of those
// rules, have their data decoded.
func scanSigmaEvents(ctx context.Context, src sigmaSource, set *sigma.RuleSet, keepFields func(*sigma.Rule) bool, hit func(e *Event, h sigmaHit)) error {
	defer gctune.Trade(gctune.Budget)() // rows are garbage once matched; the rules' heap stays marked
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var details *sql.Stmt
	if src.byID {
		var err error
		if details, err = src.db.PrepareContext(ctx, `SELECT `+sigmaDetailColumns+` FROM events WHERE id = ?`); err != nil {
			return err
		}
		defer details.Close()
	}
	workers := min(runtime.GOMAXPROCS(0), maxSigmaWorkers)
	work := make(chan *sigmaBatch, workers)
	inOrder := make(chan *sigmaBatch, 2*workers)
	errc := make(chan error, 1)
	go func() {
		defer close(inOrder)
		defer close(work)
		reads := set.Reads()
		if !reads.All && len(reads.Channels) == 0 && len(reads.EventIDs) == 0 {
			errc <- nil // no rule reads an event log
			return
		}
		errc <- readSigmaRows(ctx, src.db, !src.byID, reads, func(rows []sigmaRow) bool {
			b := &sigmaBatch{rows: rows, done: make(chan struct{})}
			for _, c := range []chan<- *sigmaBatch{inOrder, work} {
				select {
				case c <- b:
				case <-ctx.Done():
					return false
				}
			}
			return true
		})
	}()
	for range workers {
		go func() {
			m := set.NewMatcher()
			f := sigma.Fields{} // one map serves every row: allocating one per row was a fifth of the time
			for b := range work {
				b.match(m, f, keepFields)
				close(b.done)
			}
		}()
	}
	stop := func(err error) error {
		cancel()
		for range inOrder { // the reader stops at its next batch
		}
		<-errc
		return err
	}
	for b := range inOrder {
		select {
		case <-b.done:
		case <-ctx.Done():
			return stop(ctx.Err())
		}
		if details != nil {
			if err := b.readDetails(ctx, details); err != nil {
				return stop(err)
			}
		}
		for _, h := range b.hits {
			r := &b.rows[h.row]
			if r.TS.IsZero() {
				r.TS, _ = timeline.ParseTime(r.ts)
			}
			hit(&r.Event, h.sigmaHit)
		}
	}
	return <-errc
}

// maxReadParameters bounds the channels and event ids a pass names to
// SQLite, one bound parameter each; past it every event log row is read.
const maxReadParameters = 1000

// maxSigmaWorkers bounds the matching goroutines.
const maxSigmaWorkers = 4

// sigmaBatch is rows read together, matched by one worker.
type sigmaBatch struct {
	rows []sigmaRow
	hits []sigmaRowHit
	done chan struct{} // closed once hits is complete
}

type sigmaRowHit struct {
	row int
	sigmaHit
}

// match fills b.hits using m and f, which are the calling worker's.
func (b *sigmaBatch) match(m *sigma.Matcher, f sigma.Fields, keepFields func(*sigma.Rule) bool) {
	for i := range b.rows {
		row := &b.rows[i]
		e := &row.Event
		if !m.MayMatchJSON(e.Channel, e.EventID, e.data, e.Provider, row.computer, e.Level, row.recordID) {
			continue // no rule reads it, or none of their literals is in its text
		}
		f.Reset()
		if err := decodeFlatJSON(e.data, f); err != nil {
			continue // the timeline wrote it; a row it cannot read again is skipped, not fatal
		}
		f.SystemFields(e.EventID, e.Channel, e.Provider, row.computer, e.Level, row.recordID)
		m.Match(e.Channel, e.EventID, f, func(r *sigma.Rule, seen sigma.Fields) {
			h := sigmaRowHit{row: i, sigmaHit: sigmaHit{rule: r, matched: formatMatched(m.Matched(r))}}
			if keepFields(r) {
				h.fields = seen.Clone()
			}
			b.hits = append(b.hits, h)
		})
	}
}

// sigmaRow is an event row and the columns only the rules read.
type sigmaRow struct {
	Event
	computer       string
	recordID       int64
	eventID, level int64 // as read, for Event's ints
	ts             string
}

const sigmaBatchRows = 512

// sigmaMatchColumns are the columns matching reads, and
// sigmaDetailColumns the others a matched record's finding needs.
const (
	sigmaMatchColumns  = `id, event_id, level, record_id, channel, provider, computer, data`
	sigmaDetailColumns = `artifact_id, ts, host, source, process, parent_process, command_line, script_block_id, user`
)

var (
	sigmaMatchNames  = columnNames(sigmaMatchColumns)
	sigmaDetailNames = columnNames(sigmaDetailColumns)
)

func columnNames(columns string) []string {
	return strings.Split(strings.Join(strings.Fields(columns), ""), ",")
}

// readSigmaRows hands the rows to send in batches, read at the driver's
// level (timeline.QueryDriver), until send returns false; with details,
// the rows have every column, else only the matching ones. Only the rows
// the rules read are read: SQLite passes over the others without handing
// their text to Go, which was most of a pass of rules for a few logs over
// a large timeline. The unary + keeps SQLite off the (source, event_id)
// index, which made it sort every row, data and all, before the first
// came back.
func readSigmaRows(ctx context.Context, db *sql.DB, details bool, reads sigma.Reads, send func([]sigmaRow) bool) error {
	columns := sigmaMatchColumns
	if details {
		columns += ", " + sigmaDetailColumns
	}
	cond, args := readsCondition(reads)
	query := `SELECT ` + columns + ` FROM events WHERE +source='evtx'` + cond + ` ORDER BY id`
	return timeline.QueryDriver(ctx, db, query, args, func(rows driver.Rows) error {
		dest := make([]driver.Value, len(rows.Columns()))
		batch := make([]sigmaRow, 0, sigmaBatchRows)
		for {
			if err := rows.Next(dest); err == io.EOF {
				break
			} else if err != nil {
				return err
			}
			var r sigmaRow
			if err := r.fill(dest[:len(sigmaMatchNames)], sigmaMatchNames, r.matchColumns()); err != nil {
				return err
			}
			if details {
				if err := r.fill(dest[len(sigmaMatchNames):], sigmaDetailNames, r.detailColumns()); err != nil {
					return err
				}
			}
			if batch = append(batch, r); len(batch) == sigmaBatchRows {
				if !send(batch) {
					return ctx.Err()
				}
				batch = make([]sigmaRow, 0, sigmaBatchRows)
			}
		}
		if len(batch) > 0 && !send(batch) {
			return ctx.Err()
		}
		return nil
	})
}

// readsCondition is the condition on the rows that reads names, with its
// parameters: none for every row.
func readsCondition(reads sigma.Reads) (string, []any) {
	if reads.All {
		return "", nil
	}
	var terms []string
	var args []any
	list := func(n int) string { return "(" + strings.TrimSuffix(strings.Repeat("?,", n), ",") + ")" }
	if len(reads.Channels) > 0 {
		terms = append(terms, "channel IN "+list(len(reads.Channels)))
		for _, c := range reads.Channels {
			args = append(args, c)
		}
	}
	channels := make([]string, 0, len(reads.EventIDs))
	for c := range reads.EventIDs {
		channels = append(channels, c)
	}
	sort.Strings(channels)
	for _, c := range channels {
		ids := reads.EventIDs[c]
		terms = append(terms, "channel = ? AND event_id IN "+list(len(ids)))
		args = append(args, c)
		for _, id := range ids {
			args = append(args, id)
		}
	}
	if len(args) > maxReadParameters {
		return "", nil
	}
	return " AND (" + strings.Join(terms, " OR ") + ")", args
}

// matchColumns and detailColumns point at where r keeps each column of
// sigmaMatchColumns and sigmaDetailColumns: *int64 or *string.
func (r *sigmaRow) matchColumns() []any {
	return []any{&r.ID, &r.eventID, &r.level, &r.recordID, &r.Channel, &r.Provider, &r.computer, &r.data}
}

func (r *sigmaRow) detailColumns() []any {
	return []any{&r.ArtifactID, &r.ts, &r.Host, &r.Source, &r.Process, &r.ParentProcess, &r.CommandLine, &r.ScriptBlockID, &r.User}
}

// fill sets the columns of r from a driver row (fillColumns).
func (r *sigmaRow) fill(dest []driver.Value, names []string, into []any) error {
	if err := fillColumns(dest, names, into); err != nil {
		return fmt.Errorf("event %d: %w", r.ID, err)
	}
	r.EventID, r.Level = int(r.eventID), int(r.level)
	return nil
}

// fillColumns sets each of into, an *int64 or a *string, from the driver
// row's value of the column named alike. A value of another type than
// its column's, which only an edited database holds, is refused; a NULL
// is 0 or empty.
func fillColumns(row []driver.Value, names []string, into []any) error {
	for i, p := range into {
		var err error
		switch p := p.(type) {
		case *int64:
			*p, err = timeline.DriverInt(row[i], names[i])
		case *string:
			*p, err = timeline.DriverText(row[i], names[i])
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// readDetails reads the detail columns of the rows with hits.
func (b *sigmaBatch) readDetails(ctx context.Context, details *sql.Stmt) error {
	last := -1
	for _, h := range b.hits {
		if h.row == last {
			continue // hits of one row are together
		}
		last = h.row
		r := &b.rows[h.row]
		if err := details.QueryRowContext(ctx, r.ID).Scan(r.detailColumns()...); err != nil {
			return fmt.Errorf("event %d: %w", r.ID, err)
		}
	}
	return nil
}
