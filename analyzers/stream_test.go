package analyzers

import (
	"context"
	"fmt"
	"iter"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"triage/timeline"
)

// TestStreamPathsAgree runs the analyzers over one timeline through each
// way a stream can read it (a cursor per image path, the event id index
// filtered by a list of paths, every event filtered in Go, chunks of one
// row) and wants the same findings, evidence and incidents from each.
func TestStreamPathsAgree(t *testing.T) {
	const (
		wscript = `C:\Windows\System32\wscript.exe`
		wmic    = `C:\Windows\System32\wbem\WMIC.exe`
		word    = `C:\Program Files\Microsoft Office\WINWORD.EXE`
	)
	var events []ev
	for i := 0; i < 3; i++ {
		events = append(events,
			sysmon1(ps, word, `powershell -nop -w hidden -enc SQBFAFgA`),
			security4688(ps, word, `powershell -nop -w hidden -enc SQBFAFgA`),
			security4688(cmd, `C:\Windows\System32\wsmprovhost.exe`, `cmd /c whoami & net user & ipconfig /all`),
			security4688(`C:\Windows\System32\net.exe`, cmd, `net user /domain http://x/a`),
			security4688(cmd, expl, fmt.Sprintf(`cmd /c echo %d>>C:\Users\Public\a.b64`, i)),
			security4688(wscript, expl, `wscript C:\Users\Public\x.vbs`),
			security4688(wmic, cmd, `wmic process call create "cmd.exe /c calc"`),
			security4688(cmd, `C:\Windows\System32\wbem\WmiPrvSE.exe`, `cmd.exe /c calc`),
			security4688(`C:\Windows\System32\schtasks.exe`, cmd, `schtasks /create /tn x /tr "cmd /c c:\x.bat"`),
			wshPrefetch("WSCRIPT.EXE", `\VOLUME{1}\WINDOWS\SYSTEM32\VBSCRIPT.DLL`, `\VOLUME{1}\USERS\PUBLIC\X.VBS`),
			ev{source: "prefetch", process: `\VOLUME{1}\WINDOWS\SYSTEM32\CMD.EXE`, data: map[string]any{"executable": "CMD.EXE"}},
			ev{provider: "PowerShell", eventID: 400, data: map[string]any{"HostApplication": "powershell -v 2", "HostName": "ConsoleHost", "HostId": fmt.Sprint(i)}, ts: "2024-03-09T23:30:00Z"},
			ev{provider: "Microsoft-Windows-Sysmon", eventID: 1, process: cmd, parent: expl, cmd: `cmd /c C:\Temp\x.ps1`, ts: "2024-03-09T23:30:00Z"},
		)
	}
	// cmd.exe's baseline of parents, which reads the starts twice:
	// explorer over a month, then a parent rare on the host and new on its
	// last day, and a start without a parent after it.
	for day := 1; day <= 31; day++ {
		e := security4688(cmd, expl, fmt.Sprintf("cmd /c echo day %d", day))
		e.ts = fmt.Sprintf("2024-02-%02dT10:00:00Z", day%29+1)
		events = append(events, e, e)
	}
	rare := security4688(cmd, `C:\Users\Public\rare.exe`, "cmd /c echo rare")
	rare.ts = "2024-03-10T11:00:00Z"
	events = append(events, rare, ev{provider: "Microsoft-Windows-Security-Auditing", eventID: 4688, process: cmd, cmd: "cmd /c echo orphan", ts: "2024-03-10T12:00:00Z"})
	dump := func() string {
		db := newTimeline(t, events)
		if _, err := Run(context.Background(), db, Options{}); err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		for _, q := range []string{`SELECT analyzer || title || rule || matched || features || coalesce(incident_id, 0) FROM findings ORDER BY id`,
			`SELECT finding_id || ':' || event_id FROM finding_evidence ORDER BY finding_id, event_id`, `SELECT title || links FROM incidents ORDER BY id`} {
			for _, s := range queryStrings(t, db, q) {
				b.WriteString(s + "\n")
			}
		}
		return b.String()
	}
	want := dump()
	if strings.Count(want, "\n") < 20 {
		t.Fatalf("too few findings to compare:\n%s", want)
	}
	for _, title := range []string{"a rare parent on this host", "a parent new on the host's last day"} {
		if !strings.Contains(want, title) {
			t.Errorf("no cmd.exe finding of %q to compare", title)
		}
	}
	defer func(c, m, p, x int) { chunkRows, minChunkRows, maxPathCursors, maxPaths = c, m, p, x }(chunkRows, minChunkRows, maxPathCursors, maxPaths)
	for _, mode := range []struct {
		name                       string
		chunk, min, cursors, paths int
	}{
		{"the event id index with a list of paths", 8192, 256, 0, 50_000},
		{"every event filtered in Go", 8192, 256, 32, 0},
		{"chunks of one row", 1, 1, 32, 50_000},
	} {
		chunkRows, minChunkRows, maxPathCursors, maxPaths = mode.chunk, mode.min, mode.cursors, mode.paths
		if got := dump(); got != want {
			t.Errorf("%s: findings differ\ngot:\n%s\nwant:\n%s", mode.name, got, want)
		}
	}
}

// TestOnePass checks that each pass sees every event, in order, as though
// it ranged alone: one that stops early, one that never ranges and one that
// ranges to the end.
func TestOnePass(t *testing.T) {
	events := []Event{{ID: 1}, {ID: 2}, {ID: 3}, {ID: 4}}
	var all, firstTwo []int64
	ran := false
	onePass(pointers(events), func(seq iter.Seq[*Event]) {
		for e := range seq {
			all = append(all, e.ID)
		}
	}, func(seq iter.Seq[*Event]) {
		for e := range seq {
			firstTwo = append(firstTwo, e.ID)
			if len(firstTwo) == 2 {
				break
			}
		}
	}, func(iter.Seq[*Event]) { ran = true })
	if !slices.Equal(all, []int64{1, 2, 3, 4}) || !slices.Equal(firstTwo, []int64{1, 2}) || !ran {
		t.Errorf("passes saw %v, %v, ran %v", all, firstTwo, ran)
	}
	onePass(pointers(events)) // no pass: nothing to do
}

// TestEventQueriesUseTheIndexes runs the analyzers and asks SQLite how it
// would answer each query they read events with: none may read the whole
// events table, nor every event log record through the source alone (a
// condition whose event ids sit only inside an OR did, and on a 1.7 M
// event log read it all for a handful of rows).
func TestEventQueriesUseTheIndexes(t *testing.T) {
	db := syntheticTimeline(t, 2000, mixedEvent)
	defer db.Close()
	seen := map[string]bool{}
	traceQuery = func(q string) { seen[q] = true }
	defer func() { traceQuery = nil }()
	if _, err := Run(context.Background(), db, Options{}); err != nil {
		t.Fatal(err)
	}
	if len(seen) < 10 {
		t.Fatalf("only %d queries seen", len(seen))
	}
	sources := regexp.MustCompile(`source\s*=\s*'(\w+)'`)
	for q := range seen {
		evtxOnly := true
		for _, m := range sources.FindAllStringSubmatch(q, -1) {
			evtxOnly = evtxOnly && m[1] == timeline.SourceEVTX
		}
		rows, err := db.Query(`EXPLAIN QUERY PLAN `+q, make([]any, strings.Count(q, "?"))...)
		if err != nil {
			t.Fatalf("%v: %s", err, q)
		}
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			if strings.HasPrefix(detail, "SCAN events") || evtxOnly && strings.Contains(detail, "events_event_id (source=?)") {
				t.Errorf("%s\nreads too much: %s", strings.Join(strings.Fields(q), " "), detail)
			}
		}
		rows.Close()
	}
}

// TestLikeFoldsAsLowerDoes: x LIKE p, for the lower-case patterns the
// analyzers and the report's charts use, answers as lower(x) LIKE p did,
// on text in any case and past ASCII.
func TestLikeFoldsAsLowerDoes(t *testing.T) {
	db := syntheticTimeline(t, 1, mixedEvent)
	defer db.Close()
	texts := []string{`C:\WINDOWS\System32\CMD.EXE`, `c:\x\PowerShell.exe`, "x\u212Aerberoast.ps1", "İnvoke.PS1", "straße.Vbs",
		`{"ImageLoaded":"C:\\Windows\\System32\\JScript9.DLL"}`, "XP_CMDSHELL", "xp-cmdshell", "System.Management.Automation.dll", ""}
	patterns := []string{`%cmd.exe`, `%\powershell.exe`, `%.ps1%`, `%.vbs%`, `%xp_cmdshell%`, `%script%.dll%`, `%system.management.automation%`, `%kerberoast%`}
	for _, x := range texts {
		for _, p := range patterns {
			var plain, lowered bool
			if err := db.QueryRow(`SELECT ? LIKE ?, lower(?) LIKE ?`, x, p, x, p).Scan(&plain, &lowered); err != nil {
				t.Fatal(err)
			}
			if plain != lowered {
				t.Errorf("%q LIKE %q is %v, lower() of it %v", x, p, plain, lowered)
			}
		}
	}
}

// TestKindsAreStreamed: records the analyzers read by kind, such as the
// image loads of PowerShell (a hundred Sysmon 7 for each start), are read
// a chunk at a time, so that the analyzers' heap does not grow with them.
// Held whole, the 100,000 loads here took the peak past 200 MiB.
func TestKindsAreStreamed(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 100,000 events")
	}
	db := syntheticTimeline(t, 100_000, func(i int, e *timeline.Event) {
		e.EventID, e.Provider = 7, timeline.ProviderSysmon
		e.Process = `C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe`
		e.Data = map[string]any{"ImageLoaded": fmt.Sprintf(`C:\Windows\assembly\GAC_MSIL\m%d\%s.dll`, i, strings.Repeat("x", 200)),
			"Signed": "true", "Hashes": strings.Repeat("A", 128)}
	})
	defer db.Close()
	var err error
	if p := peakHeap(func() { _, err = Run(context.Background(), db, Options{}) }); p > 96<<20 {
		t.Errorf("the analyzers' heap peaked at %d MiB over 100,000 image loads", p>>20)
	}
	if err != nil {
		t.Fatal(err)
	}
}

// peakHeap runs f and returns the most heap in use, sampled every 5 ms.
func peakHeap(f func()) uint64 {
	runtime.GC()
	var peak atomic.Uint64
	stop, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			peak.Store(max(peak.Load(), ms.HeapInuse))
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	f()
	close(stop)
	<-stopped
	return peak.Load()
}
