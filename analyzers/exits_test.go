package analyzers

import (
	"context"
	"strings"
	"testing"
	"time"
)

// security4689 is the exit of a process with the given id (hex, as 4689
// writes it).
func security4689(image, pid, ts string) ev {
	return ev{provider: "Microsoft-Windows-Security-Auditing", eventID: 4689, process: image, ts: ts,
		data: map[string]any{"ProcessId": pid, "Status": "0x0", "ProcessName": image}}
}

func withData(e ev, k, v string) ev {
	m := map[string]any{}
	for k, v := range e.data {
		m[k] = v
	}
	m[k] = v
	e.data = m
	return e
}

// TestShellExitCitedOnItsStart: the 4689 of a cmd.exe start is cited on the
// start's findings with how long the shell ran; exits of other processes,
// and an exit before the start, are not.
func TestShellExitCitedOnItsStart(t *testing.T) {
	lsass := `C:\Windows\System32\lsass.exe`
	events := []ev{
		security4689(cmd, "0x1a2c", "2024-03-05T09:59:00Z"), // id 1: the id's previous owner, before the start
		atTime(withData(security4688(cmd, lsass, `cmd.exe /c whoami`), "NewProcessId", "0x1a2c"), "2024-03-05T10:00:00Z"),
		atTime(withData(sysmon1(cmd, lsass, `cmd.exe /c whoami`), "ProcessId", "6700"), "2024-03-05T10:00:00.020Z"),
		security4689(cmd, "0x0bbb", "2024-03-05T10:00:02Z"),   // id 4: another shell
		security4689(cmd, "0x1a2c", "2024-03-05T10:00:04.5Z"), // id 5: this one's exit
		security4689(cmd, "0x1a2c", "2024-03-05T10:09:00Z"),   // id 6: a later owner of the id
	}
	db := newTimeline(t, events)
	if _, err := Run(context.Background(), db, Options{}); err != nil {
		t.Fatal(err)
	}
	for _, title := range []string{"cmd.exe started by lsass.exe (system process)", "cmd.exe ran 1 command with /c, /k or a batch file on 2024-03-05, started by lsass.exe"} {
		var rule string
		db.QueryRow(`SELECT rule FROM findings WHERE title LIKE ?`, title).Scan(&rule)
		if rule == "" {
			t.Errorf("no finding %q", title)
			continue
		}
		if !strings.Contains(rule, "exited 5s after it started") && !strings.Contains(rule, "it ran 5s") {
			t.Errorf("%q: rule does not say how long the shell ran: %s", title, rule)
		}
		ids := queryStrings(t, db, `SELECT CAST(event_id AS TEXT) FROM finding_evidence WHERE finding_id = (SELECT id FROM findings WHERE title LIKE '`+title+`') ORDER BY event_id`)
		if strings.Join(ids, ",") != "2,3,5" {
			t.Errorf("%q cites events %v, want the start's two records and its exit (2,3,5)", title, ids)
		}
	}
}

// TestPairExits: the nearest exit after a start pairs with it; a later
// start reusing the id takes the exit after it; another host's exit, or an
// exit of another program, does not pair.
func TestPairExits(t *testing.T) {
	at := func(s string) time.Time { ts, _ := time.Parse(time.RFC3339Nano, s); return ts }
	start := func(id int64, host, pid, ts string) Event {
		return Event{ID: id, Host: host, Source: "evtx", Channel: "Security", EventID: 4688, Provider: "Microsoft-Windows-Security-Auditing",
			Process: cmd, imageName: "cmd.exe", TS: at(ts), data: `{"NewProcessId":"` + pid + `"}`}
	}
	exit := func(id int64, host, image, pid, ts string) Event {
		return Event{ID: id, Host: host, Source: "evtx", Channel: "Security", EventID: 4689, Provider: "Microsoft-Windows-Security-Auditing",
			Process: image, imageName: base(image), TS: at(ts), data: `{"ProcessId":"` + pid + `"}`}
	}
	starts := []Event{
		start(1, "a", "0x10", "2024-03-05T10:00:00Z"),
		start(2, "a", "0x10", "2024-03-05T10:05:00Z"), // reuses the id after the first exited
		start(3, "b", "0x20", "2024-03-05T10:00:00Z"),
		start(4, "a", "0x30", "2024-03-05T10:00:00Z"),
	}
	exits := []Event{
		exit(11, "a", cmd, "0x10", "2024-03-05T10:01:00Z"),
		exit(12, "a", cmd, "0x10", "2024-03-05T10:06:00Z"),
		exit(13, "a", cmd, "0x20", "2024-03-05T10:01:00Z"),                               // host a, not b
		exit(14, "a", `C:\Windows\System32\conhost.exe`, "0x30", "2024-03-05T10:01:00Z"), // another program
	}
	var keyedStarts []keyedStart
	for i := range starts {
		if s, ok := keyStart(&starts[i], "cmd.exe"); ok {
			keyedStarts = append(keyedStarts, s)
		}
	}
	var keyedExits []keyedExit
	for i := range exits {
		if x, ok := keyExit(&exits[i], "cmd.exe"); ok {
			keyedExits = append(keyedExits, x)
		}
	}
	got := pairExits(keyedStarts, keyedExits)
	want := map[int64]int64{1: 11, 2: 12}
	if len(got) != len(want) {
		t.Errorf("pairs %v, want %v", got, want)
	}
	for s, x := range want {
		if got[s].exit.id != x || got[s].ran != time.Minute {
			t.Errorf("start %d: paired %+v, want exit %d a minute later", s, got[s], x)
		}
	}
}
