package demo

import (
	"time"

	"triage/internal/prefetchwrite"
)

// volume is the system volume, as the prefetch files name it.
var volume = prefetchwrite.Volume{Serial: 0x6a2e91c4, Created: time.Date(2025, 9, 18, 11, 2, 37, 145000000, time.UTC)}

var commonDLLs = []string{`\WINDOWS\SYSTEM32\NTDLL.DLL`, `\WINDOWS\SYSTEM32\KERNEL32.DLL`, `\WINDOWS\SYSTEM32\KERNELBASE.DLL`,
	`\WINDOWS\SYSTEM32\LOCALE.NLS`, `\WINDOWS\SYSTEM32\MSVCRT.DLL`, `\WINDOWS\SYSTEM32\ADVAPI32.DLL`, `\WINDOWS\SYSTEM32\SECHOST.DLL`,
	`\WINDOWS\SYSTEM32\RPCRT4.DLL`, `\WINDOWS\SYSTEM32\COMBASE.DLL`, `\WINDOWS\SYSTEM32\UCRTBASE.DLL`}

func pf(exe, path string, runs []time.Time, count uint32, extra ...string) prefetchwrite.File {
	files := append([]string{}, commonDLLs[:2]...)
	files = append(files, path)
	files = append(files, commonDLLs[2:]...)
	return prefetchwrite.File{Executable: exe, Path: path, RunCount: count, LastRuns: runs, Volume: volume,
		Files: append(files, extra...)}
}

// earlier is a run on an earlier day, so that run counts are plausible.
func earlier(days int, hms string) time.Time { return at(hms).AddDate(0, 0, -days) }

func prefetchFiles() []prefetchwrite.File {
	return []prefetchwrite.File{
		pf("CMD.EXE", `\WINDOWS\SYSTEM32\CMD.EXE`,
			[]time.Time{at("22:41:05.120"), at("14:03:14.930"), at("14:02:40.311"), at("09:52:03.000"), earlier(1, "10:12:44.000"), earlier(6, "15:40:02.000")}, 19,
			`\WINDOWS\SYSTEM32\CMDEXT.DLL`, `\PROGRAMDATA\WINUPDATE\UPDATE.BAT`, `\WINDOWS\SYSTEM32\WHOAMI.EXE`, `\WINDOWS\SYSTEM32\NET.EXE`),
		pf("POWERSHELL.EXE", `\WINDOWS\SYSTEM32\WINDOWSPOWERSHELL\V1.0\POWERSHELL.EXE`,
			[]time.Time{at("22:41:05.900"), at("14:20:15.000"), at("14:02:40.402"), at("09:31:10.250"), earlier(1, "09:05:12.000")}, 27,
			`\WINDOWS\MICROSOFT.NET\ASSEMBLY\GAC_MSIL\SYSTEM.MANAGEMENT.AUTOMATION\V4.0_3.0.0.0__31BF3856AD364E35\SYSTEM.MANAGEMENT.AUTOMATION.DLL`,
			`\WINDOWS\SYSTEM32\AMSI.DLL`),
		pf("WINWORD.EXE", `\PROGRAM FILES\MICROSOFT OFFICE\ROOT\OFFICE16\WINWORD.EXE`,
			[]time.Time{at("14:01:58.090"), earlier(1, "11:20:00.000"), earlier(3, "16:02:31.000")}, 41,
			`\PROGRAM FILES\COMMON FILES\MICROSOFT SHARED\VBA\VBA7.1\VBE7.DLL`, `\USERS\ALICE\DOWNLOADS\INVOICE_MARCH.DOCM`),
		pf("WSCRIPT.EXE", `\WINDOWS\SYSTEM32\WSCRIPT.EXE`, []time.Time{at("22:41:08.010"), at("14:03:10.517")}, 2,
			`\WINDOWS\SYSTEM32\VBSCRIPT.DLL`, `\USERS\ALICE\APPDATA\LOCAL\TEMP\SVC.VBS`),
		pf("CSCRIPT.EXE", `\WINDOWS\SYSTEM32\CSCRIPT.EXE`, []time.Time{at("14:03:14.210")}, 1,
			`\WINDOWS\SYSTEM32\JSCRIPT.DLL`, `\USERS\PUBLIC\LIBRARIES\SYNC.JS`),
		pf("SCHTASKS.EXE", `\WINDOWS\SYSTEM32\SCHTASKS.EXE`, []time.Time{at("14:03:09.402")}, 1),
		pf("WHOAMI.EXE", `\WINDOWS\SYSTEM32\WHOAMI.EXE`, []time.Time{at("14:03:15.010")}, 1),
		pf("NET.EXE", `\WINDOWS\SYSTEM32\NET.EXE`, []time.Time{at("14:03:15.380"), earlier(8, "09:01:00.000")}, 4, `\WINDOWS\SYSTEM32\NET1.EXE`),
		pf("EXCEL.EXE", `\PROGRAM FILES\MICROSOFT OFFICE\ROOT\OFFICE16\EXCEL.EXE`, []time.Time{at("09:02:11.000"), earlier(1, "09:10:00.000")}, 63,
			`\USERS\ALICE\DOCUMENTS\REPORTS\Q1.XLSX`),
		pf("OUTLOOK.EXE", `\PROGRAM FILES\MICROSOFT OFFICE\ROOT\OFFICE16\OUTLOOK.EXE`, []time.Time{at("08:51:03.000"), earlier(1, "08:49:00.000")}, 88),
		pf("NOTEPAD.EXE", `\WINDOWS\SYSTEM32\NOTEPAD.EXE`, []time.Time{at("12:10:05.000"), at("09:15:40.000")}, 12, `\USERS\ALICE\DOCUMENTS\TODO.TXT`),
		pf("GPUPDATE.EXE", `\WINDOWS\SYSTEM32\GPUPDATE.EXE`, []time.Time{at("09:44:51.700")}, 3),
		pf("IPCONFIG.EXE", `\WINDOWS\SYSTEM32\IPCONFIG.EXE`, []time.Time{at("09:52:20.000")}, 6),
		pf("PING.EXE", `\WINDOWS\SYSTEM32\PING.EXE`, []time.Time{at("09:52:41.000")}, 9),
		// The toolkit scene. Java, WSL and WMIC were on the host before;
		// the kit's Python, Node and Lua and the AutoIt engine run once.
		pf("JAVA.EXE", `\PROGRAM FILES\JAVA\JRE1.8.0_431\BIN\JAVA.EXE`, []time.Time{at("14:34:52.300"), earlier(1, "10:31:18.000"), earlier(7, "10:02:47.000")}, 14,
			`\PROGRAM FILES\JAVA\JRE1.8.0_431\BIN\SERVER\JVM.DLL`, `\PROGRAM FILES\JAVA\JRE1.8.0_431\LIB\RT.JAR`, `\USERS\PUBLIC\T\TUN.JAR`),
		pf("PYTHON.EXE", `\USERS\PUBLIC\T\PY\PYTHON.EXE`, []time.Time{at("14:36:20.500")}, 1,
			`\USERS\PUBLIC\T\PY\PYTHON311.DLL`, `\USERS\PUBLIC\T\PY\_SOCKET.PYD`, `\USERS\PUBLIC\T\PY\PYTHON311.ZIP`),
		pf("WSL.EXE", `\WINDOWS\SYSTEM32\WSL.EXE`, []time.Time{at("14:38:05.100"), earlier(14, "13:12:09.000")}, 3),
		pf("NODE.EXE", `\USERS\PUBLIC\T\NODE\NODE.EXE`, []time.Time{at("14:40:30.700")}, 1),
		pf("LUA.EXE", `\USERS\PUBLIC\T\LUA\LUA.EXE`, []time.Time{at("14:42:10.900")}, 1,
			`\USERS\PUBLIC\T\LUA\LUA54.DLL`, `\USERS\PUBLIC\T\P.LUA`),
		pf("WMIC.EXE", `\WINDOWS\SYSTEM32\WBEM\WMIC.EXE`, []time.Time{at("14:44:00.200"), earlier(5, "08:58:30.000")}, 7,
			`\WINDOWS\SYSTEM32\WBEM\WMICLNT.DLL`, `\WINDOWS\SYSTEM32\WBEM\FASTPROX.DLL`),
		pf("AUTOIT3.EXE", `\USERS\ALICE\APPDATA\LOCAL\TEMP\AUTOIT3.EXE`, []time.Time{at("14:44:01.050")}, 1,
			`\USERS\ALICE\APPDATA\LOCAL\TEMP\KL.A3X`),
	}
}
