package sigma

import (
	"fmt"
	"syscall"
	"testing"
	"time"
)

// cpuSeconds is the user plus system CPU time this process has used.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// synthProcessEvents are Sysmon process starts of the kind that fill real
// logs: system binaries, Temp paths, cmd and PowerShell command lines.
func synthProcessEvents(n int) []Fields {
	images := []string{`C:\Windows\System32\svchost.exe`, `C:\Windows\System32\conhost.exe`, `C:\Program Files\App\app.exe`,
		`C:\Windows\System32\cmd.exe`, `C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe`, `C:\Windows\System32\rundll32.exe`}
	out := make([]Fields, n)
	for i := range out {
		img := images[i%len(images)]
		f := ev("Image", img, "CommandLine", fmt.Sprintf(`"%s" /c echo %d > C:\Users\u\AppData\Local\Temp\o%d.txt`, img, i, i%97),
			"ParentImage", `C:\Windows\explorer.exe`, "ParentCommandLine", `C:\Windows\Explorer.EXE`, "User", `CORP\u`,
			"IntegrityLevel", "Medium", "Hashes", "SHA256=0123456789ABCDEF", "OriginalFileName", "Cmd.Exe", "CurrentDirectory", `C:\Users\u\`)
		f.SystemFields(1, chSysmon, "Microsoft-Windows-Sysmon", "h", 4, int64(i))
		out[i] = f
	}
	return out
}

// BenchmarkSigmaMatchProcessStarts is the engine alone on one goroutine
// over synthetic Sysmon process starts, every shared Windows rule loaded.
func BenchmarkSigmaMatchProcessStarts(b *testing.B) {
	c := Load(windowsRulePaths(b), LoadOptions{})
	rs := NewRuleSet(c.Rules)
	events := synthProcessEvents(6000)
	hits := 0
	b.ResetTimer()
	cpu0 := cpuSeconds()
	for b.Loop() {
		for _, f := range events {
			rs.Match(chSysmon, 1, f, func(*Rule, Fields) { hits++ })
		}
	}
	b.ReportMetric(float64(len(events)*b.N)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(len(events)*b.N)/(cpuSeconds()-cpu0), "events/cpu-s")
	b.ReportMetric(float64(hits)/float64(b.N*len(events)), "hits/event")
}
