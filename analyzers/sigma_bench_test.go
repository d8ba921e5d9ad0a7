package analyzers

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"triage/analyzers/sigma"
	"triage/internal/testcorpus"
	"triage/timeline"
)

var sigmaWindowsDirs = []string{"rules/windows", "rules-emerging-threats", "rules-threat-hunting/windows", "rules-placeholder/windows"}

const sigmaCorpus = "../../shared/corpus/sigma"

func sigmaCorpusPaths(tb testing.TB) []string {
	var paths []string
	for _, d := range sigmaWindowsDirs {
		paths = append(paths, testcorpus.Dir(tb, "sigma", filepath.FromSlash(d)))
	}
	return paths
}

// BenchmarkSigmaLoad is reading and compiling every shared Windows rule.
func BenchmarkSigmaLoad(b *testing.B) {
	paths := sigmaCorpusPaths(b)
	for b.Loop() {
		c := sigma.Load(paths, sigma.LoadOptions{})
		if len(c.Rules) == 0 {
			b.Fatal("no rules")
		}
	}
}

// BenchmarkSigmaTimelineDB evaluates every shared Windows rule over the
// timeline named by $TRIAGE_SIGMA_DB (e.g. a triage run's timeline.db
// of the corpus KAPE host), as the analyzer streams it in a run: on
// connections of its own, a matched record's other columns read by id.
func BenchmarkSigmaTimelineDB(b *testing.B) {
	path := os.Getenv("TRIAGE_SIGMA_DB")
	if path == "" {
		b.Skip("set TRIAGE_SIGMA_DB to a timeline.db")
	}
	db, err := timeline.OpenPass(path)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	rules := NewSigmaRules(nil, sigma.Load(sigmaCorpusPaths(b), sigma.LoadOptions{}), sigma.Selection{})
	var events int
	db.QueryRow(`SELECT count(*) FROM events WHERE source='evtx'`).Scan(&events)
	b.ResetTimer()
	hits := 0
	for b.Loop() {
		if err := scanSigmaEvents(context.Background(), sigmaSource{db: db, byID: true}, rules.Set, noFields, func(*Event, sigmaHit) { hits++ }); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(events)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkSigmaMillion streams a synthetic timeline of 1,000,000 event
// log records through every shared Windows rule, as the analyzer does
// (SQLite rows, decoding, matching; no findings written): Sysmon process
// starts, file and registry events, Security 4688 and logons, PowerShell
// 4104 and records of a channel no rule reads. events/cpu-s counts the
// CPU of both goroutines, so it is the rate per core.
func BenchmarkSigmaMillion(b *testing.B) {
	images := []string{`C:\Windows\System32\svchost.exe`, `C:\Windows\System32\conhost.exe`, `C:\Program Files\App\app.exe`,
		`C:\Windows\System32\cmd.exe`, `C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe`, `C:\Windows\System32\rundll32.exe`}
	const sysmon = "Microsoft-Windows-Sysmon/Operational"
	const n = 1_000_000
	db := syntheticTimeline(b, n, func(i int, e *timeline.Event) {
		img := images[i%len(images)]
		switch i % 10 {
		case 0, 1, 2:
			e.EventID, e.Channel, e.Provider = 1, sysmon, "Microsoft-Windows-Sysmon"
			e.Data = map[string]any{"Image": img, "CommandLine": fmt.Sprintf(`"%s" /c echo %d > C:\Users\u\AppData\Local\Temp\o%d.txt`, img, i, i%97),
				"ParentImage": `C:\Windows\explorer.exe`, "ParentCommandLine": `C:\Windows\Explorer.EXE`, "User": `CORP\u`,
				"IntegrityLevel": "Medium", "Hashes": "SHA256=0123456789ABCDEF", "OriginalFileName": "Cmd.Exe", "CurrentDirectory": `C:\Users\u\`}
		case 3:
			e.EventID, e.Channel, e.Provider = 4688, "Security", "Microsoft-Windows-Security-Auditing"
			e.Data = map[string]any{"NewProcessName": img, "CommandLine": fmt.Sprintf("%s -k netsvcs %d", img, i), "ParentProcessName": `C:\Windows\System32\services.exe`,
				"NewProcessId": "0x1a2c", "ProcessId": "0x2f0", "SubjectUserSid": "S-1-5-18", "SubjectUserName": "HOST$", "MandatoryLabel": "S-1-16-16384"}
		case 4:
			e.EventID, e.Channel, e.Provider = 4624, "Security", "Microsoft-Windows-Security-Auditing"
			e.Data = map[string]any{"TargetUserName": fmt.Sprintf("user%d", i%50), "LogonType": "3", "IpAddress": "10.0.0.5", "WorkstationName": "WS1", "AuthenticationPackageName": "NTLM"}
		case 5:
			e.EventID, e.Channel, e.Provider = 4104, "Microsoft-Windows-PowerShell/Operational", "Microsoft-Windows-PowerShell"
			e.Data = map[string]any{"ScriptBlockText": "Get-ChildItem -Path $env:TEMP | Sort-Object Length | Select-Object -First 10", "MessageNumber": "1", "MessageTotal": "1", "ScriptBlockId": fmt.Sprint(i)}
		case 6:
			e.EventID, e.Channel, e.Provider = 11, sysmon, "Microsoft-Windows-Sysmon"
			e.Data = map[string]any{"Image": img, "TargetFilename": fmt.Sprintf(`C:\Users\u\AppData\Local\Temp\f%d.tmp`, i)}
		case 7:
			e.EventID, e.Channel, e.Provider = 13, sysmon, "Microsoft-Windows-Sysmon"
			e.Data = map[string]any{"Image": img, "TargetObject": `HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Explorer\x`, "Details": "DWORD (0x00000001)", "EventType": "SetValue"}
		default:
			e.EventID, e.Channel, e.Provider = 2006, "Microsoft-Windows-Store/Operational", "Microsoft-Windows-Store"
			e.Data = map[string]any{"Message": "store update checked"}
		}
	})
	defer db.Close()
	rules := NewSigmaRules(nil, sigma.Load(sigmaCorpusPaths(b), sigma.LoadOptions{}), sigma.Selection{})
	b.ResetTimer()
	cpu0 := cpuSeconds()
	hits := 0
	for b.Loop() {
		if err := scanSigmaEvents(context.Background(), sigmaSource{db: db}, rules.Set, noFields, func(*Event, sigmaHit) { hits++ }); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(n*b.N)/(cpuSeconds()-cpu0), "events/cpu-s")
	b.ReportMetric(float64(hits)/float64(b.N), "hits/op")
	b.ReportMetric(float64(len(rules.Selected)), "rules")
}

func noFields(*sigma.Rule) bool { return false }

// BenchmarkSigmaRulesTable is recording every shared Windows rule document
// in a fresh timeline's sigma_rules and sigma_ruleset, as a run does once:
// the record list built and the rows inserted. The rules are loaded once;
// each op gets SigmaRules of its own, so nothing computed is kept.
func BenchmarkSigmaRulesTable(b *testing.B) {
	loaded := NewSigmaRules(sigmaCorpusPaths(b), sigma.Load(sigmaCorpusPaths(b), sigma.LoadOptions{}), sigma.Selection{})
	dir := b.TempDir()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		db, err := timeline.Create(filepath.Join(dir, fmt.Sprintf("t%d.db", i)))
		if err != nil {
			b.Fatal(err)
		}
		rules := &SigmaRules{Set: loaded.Set, Collection: loaded.Collection, Selected: loaded.Selected, Dropped: loaded.Dropped, Paths: loaded.Paths}
		b.StartTimer()
		if err := writeSigmaRules(context.Background(), db, rules); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		db.Close()
		os.Remove(filepath.Join(dir, fmt.Sprintf("t%d.db", i)))
		b.StartTimer()
	}
}
