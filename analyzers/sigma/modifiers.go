package sigma

import (
	"encoding/base64"
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf16"

	yaml "go.yaml.in/yaml/v3"

	"triage/internal/ahocorasick"
)

// scalarKind is how a detection value is typed. Only null, true/false and
// plain decimal numbers are not strings (the YAML 1.1 reading pySigma
// gets from PyYAML keeps 00000429 a string; see doc.go).
type scalarKind uint8

const (
	kindString scalarKind = iota
	kindNumber
	kindBool
	kindNull
)

type scalar struct {
	kind scalarKind
	text string // source text
	node *yaml.Node
}

// isDecimal reports whether s is a plain decimal number as YAML types it:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?, written out because it runs on every
// value of every rule.
func isDecimal(s string) bool {
	s = strings.TrimPrefix(s, "-")
	digits := func(s string) int {
		n := 0
		for n < len(s) && '0' <= s[n] && s[n] <= '9' {
			n++
		}
		return n
	}
	n := digits(s)
	if n == 0 || n > 1 && s[0] == '0' {
		return false
	}
	if s = s[n:]; s == "" {
		return true
	}
	return s[0] == '.' && digits(s[1:]) == len(s)-1 && len(s) > 1
}

func readScalar(n *yaml.Node) scalar {
	s := scalar{kind: kindString, text: n.Value, node: n}
	if n.Style&(yaml.SingleQuotedStyle|yaml.DoubleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
		return s
	}
	switch {
	case isNull(n):
		s.kind = kindNull
	case n.Value == "true" || n.Value == "false" || n.Value == "True" || n.Value == "False" || n.Value == "TRUE" || n.Value == "FALSE":
		s.kind, s.text = kindBool, strings.ToLower(n.Value)
	case isDecimal(n.Value):
		s.kind = kindNumber
	}
	return s
}

// modifiers is a parsed modifier chain, in written order where it matters.
type modifiers struct {
	contains, startswith, endswith bool
	all, cased, neq, windash       bool
	re, cidr, exists, fieldref     bool
	expand                         bool
	reFlags                        string
	compare                        string   // lt, lte, gt, gte
	timePart                       string   // minute … year
	encodings                      []string // utf16le, utf16be, utf16, base64, base64offset, in order
}

var timeParts = map[string]bool{"minute": true, "hour": true, "day": true, "week": true, "month": true, "year": true}

func parseModifiers(names []string, key *yaml.Node) (modifiers, error) {
	var m modifiers
	for i, name := range names {
		switch name {
		case "contains":
			m.contains = true
		case "startswith":
			m.startswith = true
		case "endswith":
			m.endswith = true
		case "all":
			m.all = true
		case "cased":
			m.cased = true
		case "neq":
			m.neq = true
		case "windash":
			m.windash = true
		case "expand":
			m.expand = true
		case "re":
			if i != 0 {
				return m, refuse(ReasonModifier, key, "re must be the first modifier")
			}
			m.re = true
		case "i", "ignorecase", "m", "multiline", "s", "dotall":
			if !m.re {
				return m, refuse(ReasonModifier, key, "regex flag %s without re", name)
			}
			m.reFlags += name[:1]
		case "cidr":
			if i != 0 {
				return m, refuse(ReasonModifier, key, "cidr must be the first modifier")
			}
			m.cidr = true
		case "exists":
			if i != 0 {
				return m, refuse(ReasonModifier, key, "exists takes no other modifier before it")
			}
			m.exists = true
		case "fieldref":
			m.fieldref = true
		case "lt", "lte", "gt", "gte":
			if m.compare != "" {
				return m, refuse(ReasonModifier, key, "two comparisons %s and %s", m.compare, name)
			}
			m.compare = name
		case "wide", "utf16le":
			m.encodings = append(m.encodings, "utf16le")
		case "utf16be", "utf16", "base64", "base64offset":
			m.encodings = append(m.encodings, name)
		default:
			if timeParts[name] {
				m.timePart = name
				continue
			}
			return m, refuse(ReasonModifier, key, "unknown modifier %q", name)
		}
	}
	return m, m.check(key)
}

// check refuses the combinations whose meaning the specification does not
// give, rather than guess.
func (m *modifiers) check(key *yaml.Node) error {
	anchors := m.contains || m.startswith || m.endswith
	switch {
	case m.contains && (m.startswith || m.endswith), m.startswith && m.endswith:
		return refuse(ReasonModifier, key, "contains, startswith and endswith exclude each other")
	case m.re && (m.windash || m.cidr || m.fieldref || m.expand || m.compare != "" || len(m.encodings) > 0 || m.timePart != ""):
		return refuse(ReasonModifier, key, "re combined with a modifier that rewrites values")
	case m.cidr && (anchors || m.windash || m.fieldref || m.expand || m.compare != "" || len(m.encodings) > 0 || m.cased):
		return refuse(ReasonModifier, key, "cidr combined with a string modifier")
	case m.exists && (anchors || m.all || m.windash || m.fieldref || m.expand || m.compare != "" || len(m.encodings) > 0 || m.neq || m.cased):
		return refuse(ReasonModifier, key, "exists combined with another modifier")
	case m.fieldref && (m.windash || m.expand || m.compare != "" || len(m.encodings) > 0):
		return refuse(ReasonModifier, key, "fieldref combined with a value-rewriting modifier")
	case (m.compare != "" || m.timePart != "") && (anchors || m.windash || m.expand || len(m.encodings) > 0 || m.cased):
		return refuse(ReasonModifier, key, "a numeric comparison combined with a string modifier")
	}
	if n := len(m.encodings); n > 0 {
		last := m.encodings[n-1]
		if last != "base64" && last != "base64offset" {
			// UTF-16 text holds NUL bytes no UTF-8 field value has.
			return refuse(ReasonModifier, key, "%s without a following base64 or base64offset never matches", last)
		}
		for i, e := range m.encodings {
			if (e == "base64" || e == "base64offset") && i != n-1 {
				return refuse(ReasonModifier, key, "an encoding after %s", e)
			}
		}
		if n > 2 {
			return refuse(ReasonModifier, key, "more than one text encoding")
		}
	}
	return nil
}

// test is one value of a detection item, compiled: it reports whether the
// field's values match.
type test interface {
	match(ev *view, vals, lows []string) bool
}

// globTest matches a Sigma string; lows are the values lowered when the
// test is case-insensitive.
type globTest struct {
	p     pattern
	cased bool
	// fast paths, set by newGlob when the pattern allows
	kind   int // 0 general, 1 equal, 2 prefix, 3 suffix, 4 contains
	needle string
}

const (
	globGeneral = iota
	globEqual
	globPrefix
	globSuffix
	globContains
)

// newGlob makes the test of p, which it may change.
func newGlob(p pattern, cased bool) *globTest {
	if !cased {
		p.lower()
	}
	g := &globTest{p: p, cased: cased}
	n := len(p)
	switch {
	case n == 0:
		g.kind = globEqual
	case n == 1 && p[0].kind == litElem:
		g.kind, g.needle = globEqual, p[0].text
	case n == 1 && p[0].kind == starElem:
		g.kind = globContains // anything
	case n == 2 && p[0].kind == litElem && p[1].kind == starElem:
		g.kind, g.needle = globPrefix, p[0].text
	case n == 2 && p[0].kind == starElem && p[1].kind == litElem:
		g.kind, g.needle = globSuffix, p[1].text
	case n == 3 && p[0].kind == starElem && p[1].kind == litElem && p[2].kind == starElem:
		g.kind, g.needle = globContains, p[1].text
	}
	return g
}

func (g *globTest) matchOne(s string) bool {
	switch g.kind {
	case globEqual:
		return s == g.needle
	case globPrefix:
		return strings.HasPrefix(s, g.needle)
	case globSuffix:
		return strings.HasSuffix(s, g.needle)
	case globContains:
		return strings.Contains(s, g.needle)
	}
	return g.p.match(s)
}

// containsAnyTest is the case-insensitive contains tests of one item
// OR-linked, looked for together: one pass of an automaton over a value
// instead of one search per literal, which for rules listing dozens of
// characters (homoglyphs) was most of an event's matching.
// The automaton is built on the first match: most rules never meet an
// event of their logsource, and building every one cost a load a tenth.
type containsAnyTest struct {
	needles []string
	// Every needle has a byte past ASCII (homoglyphs): an ASCII value,
	// most of them, holds none.
	beyondASCII bool
	once        sync.Once
	auto        *ahocorasick.Automaton
}

// minMergedContains is how many contains tests an item needs before they
// are merged; a few searches are cheaper than an automaton's pass.
const minMergedContains = 6

// mergeContains replaces an OR of tests' plain contains tests, when there
// are enough of them, by one containsAnyTest; the order of OR-linked
// tests does not change their result.
func mergeContains(tests []test) []test {
	n := 0
	for _, t := range tests {
		if plainContains(t) {
			n++
		}
	}
	if n < minMergedContains {
		return tests
	}
	needles := make([]string, 0, n)
	out := make([]test, 0, len(tests)-n+1)
	for _, t := range tests {
		if plainContains(t) {
			needles = append(needles, t.(*globTest).needle)
			continue
		}
		out = append(out, t)
	}
	if !slices.IsSorted(needles) {
		sort.Strings(needles)
	}
	needles = slices.Compact(needles)
	beyond := true
	for _, n := range needles {
		beyond = beyond && !ahocorasick.IsASCII(n)
	}
	return append(out, &containsAnyTest{needles: needles, beyondASCII: beyond})
}

func plainContains(t test) bool {
	g, ok := t.(*globTest)
	return ok && g.kind == globContains && !g.cased && g.needle != ""
}

func (t *containsAnyTest) match(_ *view, _, lows []string) bool {
	t.once.Do(func() { t.auto = ahocorasick.New(t.needles) })
	for _, s := range lows {
		if t.beyondASCII && ahocorasick.IsASCII(s) {
			continue
		}
		if t.auto.ContainsAny(s) {
			return true
		}
	}
	return false
}

func (g *globTest) match(_ *view, vals, lows []string) bool {
	in := lows
	if g.cased {
		in = vals
	}
	for _, s := range in {
		if g.matchOne(s) {
			return true
		}
	}
	return false
}

// regexTest is a regular expression search; lits are lowered texts every
// match contains (regexlit.go), checked first because they are cheaper
// than the regex.
type regexTest struct {
	re   *regexp.Regexp
	lits []string
}

func (t regexTest) match(_ *view, vals, lows []string) bool {
	for i, s := range vals {
		if !containsAll(lows[i], t.lits) {
			continue
		}
		if t.re.MatchString(s) {
			return true
		}
	}
	return false
}

func containsAll(s string, lits []string) bool {
	for _, l := range lits {
		if !strings.Contains(s, l) {
			return false
		}
	}
	return true
}

type cidrTest struct{ prefix netip.Prefix }

func (t cidrTest) match(_ *view, vals, _ []string) bool {
	for _, s := range vals {
		a, err := netip.ParseAddr(strings.TrimSpace(s))
		if err != nil {
			continue
		}
		// Windows writes IPv4 peers as ::ffff:a.b.c.d.
		if t.prefix.Addr().Is4() {
			a = a.Unmap()
		}
		if t.prefix.Contains(a.WithZone("")) {
			return true
		}
	}
	return false
}

// numberTest compares numerically: the rule's number against the field
// parsed as a decimal, negative, hex (0x…) or float number.
type numberTest struct {
	op       string // lt, lte, gt, gte, or "" for equal
	n        float64
	timePart string
}

func parseNumber(s string) (float64, bool) {
	s = strings.TrimSpace(s)
	if h, ok := strings.CutPrefix(strings.ToLower(s), "0x"); ok {
		u, err := strconv.ParseUint(h, 16, 64)
		return float64(u), err == nil
	}
	f, err := strconv.ParseFloat(s, 64)
	return f, err == nil
}

func (t numberTest) match(_ *view, vals, _ []string) bool {
	for _, s := range vals {
		var v float64
		var ok bool
		if t.timePart != "" {
			v, ok = timePartOf(s, t.timePart)
		} else {
			v, ok = parseNumber(s)
		}
		if !ok {
			continue
		}
		switch t.op {
		case "lt":
			ok = v < t.n
		case "lte":
			ok = v <= t.n
		case "gt":
			ok = v > t.n
		case "gte":
			ok = v >= t.n
		default:
			ok = v == t.n
		}
		if ok {
			return true
		}
	}
	return false
}

// fieldrefTest compares the field with another field of the same event,
// case-insensitively like every Sigma value unless cased.
type fieldrefTest struct {
	other      string
	start, end bool // contains sets both
	cased      bool
}

func (t fieldrefTest) match(ev *view, vals, lows []string) bool {
	ovals, olows, ok := ev.values(t.other)
	if !ok {
		return false
	}
	a, b := lows, olows
	if t.cased {
		a, b = vals, ovals
	}
	for _, s := range a {
		for _, o := range b {
			switch {
			case t.start && t.end:
				ok = strings.Contains(s, o)
			case t.start:
				ok = strings.HasSuffix(s, o) // the other value ends ours: endswith
			case t.end:
				ok = strings.HasPrefix(s, o)
			default:
				ok = s == o
			}
			if ok {
				return true
			}
		}
	}
	return false
}

// anyTest is the OR of the variants one value expanded into (base64offset,
// placeholders).
type anyTest []test

func (t anyTest) match(ev *view, vals, lows []string) bool {
	for _, x := range t {
		if x.match(ev, vals, lows) {
			return true
		}
	}
	return false
}

// compileValue turns one rule value into a test under the modifiers.
func compileValue(v scalar, m *modifiers, opts *LoadOptions) (test, error) {
	n := v.node
	switch {
	case m.exists:
		return nil, refuse(ReasonValue, n, "exists wants true or false") // handled by the caller
	case m.cidr:
		p, err := netip.ParsePrefix(v.text)
		if err != nil {
			return nil, refuse(ReasonValue, n, "cidr %q: %v", v.text, err)
		}
		if p.Masked() != p {
			return nil, refuse(ReasonValue, n, "cidr %q has host bits set", v.text)
		}
		return cidrTest{prefix: p}, nil
	case m.compare != "" || m.timePart != "":
		if v.kind != kindNumber {
			return nil, refuse(ReasonValue, n, "%s%s wants a number, found %q", m.timePart, m.compare, v.text)
		}
		f, _ := strconv.ParseFloat(v.text, 64)
		return numberTest{op: m.compare, n: f, timePart: m.timePart}, nil
	case m.re:
		return compileRegex(v, m)
	case m.fieldref:
		if strings.ContainsAny(v.text, "*?") {
			return nil, refuse(ReasonValue, n, "fieldref names a field, found the pattern %q", v.text)
		}
		return fieldrefTest{other: v.text, start: m.contains || m.endswith, end: m.contains || m.startswith, cased: m.cased}, nil
	}
	if v.kind == kindNull {
		return nil, refuse(ReasonValue, n, "null inside a list or under a modifier")
	}
	var variants []pattern
	switch {
	case v.kind != kindString:
		variants = []pattern{literal(v.text)}
	case m.expand:
		var err error
		if variants, err = expandPlaceholders(v, opts); err != nil {
			return nil, err
		}
	default:
		variants = []pattern{parseSigmaString(v.text)}
	}
	if len(m.encodings) > 0 {
		var err error
		if variants, err = encode(variants, m.encodings, n); err != nil {
			return nil, err
		}
	}
	glob := func(p pattern) *globTest {
		p = p.wrap(m.contains || m.endswith, m.contains || m.startswith)
		if m.windash {
			p = p.windash()
		}
		return newGlob(p, m.cased)
	}
	if len(variants) == 1 {
		return glob(variants[0]), nil
	}
	var out anyTest
	for _, p := range variants {
		out = append(out, glob(p))
	}
	return out, nil
}

func compileRegex(v scalar, m *modifiers) (test, error) {
	src := v.text
	if m.contains || m.endswith {
		if !strings.HasPrefix(src, "^") && !strings.HasPrefix(src, ".*") {
			src = ".*" + src
		}
	}
	if m.contains || m.startswith {
		if !strings.HasSuffix(src, "$") && !strings.HasSuffix(src, ".*") {
			src += ".*"
		}
	}
	if m.reFlags != "" {
		src = "(?" + dedupe(m.reFlags) + ")" + src
	}
	if m.cased {
		// re is case-sensitive already; cased changes nothing.
	}
	re, err := regexp.Compile(src)
	if err != nil {
		return nil, refuse(ReasonRegex, v.node, "%q: %v", clip(v.text), err)
	}
	return regexTest{re: re, lits: regexLiterals(src)}, nil
}

func dedupe(flags string) string {
	var out []byte
	for i := 0; i < len(flags); i++ {
		if !strings.ContainsRune(string(out), rune(flags[i])) {
			out = append(out, flags[i])
		}
	}
	return string(out)
}

// maxExpansions bounds the variants placeholders may produce for one value.
const maxExpansions = 4096

// expandPlaceholders replaces each %name% with each of its configured
// values (Sigma strings, so wildcards work); \% is a literal %.
func expandPlaceholders(v scalar, opts *LoadOptions) ([]pattern, error) {
	const escaped = "\x00pct\x00"
	src := strings.ReplaceAll(v.text, `\%`, escaped)
	outs := []string{""}
	for src != "" {
		i := strings.IndexByte(src, '%')
		if i < 0 {
			outs = appendAll(outs, src)
			break
		}
		j := strings.IndexByte(src[i+1:], '%')
		if j < 0 {
			outs = appendAll(outs, src)
			break
		}
		name := src[i+1 : i+1+j]
		values, ok := opts.Placeholders[name]
		if !ok || len(values) == 0 {
			return nil, refuse(ReasonPlaceholder, v.node, "%%%s%% has no values (give them with --sigma-placeholders)", name)
		}
		outs = appendAll(outs, src[:i])
		var next []string
		for _, o := range outs {
			for _, pv := range values {
				next = append(next, o+pv)
			}
		}
		if len(next) > maxExpansions {
			return nil, refuse(ReasonPlaceholder, v.node, "placeholders expand to more than %d values", maxExpansions)
		}
		outs = next
		src = src[i+1+j+1:]
	}
	var ps []pattern
	for _, o := range outs {
		ps = append(ps, parseSigmaString(strings.ReplaceAll(o, escaped, "%")))
	}
	return ps, nil
}

func appendAll(outs []string, s string) []string {
	for i := range outs {
		outs[i] += s
	}
	return outs
}

// encode applies utf16*/base64/base64offset to plain values.
func encode(variants []pattern, encodings []string, n *yaml.Node) ([]pattern, error) {
	var out []pattern
	for _, p := range variants {
		s, ok := p.plain()
		if !ok {
			return nil, refuse(ReasonValue, n, "%s of a value with wildcards", encodings[len(encodings)-1])
		}
		b := []byte(s)
		for _, e := range encodings {
			switch e {
			case "utf16le", "utf16be", "utf16":
				b = utf16Bytes(string(b), e)
			case "base64":
				out = append(out, literal(base64.StdEncoding.EncodeToString(b)))
			case "base64offset":
				for _, x := range base64Offsets(b) {
					out = append(out, literal(x))
				}
			}
		}
	}
	return out, nil
}

func utf16Bytes(s, order string) []byte {
	var out []byte
	if order == "utf16" {
		out = append(out, 0xFF, 0xFE)
	}
	for _, u := range utf16.Encode([]rune(s)) {
		if order == "utf16be" {
			out = append(out, byte(u>>8), byte(u))
		} else {
			out = append(out, byte(u), byte(u>>8))
		}
	}
	return out
}

// base64Offsets gives the three encodings of b at each alignment in a
// longer base64 text: i filler bytes before it, with the characters that
// depend on the filler or on what follows trimmed (pySigma's formula).
func base64Offsets(b []byte) []string {
	start := [3]int{0, 2, 3}
	var out []string
	for i := 0; i < 3; i++ {
		enc := base64.StdEncoding.EncodeToString(append(make([]byte, i), b...))
		end := [3]int{0, 3, 2}[(len(b)+i)%3]
		if start[i] > len(enc)-end {
			continue
		}
		out = append(out, enc[start[i]:len(enc)-end])
	}
	return out
}

func (m modifiers) String() string { return fmt.Sprintf("%+v", struct{ modifiers }{m}) }

// timeLayouts are the date forms event fields hold: the timeline's and
// Sysmon's UtcTime.
var timeLayouts = []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999", "2006-01-02"}

// timePartOf extracts one part of a date value, with no time zone
// conversion (the specification says so).
func timePartOf(s, part string) (float64, bool) {
	s = strings.TrimSpace(s)
	for _, layout := range timeLayouts {
		t, err := time.Parse(layout, s)
		if err != nil {
			continue
		}
		switch part {
		case "minute":
			return float64(t.Minute()), true
		case "hour":
			return float64(t.Hour()), true
		case "day":
			return float64(t.Day()), true
		case "week":
			_, w := t.ISOWeek()
			return float64(w), true
		case "month":
			return float64(t.Month()), true
		case "year":
			return float64(t.Year()), true
		}
	}
	return 0, false
}
