package analyzers

import (
	"math"
	"sort"
	"strconv"
	"strings"
)

// The obfuscation scores rate density (how much of a text is backticks,
// concatenation, format operators, char codes, case flips, entropy); one
// technique of Invoke-Obfuscation or Invoke-DOSfuscation applied once
// leaves too little density to pass a threshold, yet each leaves a shape
// that ordinary scripts do not have. These signals find those shapes, and
// each adds its weight to the score.

// signal is one shape of obfuscation, with the points it adds.
type signal struct {
	name   string
	points int
	re     *lazyRegexp
	min    int // matches needed
}

// psSignals are Invoke-Obfuscation's token, string, encoding and launcher
// shapes, and the ways of spelling IEX without writing it.
var psSignals = []signal{
	{"obfuscated IEX", 50, lazy(`(?i)\$env:comspec\s*\[\s*4\s*,\s*(?:15|24|26)\s*,\s*25\s*\]|\$pshome\s*\[\s*\d+\s*\]\s*\+\s*\$pshome\s*\[\s*\d+\s*\]\s*\+\s*['"]x['"]|\$shellid\s*\[\s*1\s*\]\s*\+\s*\$shellid\s*\[\s*13\s*\]|\$verbosepreference\.tostring\(\s*\)\s*\[\s*1\s*,\s*3\s*\]|&\s*\(\s*(?:gcm|get-command)\s+['"]?\*?i\??\*?e?\??\*?x['"]?\s*\)|\(\s*['"]i['"]\s*\+\s*['"]e['"]\s*\+\s*['"]x['"]\s*\)|\$env:\w+\s*\[\s*\d+\s*,\s*\d+\s*,\s*\d+\s*\]\s*-join\s*['"]{2}`), 1},
	{"ticks inside words", 40, lazy("[A-Za-z]`[A-DF-MO-QSWX-Zc-dg-mo-qswx-z]"), 3},
	{"reordered format string", 40, lazy(`["'](?:\{\d+\}){2,}["']\s*-f`), 1},
	{"string fragments joined", 30, lazy(`(?:['"][^'"\s]{1,12}['"]\s*\+\s*){3,}['"]`), 1},
	{"reversed string", 40, lazy(`(?i)\[\s*-\s*1\s*\.\.\s*-?\s*\(?\s*\$\w+\.length|\[array\]::reverse|\brighttoleft\b`), 1},
	{"char codes", 40, lazy(`(?i)\[char\]\s*\(?\s*0?x?[0-9a-f]+\s*\)?|\[char\[\]\]\s*\(\s*\d+\s*,`), 5},
	{"xor decoding", 40, lazy(`(?i)-bxor\s*\$?\w+`), 1},
	{"numeric base decoding", 40, lazy(`(?i)\[convert\]::toint(?:16|32)\(\s*[^,]{1,40},\s*(?:2|8|16)\s*\)|-split\s*['"][^'"]{1,3}['"]\s*\|\s*(?:foreach(?:-object)?|%)\s*\{\s*\[char\]`), 1},
	{"secure string decoding", 40, lazy(`(?i)securestringtobstr|ptrtostringauto|ptrtostringuni|convertto-securestring\s+-key`), 1},
	{"special-character variables", 40, lazy(`\$\{[^\w\s}]{1,3}\}`), 3},
	{"environment-variable launcher", 40, lazy(`(?i)\bset\s+"?\w+=.{0,400}powershell.{0,80}\$env:\w+|\bpowershell(?:\.exe)?\s+.{0,40}\$\{?env:\w+\}?\s*\|\s*(?:iex|invoke-expression)`), 1},
	{"clipboard or stdin launcher", 40, lazy(`(?i)clip(?:\.exe)?\s*&.{0,80}powershell.{0,120}(?:get-clipboard|windows\.forms\.clipboard)|\|\s*powershell(?:\.exe)?\s+.{0,40}(?:-command\s+-|-\s*$)`), 1},
	{"rundll32 or mshta launcher", 40, lazy(`(?i)rundll32(?:\.exe)?\s+shell32\.dll\s*,\s*shellexec_rundll\s+powershell|mshta(?:\.exe)?\s+vbscript:.{0,200}powershell`), 1},
}

// dosSignals are Invoke-DOSfuscation's shapes: carets inside words, env
// variable substrings, set-and-call concatenation, reversal in FOR /L and
// delayed expansion turned on.
var dosSignals = []signal{
	{"carets inside words", 40, lazy(`[A-Za-z]\^[A-Za-z]`), 4},
	{"variable substrings", 40, lazy(`%[A-Za-z_]\w*:~-?\d+(?:,-?\d+)?%`), 3},
	{"set and call concatenation", 40, lazy(`(?i)\bset\s+"?\w+=[^&]*&&?\s*(?:call\s+)?%\w+%|\bcall\s+%\w+%`), 1},
	{"reversal loop", 40, lazy(`(?i)\bfor\s+/l\s+%%?\w\s+in\s*\(\s*\d+\s*,\s*-1\s*,`), 1},
	{"delayed expansion", 20, lazy(`(?i)\bcmd(?:\.exe)?\s+/v(?::on?|\s)`), 1},
}

// signalScore adds up the signals text shows and names them, sorted.
func signalScore(s string, signals []signal) (int, []string) {
	return signalScoreOf(&gatedText{s: s}, signals)
}

// signalScoreOf is signalScore of a text other gates may share.
func signalScoreOf(t *gatedText, signals []signal) (int, []string) {
	points := 0
	var names []string
	for _, s := range signals {
		if n := s.re.countIn(t, s.min); n >= s.min {
			if s.name == "reordered format string" && !reordered(t.s, s.re) {
				continue
			}
			points += s.points
			names = append(names, s.name)
		}
	}
	sort.Strings(names)
	return points, names
}

// placeholder is a {n} of a format string.
var placeholder = lazy(`\{(\d+)\}`)

// reordered reports whether a format string's placeholders come out of
// order ("{1}{0}"), as obfuscators write them; "{0}{1}" is ordinary code.
func reordered(text string, formats *lazyRegexp) bool {
	for _, m := range formats.FindAllString(text, 16) {
		prev := -1
		for _, p := range placeholder.FindAllStringSubmatch(m, -1) {
			n, _ := strconv.Atoi(p[1])
			if n < prev {
				return true
			}
			prev = n
		}
	}
	return false
}

// longLine is DeepBlueCLI's length past which a command line is worth a
// look on length alone.
const longLine = 1000

// symbolRatio is DeepBlueCLI's check: a command line of some length with
// less than 65% letters, digits and spaces is mostly punctuation, which
// encoders and obfuscators produce.
func symbolRatio(text string) (float64, bool) {
	if len(text) < 200 {
		return 1, false
	}
	plain := 0
	for i := 0; i < len(text); i++ {
		c := text[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == ' ' {
			plain++
		}
	}
	r := float64(plain) / float64(len(text))
	return math.Round(r*1000) / 1000, r < 0.65
}

// withoutEscapes drops backticks and carets, which PowerShell and cmd.exe
// ignore inside words, so that I`E`X and p^o^w^e^r^s^h^e^l^l read as words.
func withoutEscapes(s string) string {
	if !strings.ContainsAny(s, "`^") {
		return s
	}
	return strings.NewReplacer("`", "", "^", "").Replace(s)
}
