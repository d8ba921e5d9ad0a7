package report

import (
	"database/sql"
	"encoding/json"
)

// caseView is the case's history: the hosts its runs named and the runs
// themselves, the first that made the case and each --add after it.
type caseView struct {
	Hosts []hostRow
	Runs  []runRow
}

// hostRow is one evidence root and where its host's name came from.
type hostRow struct {
	Name, EvidenceRoot, Source, Computer, Detail string
	Run                                          int64
}

type runRow struct {
	ID                              int64
	Kind, Started, Finished, Status string
	StatusDetail                    string
	CommandLine                     []string
}

// loadCase reads the hosts and runs tables, in order.
func loadCase(db *sql.DB, d *data) error {
	rows, err := db.Query(`SELECT run_id, name, evidence_root, name_source, computer, name_detail FROM hosts ORDER BY id`)
	if err != nil {
		return err
	}
	for rows.Next() {
		var h hostRow
		if err := rows.Scan(&h.Run, &h.Name, &h.EvidenceRoot, &h.Source, &h.Computer, &h.Detail); err != nil {
			rows.Close()
			return err
		}
		d.Case.Hosts = append(d.Case.Hosts, h)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	rows, err = db.Query(`SELECT id, kind, started_ts, finished_ts, status, status_detail, command_line, evidence FROM runs ORDER BY id`)
	if err != nil {
		return err
	}
	defer rows.Close()
	var all []string
	for rows.Next() {
		var r runRow
		var argv, evid string
		if err := rows.Scan(&r.ID, &r.Kind, &r.Started, &r.Finished, &r.Status, &r.StatusDetail, &argv, &evid); err != nil {
			return err
		}
		json.Unmarshal([]byte(argv), &r.CommandLine)
		var evidence []string
		json.Unmarshal([]byte(evid), &evidence)
		all = append(all, evidence...)
		d.Case.Runs = append(d.Case.Runs, r)
	}
	if len(d.Case.Runs) > 1 {
		d.Run.Evidence = all // the case's, not the latest run's
	}
	return rows.Err()
}
