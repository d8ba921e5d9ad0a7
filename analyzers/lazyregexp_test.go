package analyzers

import (
	"regexp"
	"testing"
)

// TestLazyRegexps compiles every expression, as init did before they were
// made lazy, so that a bad one fails here rather than on first use.
func TestLazyRegexps(t *testing.T) {
	if len(lazyRegexps) == 0 {
		t.Fatal("no expressions registered")
	}
	for _, l := range lazyRegexps {
		if _, err := regexp.Compile(l.expr); err != nil {
			t.Errorf("%q: %v", l.expr, err)
		}
	}
}

// TestGateSound checks the literal gates against their expressions on
// texts that match, in other cases and with the runes that fold to k and s.
func TestGateSound(t *testing.T) {
	texts := []string{
		"AmsiUtils", "amsiutils", "AMSIINITFAILED", "set-mppreference -disablerealtimemonitoring 1",
		"Invoke-Mimikatz", "Invoke-\u212Aerberoast", "\u017Fekurlsa::", "vssadmin delete shadows",
		"I`E`X (\"{1}{0}\"-f 'ject','New-Ob')", "[char]73+[char]69+[char]88+[char]0x41+[char]65",
		"'a'+'b'+'c'+'d'", "$env:ComSpec[4,15,25]-Join''", "cmd /v:on /c p^o^w^e^r", "%a:~1,2%%b:~3%%c:~-1%",
	}
	for _, l := range lazyRegexps {
		re := regexp.MustCompile(l.expr)
		for _, s := range texts {
			if re.MatchString(s) && !l.may(s) {
				t.Errorf("%q matches %q but its gate rules the text out", l.expr, s)
			}
		}
	}
}

// TestGates checks that the gates tell what they should: literals under
// (?i) match any case, and a case-insensitive k or s only gates ASCII.
func TestGates(t *testing.T) {
	for _, c := range []struct {
		expr, text string
		may        bool
	}{
		{`(?i)amsiutils|amsiinitfailed`, "x AMSIUTILS y", true},
		{`(?i)amsiutils|amsiinitfailed`, "x amsi y", false},
		{`(?i)invoke-kerberoast`, "invoke-\u212Aerberoast", true},
		{`(?i)xor\w+`, "\u212A", false},
		{`['"]\s*\+\s*['"]`, "no plus", false},
		{`['"]\s*\+\s*['"]`, "a + b", true},
		{`a*`, "", true},
		{`(?i)\bcmd(?:\.exe)?\s+/v(?::on?|\s)`, "CMD /V:ON", true},
		{`(?i)\bcmd(?:\.exe)?\s+/v(?::on?|\s)`, "cm /v", false},
		// Every part of a match holds its literals: one is not enough.
		{`(?i)\bpowershell\s+.{0,40}\$env:\w+\s*\|\s*(?:iex|invoke-expression)`, "powershell.exe /c echo 1", false},
		{`(?i)\bpowershell\s+.{0,40}\$env:\w+\s*\|\s*(?:iex|invoke-expression)`, "POWERSHELL $Env:x | IEX", true},
		{`(?i)set\s+\w+=.*powershell|powershell.*\$env:`, "powershell /c echo 1", false},
		{`(?i)set\s+\w+=.*powershell|powershell.*\$env:`, "set a=1 & powershell", true},
		{`(?i)set\s+\w+=.*powershell|powershell.*\$env:`, "powershell $env:a", true},
	} {
		g := gateOf(c.expr)
		if got := g.may(c.text); got != c.may {
			t.Errorf("gate of %q on %q: %v, want %v (literals %q)", c.expr, c.text, got, c.may, g.clauses)
		}
	}
}

// FuzzGate checks every expression's gate on hostile text: a text the
// expression matches must never be ruled out, and a text lowered once for
// every gate must be ruled in or out as each gate alone would.
func FuzzGate(f *testing.F) {
	for _, s := range []string{"AmsiUtils", "Invoke-\u212Aerberoast", "'a'+'b'+'c'+'d'", "[char]73", "x\u017Fekurlsa::"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		shared := &gatedText{s: text} // lowered once for every gate, as signalScore does
		for _, l := range lazyRegexps {
			if !l.may(text) && l.re().MatchString(text) {
				t.Fatalf("%q matches %q but its gate rules the text out", l.expr, text)
			}
			if got, want := l.once().gate.mayText(shared), l.may(text); got != want {
				t.Fatalf("%q on %q: the shared lowering's gate says %v, its own %v", l.expr, text, got, want)
			}
		}
	})
}
