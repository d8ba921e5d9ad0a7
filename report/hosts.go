package report

import (
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"triage/timeline"
)

// A case of many hosts, listed on one page, made a page of thousands of
// findings and their records that a browser renders slowly and prints to
// a thousand pages. Past splitHosts hosts (or splitFindings findings on
// more than one host) report.html keeps what is about the case (the
// summary, ATT&CK view, charts, fleet view, completeness, what was not
// examined, the Sigma rule set, the method) and a table of the hosts, each
// linking to hosts/<name>.html: the same report for that host alone, with
// its findings and every record they cite, incidents, scripts, sessions
// and evidence manifest. The report holds one host's data at a time.
const (
	splitHosts    = 3
	splitFindings = 1000
)

// hostPage is a host's row in the case report's table of hosts.
type hostPage struct {
	Host, Page                                   string // Page: the page's path relative to report.html
	Artifacts, Events, Findings, High, Incidents int
}

// splitByHost says whether the case report lists its hosts on pages of
// their own.
func splitByHost(db *sql.DB) (bool, error) {
	var hosts, findings int
	if err := db.QueryRow(`SELECT count(DISTINCT host) FROM artifacts`).Scan(&hosts); err != nil {
		return false, err
	}
	if err := db.QueryRow(`SELECT count(*) FROM findings`).Scan(&findings); err != nil {
		return false, err
	}
	return hosts > splitHosts || hosts > 1 && findings > splitFindings, nil
}

// hostPageNames gives each host a file name under hosts/ that is safe on
// any file system: letters, digits, '-', '_' and '.', not starting with a
// dot, at most 64 of them. A name changed to be so, or equal to another's but for case, gets
// the first digits of its host name's SHA-256, so that two hosts never
// share a page. hosts must be sorted, for the same names on a rerun.
func hostPageNames(hosts []string) map[string]string {
	out := map[string]string{}
	taken := map[string]bool{}
	for _, h := range hosts {
		var b strings.Builder
		for _, r := range h {
			if r < 0x80 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
				b.WriteRune(r)
			} else {
				b.WriteByte('_')
			}
		}
		name := strings.TrimLeft(b.String(), ".")
		if len(name) > 64 {
			name = name[:64]
		}
		if name == "" {
			name = "host"
		}
		if name != h || taken[strings.ToLower(name)] {
			sum := sha256.Sum256([]byte(h))
			name += "-" + hex.EncodeToString(sum[:6])
		}
		taken[strings.ToLower(name)] = true
		out[h] = "hosts/" + name + ".html"
	}
	return out
}

// loadHostPages fills the case report's table of hosts from per-host
// counts.
func loadHostPages(db *sql.DB, d *data) error {
	names := hostPageNames(d.Hosts)
	byHost := map[string]*hostPage{}
	for _, h := range d.Hosts {
		d.HostPages = append(d.HostPages, hostPage{Host: h, Page: names[h]})
	}
	for i := range d.HostPages {
		byHost[d.HostPages[i].Host] = &d.HostPages[i]
	}
	count := func(query string, set func(p *hostPage, n int)) error {
		rows, err := db.Query(query)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var host string
			var n int
			if err := rows.Scan(&host, &n); err != nil {
				return err
			}
			if p := byHost[host]; p != nil {
				set(p, n)
			}
		}
		return rows.Err()
	}
	high := `'` + timeline.SeverityHigh.String() + `', '` + timeline.SeverityCritical.String() + `'`
	for _, c := range []struct {
		query string
		set   func(p *hostPage, n int)
	}{
		{`SELECT host, count(*) FROM artifacts GROUP BY host`, func(p *hostPage, n int) { p.Artifacts = n }},
		{`SELECT host, count(*) FROM events GROUP BY host`, func(p *hostPage, n int) { p.Events = n }},
		{`SELECT host, count(*) FROM findings GROUP BY host`, func(p *hostPage, n int) { p.Findings = n }},
		{`SELECT host, count(*) FROM findings WHERE severity IN (` + high + `) GROUP BY host`, func(p *hostPage, n int) { p.High = n }},
		{`SELECT host, count(*) FROM incidents GROUP BY host`, func(p *hostPage, n int) { p.Incidents = n }},
	} {
		if err := count(c.query, c.set); err != nil {
			return err
		}
	}
	return nil
}

// loadFindingCounts states, for the case report of a split case, what
// loadFindings would: the counts by severity and technique and the ATT&CK
// rows, read a finding at a time.
func loadFindingCounts(db *sql.DB, d *data) error {
	rows, err := db.Query(`SELECT technique_id, technique_name, severity, related FROM findings ORDER BY id`)
	if err != nil {
		return err
	}
	defer rows.Close()
	groups := map[string]*techniqueGroup{}
	sev := map[string]int{}
	related := map[string]int{}
	for rows.Next() {
		var id, name, severity, rel string
		if err := rows.Scan(&id, &name, &severity, &rel); err != nil {
			return err
		}
		d.FindingCount++
		g := groups[id]
		if g == nil {
			g = &techniqueGroup{ID: id, Name: techniqueName(id, name)}
			groups[id] = g
		}
		g.Count++
		if rank[severity] >= timeline.SeverityHigh {
			g.High++
		}
		sev[severity]++
		var list []string
		json.Unmarshal([]byte(rel), &list)
		for _, r := range list {
			related[r]++
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for _, g := range groups {
		d.ByTechnique = append(d.ByTechnique, *g)
	}
	sort.Slice(d.ByTechnique, func(i, j int) bool { return d.ByTechnique[i].ID < d.ByTechnique[j].ID })
	d.AttackRows = attackRows(groups, related)
	for _, s := range timeline.Severities {
		d.Severities = append(d.Severities, severityCount{s.String(), sev[s.String()]})
	}
	return nil
}

// attackRows lists the T1059 family, found or not, then the related
// techniques seen, with their counts.
func attackRows(groups map[string]*techniqueGroup, related map[string]int) []attackRow {
	var out []attackRow
	listed := map[string]bool{}
	for _, id := range attackView {
		n := 0
		if g := groups[id]; g != nil {
			n = g.Count
		}
		out = append(out, attackRow{id, timeline.ShortTechniqueName(id), n})
		listed[id] = true
	}
	var ids []string
	for id := range related {
		if !listed[id] {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	for _, id := range ids {
		out = append(out, attackRow{id, techniqueName(id, id) + " (seen inside interpreter activity)", related[id]})
	}
	return out
}

// loadTopIncidents reads the ten most severe incidents of a split case,
// each linked on its host's page, and counts them all.
func loadTopIncidents(db *sql.DB, d *data) error {
	if err := db.QueryRow(`SELECT count(*) FROM incidents`).Scan(&d.IncidentCount); err != nil {
		return err
	}
	var order strings.Builder
	order.WriteString("CASE severity")
	for _, s := range timeline.Severities {
		fmt.Fprintf(&order, " WHEN '%s' THEN %d", s.String(), int(s))
	}
	order.WriteString(" ELSE 0 END DESC, id")
	rows, err := db.Query(`SELECT id, host, first_ts, last_ts, severity, title FROM incidents ORDER BY ` + order.String() + ` LIMIT 10`)
	if err != nil {
		return err
	}
	defer rows.Close()
	names := hostPageNames(d.Hosts)
	for rows.Next() {
		var in incidentView
		if err := rows.Scan(&in.ID, &in.Host, &in.First, &in.Last, &in.Severity, &in.Title); err != nil {
			return err
		}
		in.Page = names[in.Host]
		d.TopIncidents = append(d.TopIncidents, in)
	}
	return rows.Err()
}
