package analyzers

import (
	"bytes"
	"regexp"
	"regexp/syntax"
	"slices"
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

// gate is a set of clauses, each a set of literals (ASCII letters in lower
// case), such that every text the expression matches holds, once its ASCII
// letters are lowered, one literal of every clause; none means the
// expression is not gated. One clause alone let every PowerShell command
// line through a launcher's expression that needs "powershell" and
// "$env:" and "iex", and those expressions were the analyzers' largest
// cost on a log of a million starts.
type gate struct {
	clauses [][][]byte
	// asciiOnly: a case-insensitive literal holds a k or an s, which also
	// match the Kelvin sign and the long s, so the gate holds only for
	// texts without bytes past ASCII.
	asciiOnly bool
}

// maxGateLiterals bounds a clause, and maxGateClauses the clauses of a
// gate: past them, searching costs too much of what the expression does.
const (
	maxGateLiterals = 24
	maxGateClauses  = 8
)

func gateOf(expr string) gate {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return gate{}
	}
	var g gate
	cnf, ok := required(re.Simplify(), &g)
	if !ok {
		return gate{}
	}
	for _, c := range cnf {
		var clause [][]byte
		for _, l := range c {
			clause = append(clause, []byte(l))
		}
		g.clauses = append(g.clauses, clause)
	}
	return g
}

// clauses are literals in conjunctive form: every match holds one literal
// of each clause.
type clauses [][]string

// required gives clauses that every match of re satisfies, lowered as
// gate says, and whether there are such (ok false: a match may contain
// no literal, or the sets would be too large to help).
func required(re *syntax.Regexp, g *gate) (cnf clauses, ok bool) {
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
		return clauses{{string(b)}}, len(b) > 0
	case syntax.OpCapture, syntax.OpPlus:
		return required(re.Sub[0], g)
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return required(re.Sub[0], g)
		}
	case syntax.OpConcat:
		// A match holds a match of every part, so every part's clauses.
		for _, sub := range re.Sub {
			if c, ok := required(sub, g); ok {
				cnf = append(cnf, c...)
			}
		}
		return strongest(cnf), len(cnf) > 0
	case syntax.OpAlternate:
		// A match holds a match of one branch: each clause is a literal
		// of one clause of each branch (distributed), as far as the
		// product of the branches' clauses stays small; past it, the
		// branches drop their weakest clauses.
		var branches []clauses
		for _, sub := range re.Sub {
			c, ok := required(sub, g)
			if !ok {
				return nil, false
			}
			branches = append(branches, c)
		}
		for product(branches) > maxGateClauses {
			widest := 0
			for i, b := range branches {
				if len(b) > len(branches[widest]) {
					widest = i
				}
			}
			branches[widest] = branches[widest][:len(branches[widest])-1]
		}
		cnf = clauses{nil}
		for _, b := range branches {
			var next clauses
			for _, c := range cnf {
				for _, bc := range b {
					next = append(next, append(c[:len(c):len(c)], bc...))
				}
			}
			cnf = next
		}
		var kept clauses
		for _, c := range cnf {
			if len(c) <= maxGateLiterals {
				kept = append(kept, c)
			}
		}
		return strongest(kept), len(kept) > 0
	}
	return nil, false
}

// product is how many clauses distributing the branches gives.
func product(branches []clauses) int {
	n := 1
	for _, b := range branches {
		n *= len(b)
		if n > maxGateClauses {
			return n
		}
	}
	return n
}

// strongest orders clauses by their shortest literal, longest first (the
// clause that rules out most texts), and keeps maxGateClauses of them.
func strongest(cnf clauses) clauses {
	for _, c := range cnf {
		slices.Sort(c)
	}
	cnf = slices.CompactFunc(cnf, slices.Equal) // adjacent only; enough for repeats of one part
	slices.SortStableFunc(cnf, func(a, b []string) int { return shortest(b) - shortest(a) })
	if len(cnf) > maxGateClauses {
		cnf = cnf[:maxGateClauses]
	}
	return cnf
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

// may reports whether s holds a literal of every clause, its ASCII letters
// lowered; true when the gate does not apply.
func (g gate) may(s string) bool { return g.mayText(&gatedText{s: s}) }

// mayText is may for a text whose lowered copy several gates share.
func (g gate) mayText(t *gatedText) bool {
	if g.clauses == nil {
		return true
	}
	lowered, nonASCII := t.lower()
	if nonASCII && g.asciiOnly {
		return true
	}
	for _, clause := range g.clauses {
		if !slices.ContainsFunc(clause, func(l []byte) bool { return bytes.Contains(lowered, l) }) {
			return false
		}
	}
	return true
}

// gatedText is a string that several gated expressions are run over: its
// ASCII letters are lowered once for all their gates, where each gate
// lowered a copy of its own (sixteen copies of every script block for
// its obfuscation score).
type gatedText struct {
	s        string
	lowered  []byte
	nonASCII bool
	done     bool
}

func (t *gatedText) lower() ([]byte, bool) {
	if !t.done {
		t.lowered = make([]byte, len(t.s))
		for i := 0; i < len(t.s); i++ {
			c := t.s[i]
			t.nonASCII = t.nonASCII || c >= utf8.RuneSelf
			t.lowered[i] = lowerASCII(c)
		}
		t.done = true
	}
	return t.lowered, t.nonASCII
}

// countIn is how many matches, up to n (-1: all), t's string holds.
func (l *lazyRegexp) countIn(t *gatedText, n int) int {
	if !l.once().gate.mayText(t) {
		return 0
	}
	return len(l.re().FindAllStringIndex(t.s, n))
}
