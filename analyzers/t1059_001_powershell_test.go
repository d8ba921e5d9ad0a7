package analyzers

import "testing"

// warned is a 4104 script block that Windows logged at Warning level.
func warned(id, path, text string) ev {
	return ev{provider: "Microsoft-Windows-PowerShell", eventID: 4104, level: 3, data: map[string]any{"ScriptBlockId": id,
		"MessageNumber": "1", "MessageTotal": "1", "Path": path, "ScriptBlockText": text}}
}

// prefetchWith is a prefetch run of exe whose file list names files.
func prefetchWith(exe string, files ...string) ev {
	e := wshPrefetch(exe, files...)
	return e
}

func TestPowerShellFalsePositives(t *testing.T) {
	const sma = `\VOLUME{1}\WINDOWS\ASSEMBLY\GAC_MSIL\SYSTEM.MANAGEMENT.AUTOMATION\V4.0_3.0.0.0__31BF3856AD364E35\SYSTEM.MANAGEMENT.AUTOMATION.DLL`
	runTable(t, []tableCase{
		{"4104 warning from a user-writable folder", []ev{warned("w1", `C:\Users\bob\AppData\Local\Temp\x.ps1`, "Add-Type -TypeDefinition $src")},
			"T1059.001", "medium", `Script block Windows logged as suspicious (4104 Warning): C:\Users\bob\AppData\Local\Temp\x.ps1`},
		{"4104 warning of chocolatey", []ev{warned("w2", `C:\ProgramData\chocolatey\helpers\chocolateyInstaller.psm1`, "[System.Reflection.Assembly]::Load($bytes)")},
			"T1059.001", "!low", ""},
		{"4104 warning of posh-git", []ev{warned("w3", `C:\Users\bob\Documents\WindowsPowerShell\Modules\posh-git\1.1.0\posh-git.psm1`, "Add-Type @'\npublic class X {}\n'@")},
			"T1059.001", "!low", ""},
		{"4104 warning of a CDXML module", []ev{warned("w4", "", "$script:ClassName = 'ROOT/Microsoft/Windows/Storage/MSFT_Disk'\n$__cmdletization_objectModelWrapper = Microsoft.PowerShell.Cmdletization.ObjectModelWrapper")},
			"T1059.001", "!low", ""},
		{"4104 warning of a troubleshooting pack", []ev{warned("w5", `C:\Windows\diagnostics\system\Networking\DiagPackage.ps1`, "Import-LocalizedData; [Reflection.Assembly]::LoadWithPartialName('x')")},
			"T1059.001", "!low", ""},
		{"troubleshooting pack writing a minidump is medium at most", []ev{{provider: "Microsoft-Windows-PowerShell", eventID: 4104, level: 5, data: map[string]any{
			"ScriptBlockId": "v1", "MessageNumber": "1", "MessageTotal": "1", "Path": `C:\Windows\diagnostics\system\AERO\CL_Utility.ps1`,
			"ScriptBlockText": "[DllImport(\"dbghelp.dll\")] static extern bool MiniDumpWriteDump(IntPtr h, int pid, IntPtr f, int t, IntPtr e, IntPtr u, IntPtr c);"}}},
			"T1059.001", "!high", ""},
		{"the same text from Temp is high", []ev{{provider: "Microsoft-Windows-PowerShell", eventID: 4104, level: 5, data: map[string]any{
			"ScriptBlockId": "v2", "MessageNumber": "1", "MessageTotal": "1", "Path": `C:\Users\bob\AppData\Local\Temp\d.ps1`,
			"ScriptBlockText": "[DllImport(\"dbghelp.dll\")] static extern bool MiniDumpWriteDump(IntPtr h, int pid, IntPtr f, int t, IntPtr e, IntPtr u, IntPtr c);"}}},
			"T1059.001", "high", `PowerShell script block: credential-theft (C:\Users\bob\AppData\Local\Temp\d.ps1)`},
		{"sdiagnhost prefetch names the engine", []ev{prefetchWith("SDIAGNHOST.EXE", sma)}, "T1059.001", "", ""},
		{"csc prefetch names the engine", []ev{prefetchWith("CSC.EXE", sma)}, "T1059.001", "", ""},
		{"another program's prefetch names the engine", []ev{prefetchWith("EVIL.EXE", sma)},
			"T1059.001", "medium", "Unmanaged PowerShell: EVIL.EXE loaded System.Management.Automation (prefetch)"},
		{"troubleshooting host loads the engine", []ev{{provider: "Microsoft-Windows-Sysmon", eventID: 7, process: `C:\Windows\System32\sdiagnhost.exe`,
			data: map[string]any{"ImageLoaded": `C:\Windows\assembly\NativeImages_v4.0.30319_64\System.Management.Automation.ni.dll`}}}, "T1059.001", "", ""},
	})
}
