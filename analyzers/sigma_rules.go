package analyzers

import (
	"cmp"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"slices"
	"strings"

	"triage/analyzers/sigma"
	"triage/timeline"
)

// Rule states in the sigma_rules table.
const (
	SigmaLoaded      = "loaded"
	SigmaNotSelected = "not selected"
	SigmaRefused     = "refused"
)

// SigmaRuleRecord is one rule document read, as the manifest and the
// sigma_rules table list it.
type SigmaRuleRecord struct {
	Path       string   `json:"path"`
	Doc        int      `json:"doc"`
	Kind       string   `json:"kind"` // rule, correlation or filter; empty when refused before telling
	Line       int      `json:"line,omitempty"`
	FileSHA256 string   `json:"sha256"`
	ID         string   `json:"id"`
	Title      string   `json:"title"`
	Status     string   `json:"status"`
	Level      string   `json:"level,omitempty"`
	Author     string   `json:"author,omitempty"`
	References []string `json:"references,omitempty"`
	State      string   `json:"state"`
	Reason     string   `json:"reason,omitempty"`
	Detail     string   `json:"detail,omitempty"`
}

// Records lists every document read: loaded, not selected, refused, in
// path and document order. The list is built once and shared: callers
// must not modify it.
func (s *SigmaRules) Records() []SigmaRuleRecord {
	s.recordsOnce.Do(func() { s.records = s.newRecords() })
	return s.records
}

func (s *SigmaRules) newRecords() []SigmaRuleRecord {
	sums := make(map[string]string, len(s.Collection.Files))
	for _, f := range s.Collection.Files {
		sums[f.Path] = f.SHA256
	}
	c := s.Collection
	var out []SigmaRuleRecord // nil when nothing was read, as the manifest tells
	if n := len(s.Selected) + len(c.Correlations) + len(c.Filters) + len(s.Dropped) + len(c.Refused); n > 0 {
		out = make([]SigmaRuleRecord, 0, n)
	}
	for _, r := range s.Selected {
		out = append(out, SigmaRuleRecord{Path: r.Path, Doc: r.Doc, Line: r.Line, FileSHA256: sums[r.Path], ID: r.ID, Title: r.Title,
			Status: r.Status, Level: r.Level, Author: r.Author, References: r.References, State: SigmaLoaded, Kind: "rule"})
	}
	for _, k := range c.Correlations {
		out = append(out, SigmaRuleRecord{Path: k.Path, Doc: k.Doc, Line: k.Line, FileSHA256: sums[k.Path], ID: k.ID, Title: k.Title,
			Status: k.Status, Level: k.Level, Author: k.Author, References: k.References, State: SigmaLoaded, Kind: "correlation"})
	}
	for _, f := range c.Filters {
		out = append(out, SigmaRuleRecord{Path: f.Path, Doc: f.Doc, Line: f.Line, FileSHA256: sums[f.Path], ID: f.ID, Title: f.Title,
			Status: f.Status, Author: f.Author, References: f.References, State: SigmaLoaded, Kind: "filter"})
	}
	type idPath struct{ id, path string }
	var byID map[idPath]*sigma.Rule
	if len(s.Dropped) > 0 {
		byID = make(map[idPath]*sigma.Rule, len(c.Rules))
		for _, r := range c.Rules {
			byID[idPath{r.ID, r.Path}] = r
		}
	}
	for _, d := range s.Dropped {
		rec := SigmaRuleRecord{Path: d.Path, Line: d.Line, FileSHA256: sums[d.Path], ID: d.ID, Title: d.Title, State: SigmaNotSelected,
			Reason: d.Reason, Detail: d.Detail, Kind: "rule"}
		if r := byID[idPath{d.ID, d.Path}]; r != nil {
			rec.Doc, rec.Status, rec.Level, rec.Author, rec.References = r.Doc, r.Status, r.Level, r.Author, r.References
		}
		out = append(out, rec)
	}
	for _, d := range c.Refused {
		out = append(out, SigmaRuleRecord{Path: d.Path, Line: d.Line, FileSHA256: sums[d.Path], ID: d.ID, Title: d.Title, State: SigmaRefused, Reason: d.Reason, Detail: d.Detail})
	}
	slices.SortStableFunc(out, func(a, b SigmaRuleRecord) int {
		return cmp.Or(strings.Compare(a.Path, b.Path), cmp.Compare(a.Doc, b.Doc), cmp.Compare(a.Line, b.Line))
	})
	return out
}

// SetSHA256 is the rule set's hash: SHA-256 over the sorted SHA-256s of
// the files read, one hex line each, so it names the rules' content
// wherever the files lie. It is computed once, as Records.
func (s *SigmaRules) SetSHA256() string {
	s.setSHA256Once.Do(func() {
		sums := make([]string, 0, len(s.Collection.Files))
		for _, f := range s.Collection.Files {
			sums = append(sums, f.SHA256)
		}
		slices.Sort(sums)
		h := sha256.Sum256([]byte(strings.Join(sums, "\n") + "\n"))
		s.setSHA256 = hex.EncodeToString(h[:])
	})
	return s.setSHA256
}

// sigmaRulesPerInsert rows go in one INSERT: running a statement cost as
// much as binding a row's values. 64 rows of 13 values stay under the 999
// variables SQLite allows at least.
const (
	sigmaRulesPerInsert = 64
	sigmaRuleColumns    = 13
)

// insertSigmaRules is the INSERT of n rows into sigma_rules.
func insertSigmaRules(n int) string {
	const row = "(?,?,?,?,?,?,?,?,?,?,?,?,?)"
	return `INSERT INTO sigma_rules (path, doc, line, file_sha256, rule_id, title, status, level, author, refs, state, reason, detail) VALUES ` +
		strings.Repeat(row+",", n-1) + row
}

// writeSigmaRules replaces the sigma_rules and sigma_ruleset tables.
func writeSigmaRules(ctx context.Context, db *sql.DB, s *SigmaRules) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, q := range []string{`DELETE FROM sigma_rules`, `DELETE FROM sigma_ruleset`} {
		if _, err := tx.Exec(q); err != nil {
			return err
		}
	}
	if s == nil {
		return tx.Commit()
	}
	records := s.Records()
	notLoaded := 0
	args := make([]any, 0, sigmaRuleColumns*min(len(records), sigmaRulesPerInsert))
	var full *sql.Stmt // the statement of a whole batch, prepared once
	for start := 0; start < len(records); start += sigmaRulesPerInsert {
		batch := records[start:min(start+sigmaRulesPerInsert, len(records))]
		args = args[:0]
		var refs []byte
		for i := range batch {
			r := &batch[i]
			if r.State != SigmaLoaded {
				notLoaded++
			}
			refs = timeline.AppendJSONStrings(refs[:0], nonNil(r.References)) // a rule without references holds []
			args = append(args, r.Path, r.Doc, r.Line, r.FileSHA256, r.ID, r.Title, r.Status, r.Level, r.Author, string(refs), r.State, r.Reason, r.Detail)
		}
		ins := full
		if ins == nil || len(batch) < sigmaRulesPerInsert {
			if ins, err = tx.Prepare(insertSigmaRules(len(batch))); err != nil {
				return err
			}
			if len(batch) == sigmaRulesPerInsert {
				full = ins
			}
			defer ins.Close()
		}
		if _, err := ins.Exec(args...); err != nil {
			return err
		}
	}
	if _, err := tx.Exec(`INSERT INTO sigma_ruleset (sha256, files, loaded, not_loaded, paths) VALUES (?,?,?,?,?)`,
		s.SetSHA256(), len(s.Collection.Files), len(s.Selected), notLoaded, string(timeline.AppendJSONStrings(nil, nonNil(s.Paths)))); err != nil {
		return err
	}
	return tx.Commit()
}
