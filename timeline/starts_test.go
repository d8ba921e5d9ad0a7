package timeline

import (
	"math/rand/v2"
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
			ordered := true
			for i := 1; i < len(tt.records); i++ {
				ordered = ordered && !at(tt.records[i].ts).Before(at(tt.records[i-1].ts))
			}
			for _, inOrder := range []bool{false, true} {
				if inOrder && !ordered {
					continue
				}
				s := StartSet{InTimeOrder: inOrder}
				for i, r := range tt.records {
					if got := s.Add(r.host, r.process, r.kind, at(r.ts)); got != r.isNew {
						t.Errorf("in time order %v, record %d: new start = %v, want %v", inOrder, i, got, r.isNew)
					}
				}
			}
		})
	}
}

// A set fed in time order forgets what lies behind the window and answers
// as one that keeps every start: records of a few programs at gaps under,
// at and over the window and across second boundaries.
func TestStartSetInTimeOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	kinds := []string{"evtx/Sysmon/1", "evtx/Security/4688", "prefetch"}
	gaps := []time.Duration{0, time.Millisecond, 300 * time.Millisecond, 700 * time.Millisecond, 999 * time.Millisecond,
		time.Second, 1500 * time.Millisecond, SameStartWindow - time.Nanosecond, SameStartWindow, SameStartWindow + time.Nanosecond}
	var all, window StartSet
	window.InTimeOrder = true
	ts := time.Date(2022, 3, 10, 20, 0, 0, 0, time.UTC)
	largest, matched := 0, 0
	for i := range 200000 {
		ts = ts.Add(gaps[rng.IntN(len(gaps))] / time.Duration(1+rng.IntN(3)))
		host, process, kind := []string{"h", "g"}[rng.IntN(2)], []string{"cmd.exe", "powershell.exe"}[rng.IntN(2)], kinds[rng.IntN(3)]
		a, w := all.Add(host, process, kind, ts), window.Add(host, process, kind, ts)
		if a != w {
			t.Fatalf("record %d at %s: new start %v keeping every start, %v keeping the window", i, ts, a, w)
		}
		if !a {
			matched++
		}
		largest = max(largest, len(window.seen))
	}
	if largest > 64 || len(all.seen) < 10000 || matched < 1000 {
		t.Errorf("the window held up to %d seconds of starts, the whole set %d; %d records matched", largest, len(all.seen), matched)
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
	if n := s.kept("h", "cmd.exe", ts.Unix()); n != maxStartsPerSecond {
		t.Errorf("%d records kept, want %d", n, maxStartsPerSecond)
	}
}

// kept is how many records of a program in a second the set keeps.
func (s *StartSet) kept(host, image string, second int64) int {
	rs, ok := s.seen[startKey{s.programs[program{host, image}], second}]
	if !ok {
		return 0
	}
	return 1 + len(rs.more)
}
