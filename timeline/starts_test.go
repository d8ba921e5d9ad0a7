package timeline

import (
	"testing"
	"time"
)

func TestStartSet(t *testing.T) {
	at := func(s string) time.Time { ts, _ := time.Parse(time.RFC3339Nano, s); return ts }
	sysmon := RecordKind("evtx", "Microsoft-Windows-Sysmon/Operational", 1)
	security := RecordKind("evtx", "Security", 4688)
	prefetch := RecordKind("prefetch", "", 0)
	type rec struct {
		host, process, kind, ts string
		isNew                   bool
	}
	tests := []struct {
		name    string
		records []rec
	}{
		{"three kinds of record of one start", []rec{
			{"h", `C:\Windows\System32\cmd.exe`, sysmon, "2022-03-10T20:00:00.100Z", true},
			{"h", `C:\Windows\system32\CMD.EXE`, security, "2022-03-10T20:00:00.110Z", false},
			{"h", `\VOLUME{01d834b54842fb73-1a484cb6}\WINDOWS\SYSTEM32\CMD.EXE`, prefetch, "2022-03-10T20:00:00.120Z", false},
		}},
		{"two starts in one log", []rec{
			{"h", "cmd.exe", sysmon, "2022-03-10T20:00:00.100Z", true},
			{"h", "cmd.exe", sysmon, "2022-03-10T20:00:00.200Z", true},
		}},
		{"across a second boundary", []rec{
			{"h", "cmd.exe", sysmon, "2022-03-10T20:00:00.900Z", true},
			{"h", "cmd.exe", prefetch, "2022-03-10T20:00:02.800Z", false},
		}},
		{"too far apart", []rec{
			{"h", "cmd.exe", sysmon, "2022-03-10T20:00:00.000Z", true},
			{"h", "cmd.exe", prefetch, "2022-03-10T20:00:02.100Z", true},
		}},
		{"other program or host", []rec{
			{"h", "cmd.exe", sysmon, "2022-03-10T20:00:00.000Z", true},
			{"h", "powershell.exe", prefetch, "2022-03-10T20:00:00.000Z", true},
			{"g", "cmd.exe", prefetch, "2022-03-10T20:00:00.000Z", true},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s StartSet
			for i, r := range tt.records {
				if got := s.Add(r.host, r.process, r.kind, at(r.ts)); got != r.isNew {
					t.Errorf("record %d: new start = %v, want %v", i, got, r.isNew)
				}
			}
		})
	}
}

// A flood of records in one second stays linear: past maxStartsPerSecond
// records are counted but not kept for matching.
func TestStartSetFlood(t *testing.T) {
	var s StartSet
	ts := time.Date(2022, 3, 10, 20, 0, 0, 0, time.UTC)
	for i := 0; i < 200000; i++ {
		if !s.Add("h", "cmd.exe", "evtx/Sysmon/1", ts) {
			t.Fatal("a record of the same kind matched an earlier one")
		}
	}
	if n := len(s.seen[startKey{"h", "cmd.exe", ts.Unix()}]); n != maxStartsPerSecond {
		t.Errorf("%d records kept, want %d", n, maxStartsPerSecond)
	}
}
