package timeline

import (
	"database/sql"
	"fmt"
)

// Host is the hosts table's row for one evidence root: its host's name and
// where the name came from.
type Host struct {
	Name, EvidenceRoot, NameSource, Computer, Detail string
	// Path is the root's absolute path with links resolved.
	Path string
}

// AddHosts records the roots the latest run opened, under that run.
func AddHosts(db *sql.DB, hosts []Host) error {
	tx, err := db.Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, h := range hosts {
		_, err := tx.Exec(`INSERT INTO hosts (run_id, name, evidence_root, evidence_path, name_source, computer, name_detail)
			VALUES ((SELECT coalesce(max(id), 0) FROM runs),?,?,?,?,?,?)`, h.Name, h.EvidenceRoot, h.Path, h.NameSource, h.Computer, h.Detail)
		if err != nil {
			return fmt.Errorf("timeline: record the hosts: %w", err)
		}
	}
	return tx.Commit()
}

// HostNames lists the host names already in the case, from its artifacts
// and skipped files (a root may hold nothing but files not examined).
func HostNames(db *sql.DB) ([]string, error) {
	rows, err := db.Query(`SELECT host FROM artifacts UNION SELECT host FROM skipped UNION SELECT name FROM hosts`)
	if err != nil {
		return nil, fmt.Errorf("timeline: hosts: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, err
		}
		out = append(out, name)
	}
	return out, rows.Err()
}
