package export

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"triage/timeline"
)

var (
	millionOnce sync.Once
	millionPath string
	millionErr  error
)

// millionEvents builds, once per test binary, a timeline of 1,000,000
// events shaped like a host's: process starts with command lines, script
// blocks, logons and prefetch runs, each with its event data.
func millionEvents(b *testing.B) *sql.DB {
	millionOnce.Do(func() {
		dir, err := tempDir()
		if err != nil {
			millionErr = err
			return
		}
		millionPath = filepath.Join(dir, "timeline.db")
		millionErr = writeMillion(millionPath)
	})
	if millionErr != nil {
		b.Fatal(millionErr)
	}
	db, err := timeline.OpenReadOnly(millionPath)
	if err != nil {
		b.Fatal(err)
	}
	return db
}

func writeMillion(path string) error {
	const n = 1_000_000
	db, err := timeline.Create(path)
	if err != nil {
		return err
	}
	defer db.Close()
	w, err := timeline.NewWriter(db)
	if err != nil {
		return err
	}
	a := &timeline.Artifact{Host: "WS01", EvidenceRoot: "r", Path: "C/Windows/System32/winevt/Logs/Security.evtx",
		Kind: "evtx", SHA256: "97501e69a3c5c9f8e3c24954fc5d88b8cd0fb9517a98d0f1eaa61d51dafbc90b", MD5: "cd", Status: "ok"}
	if _, err := w.AddArtifact(a); err != nil {
		return err
	}
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < n; i++ {
		e := timeline.Event{TS: start.Add(time.Duration(i) * 10 * time.Millisecond), Host: "WS01", ArtifactID: a.ID,
			RecordID: int64(i), Source: "evtx", Channel: "Security", Computer: "ws01.corp.example", Summary: "event"}
		switch i % 4 {
		case 0, 1:
			e.EventID, e.Provider, e.User = 4688, "Microsoft-Windows-Security-Auditing", `CORP\alice`
			e.Process, e.ParentProcess = `C:\Windows\System32\cmd.exe`, `C:\Windows\explorer.exe`
			e.CommandLine = fmt.Sprintf(`cmd.exe /c "echo %d > C:\Users\alice\AppData\Local\Temp\out.txt"`, i)
			e.Summary = "cmd.exe started by explorer.exe"
			e.Data = map[string]any{"NewProcessName": e.Process, "ParentProcessName": e.ParentProcess, "CommandLine": e.CommandLine,
				"SubjectUserName": "alice", "SubjectDomainName": "CORP", "NewProcessId": "0x1a2c", "TokenElevationType": "%%1936"}
		case 2:
			e.EventID, e.Provider, e.Channel = 4104, "Microsoft-Windows-PowerShell", "Microsoft-Windows-PowerShell/Operational"
			e.ScriptBlockID = "7e414308-a3fc-4fb0-87b2-5eb3f5f5a46b"
			e.Data = map[string]any{"ScriptBlockText": "Get-ChildItem -Path C:\\Users | Sort-Object Length | Select-Object -First 10",
				"MessageNumber": "1", "MessageTotal": "1", "ScriptBlockId": e.ScriptBlockID, "Path": ""}
		default:
			e.EventID, e.Provider = 4624, "Microsoft-Windows-Security-Auditing"
			e.Data = map[string]any{"TargetUserName": "alice", "LogonType": "2", "IpAddress": "-", "WorkstationName": "WS01"}
		}
		if err := w.AddEvent(&e); err != nil {
			return err
		}
	}
	return w.Close()
}

func BenchmarkExportMillion(b *testing.B) {
	db := millionEvents(b)
	defer db.Close()
	benchmarkFormats(b, db)
}

// benchmarkFormats exports db in every format, b.N times each.
func benchmarkFormats(b *testing.B, db *sql.DB) {
	for _, f := range Formats {
		b.Run(string(f), func(b *testing.B) {
			o := Options{Format: f}
			if f == ECS {
				o.BulkIndex = "triage"
			}
			var cw countingWriter
			var events int64
			b.ResetTimer()
			cpuBefore := cpuSeconds()
			for i := 0; i < b.N; i++ {
				st, err := Export(context.Background(), db, &cw, o)
				if err != nil {
					b.Fatal(err)
				}
				events += st.Events
			}
			// The machine is shared: events per CPU second is the figure
			// that does not depend on the load, events/s the one a user sees.
			b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
			b.ReportMetric(float64(events)/(cpuSeconds()-cpuBefore), "events/cpu-s")
			b.ReportMetric(float64(cw.n)/float64(b.N)/float64(events/int64(b.N)), "B/event")
		})
	}
}

type countingWriter struct{ n int64 }

func (c *countingWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

var _ io.Writer = (*countingWriter)(nil)

// tempDir is a folder for the benchmark's timeline that outlives one
// benchmark function, removed when the test binary ends (TestMain).
func tempDir() (string, error) {
	benchDirOnce.Do(func() { benchDir, benchDirErr = os.MkdirTemp("", "triage-export-bench-") })
	return benchDir, benchDirErr
}

var (
	benchDirOnce sync.Once
	benchDir     string
	benchDirErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if benchDir != "" {
		os.RemoveAll(benchDir)
	}
	os.Exit(code)
}

// cpuSeconds is the user plus system CPU time this process has used.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// BenchmarkExportCase exports the timeline named by $TRIAGE_EXPORT_CASE
// (a case's timeline.db, such as the 30-host case of the README), for
// profiles on real events, whose data is larger and more varied than the
// synthetic million's.
func BenchmarkExportCase(b *testing.B) {
	path := os.Getenv("TRIAGE_EXPORT_CASE")
	if path == "" {
		b.Skip("TRIAGE_EXPORT_CASE names no timeline.db")
	}
	db, err := timeline.OpenReadOnly(path)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	benchmarkFormats(b, db)
}
