package timeline

import (
	"context"
	"database/sql"
	"encoding/json"
	"strings"
	"time"
)

// PowerShell sessions are derived from the events: the Windows PowerShell
// log records an engine's start (400) and stop (403) with the same HostId,
// and the pair is one session of one host program. The table is rebuilt
// from the events by BuildPowerShellSessions, so it needs no change to the
// ingest; its schema is here, beside the code that fills it.
const sessionsSchema = `CREATE TABLE IF NOT EXISTS powershell_sessions (
	id               INTEGER PRIMARY KEY,  -- in start order: host, start time, start event id
	host             TEXT NOT NULL,
	host_id          TEXT NOT NULL,        -- the engine's HostId, shared by its 400 and 403
	start_ts         TEXT NOT NULL,
	end_ts           TEXT NOT NULL DEFAULT '', -- '' when no 403 was logged (still running, or the log rolled over)
	duration_ms      INTEGER NOT NULL DEFAULT -1, -- -1 when the end is unknown
	host_name        TEXT NOT NULL,        -- ConsoleHost, ServerRemoteHost, Windows PowerShell ISE Host…
	host_application TEXT NOT NULL,
	engine_version   TEXT NOT NULL,
	remote           INTEGER NOT NULL,     -- 1: a remoting session (ServerRemoteHost or wsmprovhost.exe)
	start_event_id   INTEGER NOT NULL REFERENCES events(id),
	end_event_id     INTEGER REFERENCES events(id)
)`

// Session is one PowerShell engine session.
type Session struct {
	Host, HostID, HostName, HostApplication, EngineVersion string
	Start, End                                             time.Time
	Remote                                                 bool
	StartEventID, EndEventID                               int64
}

// RemoteSession reports whether an engine with the given HostName and
// HostApplication served a remoting session rather than a local one.
func RemoteSession(hostName, hostApplication string) bool {
	return strings.EqualFold(hostName, "ServerRemoteHost") || strings.Contains(strings.ToLower(hostApplication), "wsmprovhost")
}

// BuildPowerShellSessions pairs the 400 and 403 events of each engine by
// host and HostId and writes them to powershell_sessions, replacing what
// was there.
func BuildPowerShellSessions(ctx context.Context, db *sql.DB) error {
	if _, err := db.ExecContext(ctx, sessionsSchema); err != nil {
		return err
	}
	rows, err := db.QueryContext(ctx, `SELECT id, host, ts, event_id, data FROM events
		WHERE source='evtx' AND provider=? AND event_id IN (400, 403) ORDER BY id`, providerClassicPS)
	if err != nil {
		return err
	}
	type key struct{ host, id string }
	open := map[key]*Session{}
	var sessions []*Session
	for rows.Next() {
		var id int64
		var host, ts, data string
		var eventID int
		if err := rows.Scan(&id, &host, &ts, &eventID, &data); err != nil {
			rows.Close()
			return err
		}
		var f map[string]any
		json.Unmarshal([]byte(data), &f)
		t, _ := ParseTime(ts)
		k := key{host, str(f["HostId"])}
		if k.id == "" {
			continue
		}
		if eventID == 400 {
			s := &Session{Host: host, HostID: k.id, HostName: str(f["HostName"]), HostApplication: str(f["HostApplication"]),
				EngineVersion: str(f["EngineVersion"]), Start: t, StartEventID: id}
			s.Remote = RemoteSession(s.HostName, s.HostApplication)
			open[k] = s
			sessions = append(sessions, s)
		} else if s := open[k]; s != nil && s.EndEventID == 0 && !t.Before(s.Start) {
			s.End, s.EndEventID = t, id
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	return writeSessions(ctx, db, sessions)
}

func writeSessions(ctx context.Context, db *sql.DB, sessions []*Session) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.Exec(`DELETE FROM powershell_sessions`); err != nil {
		return err
	}
	stmt, err := tx.Prepare(`INSERT INTO powershell_sessions (host, host_id, start_ts, end_ts, duration_ms, host_name,
		host_application, engine_version, remote, start_event_id, end_event_id) VALUES (?,?,?,?,?,?,?,?,?,?,?)`)
	if err != nil {
		return err
	}
	defer stmt.Close()
	for _, s := range sessions {
		end, duration := "", int64(-1)
		var endID any
		if s.EndEventID != 0 {
			end, duration, endID = FormatTime(s.End), s.End.Sub(s.Start).Milliseconds(), s.EndEventID
		}
		remote := 0
		if s.Remote {
			remote = 1
		}
		if _, err := stmt.Exec(s.Host, s.HostID, FormatTime(s.Start), end, duration, s.HostName, s.HostApplication,
			s.EngineVersion, remote, s.StartEventID, endID); err != nil {
			return err
		}
	}
	return tx.Commit()
}
