package evtxwrite

import (
	"fmt"
	"io"
	"time"
)

// syntheticStart is the time of the first synthetic event.
var syntheticStart = time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC)

// Synthetic returns the i-th event of an endless, deterministic log for
// benchmarks: a mix of process starts (Security 4688), script block parts
// (4104) and logons (4624) with varying command lines and values, so that
// chunks hold several templates, names and value types as real logs do.
func Synthetic(i int) Event {
	t := syntheticStart.Add(time.Duration(i) * 731 * time.Millisecond)
	ev := Event{Time: t, Computer: "BENCH-01.corp.example.com", ProcessID: 4, ThreadID: uint32(100 + i%50)}
	switch i % 5 {
	case 0, 1, 2:
		ev.Provider, ev.ProviderGUID, ev.Channel = "Microsoft-Windows-Security-Auditing", "{54849625-5478-4994-A5BA-3E3B0328C30D}", "Security"
		ev.EventID, ev.Version, ev.Task, ev.Keywords = 4688, 2, 13312, 0x8020000000000000
		ev.Data = []Field{{"SubjectUserSid", SID(fmt.Sprintf("S-1-5-21-1004336348-1177238915-682003330-%d", 1000+i%40))},
			Str("SubjectUserName", fmt.Sprintf("user%02d", i%40)), Str("SubjectDomainName", "CORP"),
			{"SubjectLogonId", HexInt64(uint64(0x3e7 + i%977))}, {"NewProcessId", HexInt64(uint64(0x1000 + i%60000))},
			Str("NewProcessName", syntheticImages[i%len(syntheticImages)]), Str("TokenElevationType", "%%1938"),
			{"ProcessId", HexInt64(uint64(0x800 + i%3000))},
			Str("CommandLine", fmt.Sprintf(syntheticCommands[i%len(syntheticCommands)], i)),
			Str("ParentProcessName", syntheticImages[(i/7)%len(syntheticImages)]), {"MandatoryLabel", SID("S-1-16-8192")}}
	case 3:
		ev.Provider, ev.ProviderGUID, ev.Channel = "Microsoft-Windows-PowerShell", "{A0C1853B-5C40-4B15-8766-3CF1C58F985A}", "Microsoft-Windows-PowerShell/Operational"
		ev.EventID, ev.Version, ev.Level, ev.Task, ev.Opcode = 4104, 1, 5, 2, 15
		ev.ActivityID = fmt.Sprintf("{%08X-1F3D-4E5A-9B8C-7D6E5F4A3B2C}", i)
		ev.UserID = "S-1-5-21-1004336348-1177238915-682003330-1001"
		ev.Data = []Field{{"MessageNumber", Int32(1)}, {"MessageTotal", Int32(1)},
			Str("ScriptBlockText", fmt.Sprintf("Get-ChildItem -Path C:\\Data\\%d -Recurse | Where-Object { $_.Length -gt %d } | Select-Object FullName", i%100, i)),
			Str("ScriptBlockId", fmt.Sprintf("%08x-2b4d-4e6f-8a9b-0c1d2e3f4a5b", i)), Str("Path", "")}
	default:
		ev.Provider, ev.ProviderGUID, ev.Channel = "Microsoft-Windows-Security-Auditing", "{54849625-5478-4994-A5BA-3E3B0328C30D}", "Security"
		ev.EventID, ev.Version, ev.Task, ev.Keywords = 4624, 2, 12544, 0x8020000000000000
		ev.Data = []Field{{"SubjectUserSid", SID("S-1-5-18")}, Str("TargetUserName", fmt.Sprintf("user%02d", i%40)),
			Str("TargetDomainName", "CORP"), {"TargetLogonId", HexInt64(uint64(0x10000 + i))}, {"LogonType", UInt32(uint32(2 + i%9))},
			{"LogonGuid", GUID(fmt.Sprintf("{%08X-0000-0000-0000-000000000000}", i))}, Str("IpAddress", fmt.Sprintf("10.0.%d.%d", i%200, i%250)),
			{"KeyLength", UInt32(0)}, {"ElevatedToken", Bool(i%2 == 0)}}
	}
	return ev
}

var syntheticImages = []string{`C:\Windows\System32\cmd.exe`, `C:\Windows\System32\svchost.exe`, `C:\Windows\explorer.exe`,
	`C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe`, `C:\Windows\System32\taskhostw.exe`, `C:\Windows\System32\conhost.exe`}

var syntheticCommands = []string{`cmd.exe /c echo job %d`, `svchost.exe -k netsvcs -p -s Schedule %d`,
	`powershell.exe -NoProfile -File C:\Scripts\report-%d.ps1`, `taskhostw.exe USER %d`, `conhost.exe 0xffffffff -ForceV1 %d`}

// WriteSynthetic writes a log of at least size bytes (whole chunks) of
// Synthetic events to w, and returns how many events it holds.
func WriteSynthetic(w io.WriterAt, size int64) (int, error) {
	wr := NewWriter(w)
	n := 0
	for int64(fileHeaderSize)+int64(wr.chunks)*chunkSize < size {
		if err := wr.Add(Synthetic(n)); err != nil {
			return n, err
		}
		n++
	}
	return n, wr.Close()
}
