// Package demo writes a synthetic evidence tree in KAPE layout for
// `triage demo` and for tests that need every stage to run without the
// shared corpus. It tells one intrusion on one workstation among ordinary
// activity, across every artifact triage reads:
//
//   - Tuesday 10 March 2026, 14:02 UTC: alice opens Invoice_March.docm from
//     Downloads; WINWORD.EXE starts cmd.exe (Security 4688, Sysmon 1), which
//     starts PowerShell with an encoded download cradle (4688, Sysmon 1, the
//     400/403 engine session, a 4104 block);
//   - the second stage arrives as a script block logged in three parts at
//     Warning level: an AMSI bypass, a batch file dropped in ProgramData and a
//     scheduled task that runs it at logon;
//   - discovery commands chained in one cmd.exe, wscript.exe running a .vbs
//     from Temp, cscript.exe running a .js from C:\Users\Public;
//   - 22:41, outside business hours, the task runs the batch file again;
//   - the hands-on session's commands in alice's PSReadLine history;
//   - 14:34–14:44, from a second console, the interpreters of the intruder's
//     kit in C:\Users\Public\t and those on the host: java -jar a tunnel,
//     a python -c reverse shell, wsl -e bash -c with curl, node -e running
//     base64 through child_process, lua.exe running a script, and wmic
//     process call create starting AutoIt3.exe with a .a3x from Temp;
//   - the prefetch files of the interpreters list the engines and scripts.
//
// Around it: logons, services, an administrator's PowerShell console and
// history, a logon batch script that maps drives, Sysmon network and image
// load noise. That part must stay quiet in the report.
//
// Everything is fixed (times, ids, GUIDs, file modification times), so the
// same binary writes the same bytes.
package demo
