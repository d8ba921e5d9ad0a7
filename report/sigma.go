package report

import (
	"database/sql"
	"encoding/json"
	"sort"
	"strings"
)

// sigmaSection is the report's account of the Sigma rules: the rule set
// and its hash, what fired (with each rule's author and references, as
// the Detection Rule License asks), and what was not loaded and why.
type sigmaSection struct {
	SHA256                   string
	Paths                    []string
	Files, Loaded, NotLoaded int
	ByReason                 []reasonCount
	Fired                    []sigmaFired // informational rules left out; they stay in the database
	InformationalRules       int
	InformationalFindings    int
	NotLoadedRules           []sigmaNotLoaded
}

type sigmaFired struct {
	RuleID, Title, Level, Status, Author, Path string
	References, Hosts                          []string
	Findings, Events                           int
	First, Last                                string
}

type sigmaNotLoaded struct {
	Path, RuleID, Title, State, Reason, Detail string
	Line                                       int
}

// loadSigma fills d.Sigma when the run or a hunt ran Sigma rules.
func loadSigma(db *sql.DB, d *data) error {
	s := &sigmaSection{}
	var paths string
	err := db.QueryRow(`SELECT sha256, files, loaded, not_loaded, paths FROM sigma_ruleset`).Scan(&s.SHA256, &s.Files, &s.Loaded, &s.NotLoaded, &paths)
	if err == sql.ErrNoRows {
		return nil
	}
	if err != nil {
		return err
	}
	json.Unmarshal([]byte(paths), &s.Paths)
	d.Sigma = s
	if err := loadSigmaNotLoaded(db, s); err != nil {
		return err
	}
	return loadSigmaFired(db, s)
}

func loadSigmaNotLoaded(db *sql.DB, s *sigmaSection) error {
	rows, err := db.Query(`SELECT path, line, rule_id, title, state, reason, detail FROM sigma_rules WHERE state != 'loaded' ORDER BY id`)
	if err != nil {
		return err
	}
	defer rows.Close()
	reasons := map[string]int{}
	for rows.Next() {
		var n sigmaNotLoaded
		if err := rows.Scan(&n.Path, &n.Line, &n.RuleID, &n.Title, &n.State, &n.Reason, &n.Detail); err != nil {
			return err
		}
		reasons[n.State+": "+n.Reason]++
		s.NotLoadedRules = append(s.NotLoadedRules, n)
	}
	for r, c := range reasons {
		s.ByReason = append(s.ByReason, reasonCount{r, c})
	}
	sort.Slice(s.ByReason, func(i, j int) bool {
		if s.ByReason[i].Count != s.ByReason[j].Count {
			return s.ByReason[i].Count > s.ByReason[j].Count
		}
		return s.ByReason[i].Reason < s.ByReason[j].Reason
	})
	return rows.Err()
}

func loadSigmaFired(db *sql.DB, s *sigmaSection) error {
	// Each part from the sigma findings outwards: joined to every rule
	// record first, the query had SQLite index the 3,000 records' text on
	// every report, most of the report's Sigma time. A rule id loaded from
	// two files is described by the first.
	rows, err := db.Query(`WITH fired AS (SELECT rule_id, count(*) AS findings, min(ts) AS first, max(ts) AS last,
			group_concat(DISTINCT host) AS hosts FROM findings WHERE analyzer = 'sigma' GROUP BY rule_id),
		events_per_rule AS (SELECT g.rule_id, count(DISTINCT fe.event_id) AS n FROM findings g
			CROSS JOIN finding_evidence fe ON fe.finding_id = g.id JOIN events e ON e.id = fe.event_id
			WHERE g.analyzer = 'sigma' AND e.source = 'evtx' GROUP BY g.rule_id),
		described AS (SELECT rule_id, min(id) AS id FROM sigma_rules
			WHERE state = 'loaded' AND rule_id IN (SELECT rule_id FROM fired) GROUP BY rule_id)
		SELECT f.rule_id, f.findings, f.first, f.last, f.hosts, coalesce(p.n, 0),
		coalesce(r.title, ''), coalesce(r.level, ''), coalesce(r.status, ''), coalesce(r.author, ''), coalesce(r.refs, '[]'), coalesce(r.path, '')
		FROM fired f LEFT JOIN events_per_rule p ON p.rule_id = f.rule_id
		LEFT JOIN described d ON d.rule_id = f.rule_id LEFT JOIN sigma_rules r ON r.id = d.id
		ORDER BY f.rule_id`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var f sigmaFired
		var hosts, refs string
		if err := rows.Scan(&f.RuleID, &f.Findings, &f.First, &f.Last, &hosts, &f.Events, &f.Title, &f.Level, &f.Status,
			&f.Author, &refs, &f.Path); err != nil {
			return err
		}
		f.Hosts = strings.Split(hosts, ",")
		sort.Strings(f.Hosts)
		json.Unmarshal([]byte(refs), &f.References)
		if f.Level == "informational" {
			s.InformationalRules++
			s.InformationalFindings += f.Findings
			continue
		}
		s.Fired = append(s.Fired, f)
	}
	sort.SliceStable(s.Fired, func(i, j int) bool {
		a, b := s.Fired[i], s.Fired[j]
		if rank[a.Level] != rank[b.Level] {
			return rank[a.Level] > rank[b.Level]
		}
		if a.Events != b.Events {
			return a.Events > b.Events
		}
		return a.RuleID < b.RuleID
	})
	return rows.Err()
}
