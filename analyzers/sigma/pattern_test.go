package sigma

import (
	"math/rand"
	"regexp"
	"strings"
	"testing"
)

// patternRegexp is the meaning of a pattern written as a regular
// expression, the reference the wildcard matcher is checked against.
func patternRegexp(p pattern) *regexp.Regexp {
	var b strings.Builder
	b.WriteString(`(?s)^`)
	for _, e := range p {
		switch e.kind {
		case litElem:
			b.WriteString(regexp.QuoteMeta(e.text))
		case starElem:
			b.WriteString(`.*`)
		case oneElem:
			b.WriteString(`.`)
		case dashElem:
			b.WriteString(`[-/\x{2013}\x{2014}\x{2015}]`)
		}
	}
	b.WriteString(`$`)
	return regexp.MustCompile(b.String())
}

// TestPatternMatchAgreesWithRegexp checks the wildcard matcher's skips
// (a star followed by a literal jumps to its next occurrence) on random
// patterns and texts over a small alphabet, where near misses abound.
func TestPatternMatchAgreesWithRegexp(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	alphabet := []string{"a", "b", "ab", "-", "/", "é", "\u2013", "\xff"}
	text := func(n int, valid bool) string {
		var b strings.Builder
		for i := 0; i < n; i++ {
			c := alphabet[rng.Intn(len(alphabet))]
			if valid && c == "\xff" {
				c = "b" // a rule's text is UTF-8; an event's need not be
			}
			b.WriteString(c)
		}
		return b.String()
	}
	for i := 0; i < 20000; i++ {
		src := ""
		for j := rng.Intn(6); j >= 0; j-- {
			switch rng.Intn(4) {
			case 0:
				src += "*"
			case 1:
				src += "?"
			default:
				src += text(1+rng.Intn(2), true)
			}
		}
		p := parseSigmaString(src)
		if rng.Intn(3) == 0 {
			p = p.windash()
		}
		re := patternRegexp(p)
		for k := 0; k < 8; k++ {
			s := text(rng.Intn(10), false)
			if got, want := p.match(s), re.MatchString(s); got != want {
				t.Fatalf("pattern %q (%v) on %q: match %v, regexp %v", src, p, s, got, want)
			}
		}
	}
}

func TestRegexLiterals(t *testing.T) {
	for _, c := range []struct {
		re   string
		want []string
	}{
		{`(?i)echo.*clip.*&&.*(?:Clipboard|i` + "`" + `?n)`, []string{"echo", "clip", "&&"}},
		{`\w+` + "`" + `(?:\w+|-|.)` + "`", []string{"`"}},
		{`(?i)\.exe["']?\s+[^"]{0,64}werfaultsecure\.exe`, []string{"ecure.exe", "werfault"}},
		{`"(?:\{\d\})+"\s*-f`, []string{"-f", "\"", "{", "}"}},
		{`ABC(def)+x?`, []string{"abc", "def"}},
		{`a|b`, nil},
		{`(?i)ſ`, nil},
		{`x{0,3}yy`, []string{"yy"}},
	} {
		got := regexLiterals(c.re)
		if strings.Join(got, "\x00") != strings.Join(c.want, "\x00") {
			t.Errorf("regexLiterals(%q) = %q, want %q", c.re, got, c.want)
		}
	}
}

// TestIsDecimal checks the hand-written matcher against the expression it
// replaces.
func TestIsDecimal(t *testing.T) {
	re := regexp.MustCompile(`^-?(0|[1-9][0-9]*)(\.[0-9]+)?$`)
	ident := regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
	rng := rand.New(rand.NewSource(2))
	for i := 0; i < 100000; i++ {
		b := make([]byte, rng.Intn(6))
		for j := range b {
			b[j] = "-0.19a_Z"[rng.Intn(8)]
		}
		s := string(b)
		if isDecimal(s) != re.MatchString(s) {
			t.Fatalf("isDecimal(%q) = %v", s, isDecimal(s))
		}
		if isIdent(s) != ident.MatchString(s) {
			t.Fatalf("isIdent(%q) = %v", s, isIdent(s))
		}
	}
}

// TestMergedContainsAgrees: an item's contains values looked for by one
// automaton find what searching for each finds, ASCII or not.
func TestMergedContainsAgrees(t *testing.T) {
	rng := rand.New(rand.NewSource(2))
	alphabet := []string{"a", "B", "c", "\\", "а", "В", "é", "ſ", "K", " "}
	word := func(n int) string {
		var b strings.Builder
		for range n {
			b.WriteString(alphabet[rng.Intn(len(alphabet))])
		}
		return b.String()
	}
	for round := 0; round < 300; round++ {
		var tests []test
		for range minMergedContains + rng.Intn(6) {
			tests = append(tests, newGlob(pattern{{kind: starElem}, {kind: litElem, text: word(1 + rng.Intn(3))}, {kind: starElem}}, false))
		}
		merged := mergeContains(tests)
		if len(merged) != 1 {
			t.Fatalf("%d tests merged into %d", len(tests), len(merged))
		}
		for range 20 {
			vals := []string{word(rng.Intn(12)), word(rng.Intn(5))}
			ev := newView(Fields{"f": vals})
			vals, lows, _ := ev.values("f")
			want := false
			for _, x := range tests {
				want = want || x.match(ev, vals, lows)
			}
			if got := merged[0].match(ev, vals, lows); got != want {
				t.Fatalf("%q: merged %v, each %v", vals, got, want)
			}
		}
	}
}
