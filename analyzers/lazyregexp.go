package analyzers

import (
	"bytes"
	"regexp"
	"regexp/syntax"
	"sync"
	"unicode"
	"unicode/utf8"
)

// lazyRegexp is a regular expression compiled on first use. Compiled at
// package init, the analyzers' expressions cost every triage process about
// a millisecond and 5,000 allocations before main, the dump and version
// commands included, which never run an analyzer.
//
// Each is gated by the literals one of which every match contains: most
// texts (a million script blocks, say) hold none of them, and finding that
// out with a byte search costs a small part of what running the expression
// does. The gate only ever skips texts the expression cannot match, so
// every method answers as the expression alone would.
type lazyRegexp struct {
	expr string
	once func() compiled
}

type compiled struct {
	re   *regexp.Regexp
	gate gate
}

// lazyRegexps lists every expression, so a test can compile them all.
var lazyRegexps []*lazyRegexp

func lazy(expr string) *lazyRegexp {
	l := &lazyRegexp{expr: expr, once: sync.OnceValue(func() compiled {
		return compiled{re: regexp.MustCompile(expr), gate: gateOf(expr)}
	})}
	lazyRegexps = append(lazyRegexps, l)
	return l
}

func (l *lazyRegexp) re() *regexp.Regexp { return l.once().re }

// may reports whether s can hold a match, by the gate.
func (l *lazyRegexp) may(s string) bool { return l.once().gate.may(s) }

func (l *lazyRegexp) MatchString(s string) bool { return l.may(s) && l.re().MatchString(s) }
func (l *lazyRegexp) FindString(s string) string {
	if !l.may(s) {
		return ""
	}
	return l.re().FindString(s)
}
func (l *lazyRegexp) FindStringSubmatch(s string) []string {
	if !l.may(s) {
		return nil
	}
	return l.re().FindStringSubmatch(s)
}
func (l *lazyRegexp) Split(s string, n int) []string { return l.re().Split(s, n) }
func (l *lazyRegexp) FindAllString(s string, n int) []string {
	if !l.may(s) {
		return nil
	}
	return l.re().FindAllString(s, n)
}
func (l *lazyRegexp) FindAllStringIndex(s string, n int) [][]int {
	if !l.may(s) {
		return nil
	}
	return l.re().FindAllStringIndex(s, n)
}
func (l *lazyRegexp) FindAllStringSubmatch(s string, n int) [][]string {
	if !l.may(s) {
		return nil
	}
	return l.re().FindAllStringSubmatch(s, n)
}
func (l *lazyRegexp) FindStringIndex(s string) []int {
	if !l.may(s) {
		return nil
	}
	return l.re().FindStringIndex(s)
}

// gate is a set of literals, ASCII letters in lower case, one of which is
// in every text the expression matches once the text's ASCII letters are
// lowered; none means the expression is not gated.
type gate struct {
	literals [][]byte
	// asciiOnly: a case-insensitive literal holds a k or an s, which also
	// match the Kelvin sign and the long s, so the gate holds only for
	// texts without bytes past ASCII.
	asciiOnly bool
}

// maxGateLiterals bounds a gate: past it, searching costs too much of
// what the expression does.
const maxGateLiterals = 24

func gateOf(expr string) gate {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return gate{}
	}
	var g gate
	lits, ok := required(re.Simplify(), &g)
	if !ok || len(lits) == 0 || len(lits) > maxGateLiterals {
		return gate{}
	}
	for _, l := range lits {
		if len(l) == 0 {
			return gate{}
		}
		g.literals = append(g.literals, []byte(l))
	}
	return g
}

// required gives literals one of which every match of re contains, lowered
// as gate says, and whether there are such (ok false: a match may contain
// none, or the set would be too large to help).
func required(re *syntax.Regexp, g *gate) (lits []string, ok bool) {
	switch re.Op {
	case syntax.OpLiteral:
		fold := re.Flags&syntax.FoldCase != 0
		var b []byte
		for _, r := range re.Rune {
			switch {
			case r < utf8.RuneSelf:
				if fold && hasFoldPastASCII(r) {
					g.asciiOnly = true
				}
				b = append(b, lowerASCII(byte(r)))
			case fold:
				return nil, false // its other cases are other bytes
			default:
				b = utf8.AppendRune(b, r)
			}
		}
		return []string{string(b)}, len(b) > 0
	case syntax.OpCapture, syntax.OpPlus:
		return required(re.Sub[0], g)
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return required(re.Sub[0], g)
		}
	case syntax.OpConcat:
		// The part whose shortest literal is longest rules out most texts.
		var best []string
		bestLen, bestASCII := 0, false
		for _, sub := range re.Sub {
			var sg gate
			l, ok := required(sub, &sg)
			if !ok || len(l) > maxGateLiterals {
				continue
			}
			if n := shortest(l); n > bestLen {
				best, bestLen, bestASCII = l, n, sg.asciiOnly
			}
		}
		g.asciiOnly = g.asciiOnly || bestASCII
		return best, best != nil
	case syntax.OpAlternate:
		var all []string
		for _, sub := range re.Sub {
			l, ok := required(sub, g)
			if !ok {
				return nil, false
			}
			all = append(all, l...)
		}
		return all, len(all) <= maxGateLiterals
	}
	return nil, false
}

func shortest(lits []string) int {
	n := -1
	for _, l := range lits {
		if n < 0 || len(l) < n {
			n = len(l)
		}
	}
	return n
}

// hasFoldPastASCII reports whether r matches, case folded, a rune outside
// ASCII (k the Kelvin sign, s the long s).
func hasFoldPastASCII(r rune) bool {
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		if f >= utf8.RuneSelf {
			return true
		}
	}
	return false
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// may reports whether s holds one of the literals, its ASCII letters
// lowered; true when the gate does not apply.
func (g gate) may(s string) bool {
	if g.literals == nil {
		return true
	}
	lowered := make([]byte, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf && g.asciiOnly {
			return true
		}
		lowered[i] = lowerASCII(c)
	}
	for _, l := range g.literals {
		if bytes.Contains(lowered, l) {
			return true
		}
	}
	return false
}
