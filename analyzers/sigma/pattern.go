package sigma

import (
	"strings"
	"unicode/utf8"
)

// elemKind is one piece of a Sigma string.
type elemKind uint8

const (
	litElem  elemKind = iota // literal text
	starElem                 // * : any run of characters
	oneElem                  // ? : exactly one character
	dashElem                 // one of the windash characters
)

type elem struct {
	kind elemKind
	text string // litElem only
}

// pattern is a parsed Sigma string: literals and wildcards.
type pattern []elem

// windashChars are the characters windash lets each dash stand for:
// hyphen-minus, slash, en dash, em dash and horizontal bar.
const windashChars = "-/\u2013\u2014\u2015"

// parseSigmaString applies the escape rules of the specification: \* and
// \? are literal, \\ is one backslash, a backslash before anything else
// (or at the end) stays as written.
func parseSigmaString(s string) pattern {
	wild := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '*' || s[i] == '?' {
			wild++
		}
	}
	if wild == 0 && !strings.Contains(s, `\\`) {
		return literal(s) // no wildcard and no escape: most values
	}
	// A literal and a wildcard for each wildcard, a last literal, and room
	// for the stars wrap adds.
	p := make(pattern, 0, 2*wild+3)
	// A piece is a substring of s until an escape in it makes it differ;
	// from there on it is written out.
	var lit strings.Builder
	start, escaped := 0, false
	flush := func(end int) {
		text := s[start:end]
		if escaped {
			text = lit.String()
			lit.Reset()
		}
		if text != "" {
			p = append(p, elem{kind: litElem, text: text})
		}
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			if i+1 < len(s) && (s[i+1] == '*' || s[i+1] == '?' || s[i+1] == '\\') {
				if !escaped {
					lit.WriteString(s[start:i])
					escaped = true
				}
				lit.WriteByte(s[i+1])
				i++
			} else if escaped {
				lit.WriteByte('\\')
			}
		case '*':
			flush(i)
			start, escaped = i+1, false
			if len(p) == 0 || p[len(p)-1].kind != starElem {
				p = append(p, elem{kind: starElem})
			}
		case '?':
			flush(i)
			start, escaped = i+1, false
			p = append(p, elem{kind: oneElem})
		default:
			if escaped {
				lit.WriteByte(c)
			}
		}
	}
	flush(len(s))
	return p
}

// literal is the pattern of a plain text, with room for the stars wrap
// adds.
func literal(s string) pattern {
	if s == "" {
		return pattern{}
	}
	p := make(pattern, 1, 3)
	p[0] = elem{kind: litElem, text: s}
	return p
}

// plain returns the text of a pattern without wildcards.
func (p pattern) plain() (string, bool) {
	var b strings.Builder
	for _, e := range p {
		if e.kind != litElem {
			return "", false
		}
		b.WriteString(e.text)
	}
	return b.String(), true
}

// wrap adds a star before and after where asked. It writes in p's
// storage: patterns are built for one test, and parseSigmaString and
// literal leave the room, so that wrapping does not copy them.
func (p pattern) wrap(before, after bool) pattern {
	if before && (len(p) == 0 || p[0].kind != starElem) {
		p = append(p, elem{})
		copy(p[1:], p)
		p[0] = elem{kind: starElem}
	}
	if after && (len(p) == 0 || p[len(p)-1].kind != starElem) {
		p = append(p, elem{kind: starElem})
	}
	return p
}

// lower lowers p's literals in place.
func (p pattern) lower() {
	for i := range p {
		if p[i].kind == litElem {
			p[i].text = lowerASCIIFirst(p[i].text)
		}
	}
}

// windash splits out every - or / that the regular expression \B[-/]\b
// selects: one preceded by a non-word character or the start of a literal
// and followed by a word character. A dash element matches each of the
// five characters, which is the OR of all 5ⁿ variants pySigma builds.
func (p pattern) windash() pattern {
	var out pattern
	if len(p) > 0 {
		// A dash splits a literal in two around it.
		n := len(p)
		for _, e := range p {
			n += 2 * (strings.Count(e.text, "-") + strings.Count(e.text, "/"))
		}
		out = make(pattern, 0, n)
	}
	for _, e := range p {
		if e.kind != litElem {
			out = append(out, e)
			continue
		}
		s, start := e.text, 0
		for i := 0; i < len(s); i++ {
			if s[i] != '-' && s[i] != '/' {
				continue
			}
			before := i == 0 || !isWordByte(s[i-1])
			after := i+1 < len(s) && isWordByte(s[i+1])
			if before && after {
				if i > start {
					out = append(out, elem{kind: litElem, text: s[start:i]})
				}
				out = append(out, elem{kind: dashElem})
				start = i + 1
			}
		}
		if start < len(s) {
			out = append(out, elem{kind: litElem, text: s[start:]})
		}
	}
	return out
}

func isWordByte(c byte) bool {
	return c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c >= 0x80
}

// match reports whether s matches the whole pattern. It is the classic
// greedy wildcard match with one backtrack point: a later star can absorb
// whatever an earlier one would have, so only the last star backtracks.
// A star followed by a literal skips to the literal's next occurrence
// instead of trying every position; none left means no match.
func (p pattern) match(s string) bool {
	pi, si := 0, 0
	starP, starS := -1, 0
	for {
		if pi < len(p) {
			switch e := p[pi]; e.kind {
			case starElem:
				starP, starS = pi, si
				pi++
				if pi < len(p) && p[pi].kind == litElem {
					k := strings.Index(s[si:], p[pi].text)
					if k < 0 {
						return false
					}
					starS = si + k
					si = starS
				}
				continue
			case litElem:
				if strings.HasPrefix(s[si:], e.text) {
					si += len(e.text)
					pi++
					continue
				}
			case oneElem:
				if si < len(s) {
					_, n := utf8.DecodeRuneInString(s[si:])
					si += n
					pi++
					continue
				}
			case dashElem:
				if si < len(s) {
					r, n := utf8.DecodeRuneInString(s[si:])
					if strings.ContainsRune(windashChars, r) {
						si += n
						pi++
						continue
					}
				}
			}
		} else if si == len(s) {
			return true
		}
		if starP < 0 || starS >= len(s) {
			return false
		}
		if starP == len(p)-1 {
			return true // a trailing star takes the rest
		}
		_, n := utf8.DecodeRuneInString(s[starS:])
		starS += n
		if next := starP + 1; p[next].kind == litElem {
			k := strings.Index(s[starS:], p[next].text)
			if k < 0 {
				return false
			}
			starS += k
		}
		pi, si = starP+1, starS
	}
}

// longestLiteral is the longest literal piece, which any match must
// contain; the prefilter looks for it.
func (p pattern) longestLiteral() string {
	best := ""
	for _, e := range p {
		if e.kind == litElem && len(e.text) > len(best) {
			best = e.text
		}
	}
	return best
}
