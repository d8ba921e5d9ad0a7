package analyzers

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"sort"
	"strings"

	"triage/analyzers/sigma"
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
// path and document order.
func (s *SigmaRules) Records() []SigmaRuleRecord {
	sums := map[string]string{}
	for _, f := range s.Collection.Files {
		sums[f.Path] = f.SHA256
	}
	var out []SigmaRuleRecord
	for _, r := range s.Selected {
		out = append(out, SigmaRuleRecord{Path: r.Path, Doc: r.Doc, Line: r.Line, FileSHA256: sums[r.Path], ID: r.ID, Title: r.Title,
			Status: r.Status, Level: r.Level, Author: r.Author, References: r.References, State: SigmaLoaded, Kind: "rule"})
	}
	for _, c := range s.Collection.Correlations {
		out = append(out, SigmaRuleRecord{Path: c.Path, Doc: c.Doc, Line: c.Line, FileSHA256: sums[c.Path], ID: c.ID, Title: c.Title,
			Status: c.Status, Level: c.Level, Author: c.Author, References: c.References, State: SigmaLoaded, Kind: "correlation"})
	}
	for _, f := range s.Collection.Filters {
		out = append(out, SigmaRuleRecord{Path: f.Path, Doc: f.Doc, Line: f.Line, FileSHA256: sums[f.Path], ID: f.ID, Title: f.Title,
			Status: f.Status, Author: f.Author, References: f.References, State: SigmaLoaded, Kind: "filter"})
	}
	byID := map[string]*sigma.Rule{}
	for _, r := range s.Collection.Rules {
		byID[r.ID+"\x00"+r.Path] = r
	}
	for _, d := range s.Dropped {
		rec := SigmaRuleRecord{Path: d.Path, Line: d.Line, FileSHA256: sums[d.Path], ID: d.ID, Title: d.Title, State: SigmaNotSelected,
			Reason: d.Reason, Detail: d.Detail, Kind: "rule"}
		if r := byID[d.ID+"\x00"+d.Path]; r != nil {
			rec.Doc, rec.Status, rec.Level, rec.Author, rec.References = r.Doc, r.Status, r.Level, r.Author, r.References
		}
		out = append(out, rec)
	}
	for _, d := range s.Collection.Refused {
		out = append(out, SigmaRuleRecord{Path: d.Path, Line: d.Line, FileSHA256: sums[d.Path], ID: d.ID, Title: d.Title, State: SigmaRefused, Reason: d.Reason, Detail: d.Detail})
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Path != out[j].Path {
			return out[i].Path < out[j].Path
		}
		if out[i].Doc != out[j].Doc {
			return out[i].Doc < out[j].Doc
		}
		return out[i].Line < out[j].Line
	})
	return out
}

// SetSHA256 is the rule set's hash: SHA-256 over the sorted SHA-256s of
// the files read, one hex line each, so it names the rules' content
// wherever the files lie.
func (s *SigmaRules) SetSHA256() string {
	var sums []string
	for _, f := range s.Collection.Files {
		sums = append(sums, f.SHA256)
	}
	sort.Strings(sums)
	h := sha256.Sum256([]byte(strings.Join(sums, "\n") + "\n"))
	return hex.EncodeToString(h[:])
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
	ins, err := tx.Prepare(`INSERT INTO sigma_rules (path, doc, line, file_sha256, rule_id, title, status, level, author, refs, state, reason, detail)
		VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)`)
	if err != nil {
		return err
	}
	defer ins.Close()
	notLoaded := 0
	for _, r := range s.Records() {
		refs := r.References
		if refs == nil {
			refs = []string{}
		}
		rj, _ := json.Marshal(refs)
		if r.State != SigmaLoaded {
			notLoaded++
		}
		if _, err := ins.Exec(r.Path, r.Doc, r.Line, r.FileSHA256, r.ID, r.Title, r.Status, r.Level, r.Author, string(rj), r.State, r.Reason, r.Detail); err != nil {
			return err
		}
	}
	paths, _ := json.Marshal(nonNil(s.Paths))
	if _, err := tx.Exec(`INSERT INTO sigma_ruleset (sha256, files, loaded, not_loaded, paths) VALUES (?,?,?,?,?)`,
		s.SetSHA256(), len(s.Collection.Files), len(s.Selected), notLoaded, string(paths)); err != nil {
		return err
	}
	return tx.Commit()
}
