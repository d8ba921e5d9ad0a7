package timeline

import (
	"context"
	"testing"
	"time"
)

func TestPowerShellSessions(t *testing.T) {
	a := &Artifact{Host: "h", EvidenceRoot: "r", Path: "p", Kind: "evtx", SHA256: "00", MD5: "00"}
	db, w := newTestWriter(t, a)
	t0 := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	add := func(id int, at time.Duration, hostID, hostName string) {
		w.AddEvent(&Event{TS: t0.Add(at), Host: "h", ArtifactID: a.ID, RecordID: int64(id), Source: "evtx", EventID: id,
			Provider: ProviderClassicPS, Summary: "s", Data: map[string]any{"HostId": hostID, "HostName": hostName,
				"HostApplication": "powershell.exe", "EngineVersion": "5.1"}})
	}
	add(400, 0, "a", "ConsoleHost")
	add(400, time.Second, "b", "ServerRemoteHost")
	add(403, 90*time.Second, "a", "ConsoleHost")
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	for range 2 { // a rebuild replaces the table
		if err := BuildPowerShellSessions(context.Background(), db); err != nil {
			t.Fatal(err)
		}
	}
	rows, err := db.Query(`SELECT host_id, duration_ms, remote, end_ts FROM powershell_sessions ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var id, end string
		var ms int64
		var remote int
		rows.Scan(&id, &ms, &remote, &end)
		got = append(got, id+" "+time.Duration(ms*int64(time.Millisecond)).String()+" "+map[int]string{0: "local", 1: "remote"}[remote]+" "+map[bool]string{true: "open", false: "closed"}[end == ""])
	}
	want := []string{"a 1m30s local closed", "b -1ms remote open"}
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("sessions %q, want %q", got, want)
	}
}
