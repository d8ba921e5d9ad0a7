package analyzers

import (
	"regexp"
	"sync"
)

// lazyRegexp is a regular expression compiled on first use. Compiled at
// package init, the analyzers' expressions cost every triage process about
// a millisecond and 5,000 allocations before main, the dump and version
// commands included, which never run an analyzer.
type lazyRegexp struct {
	expr string
	re   func() *regexp.Regexp
}

// lazyRegexps lists every expression, so a test can compile them all.
var lazyRegexps []*lazyRegexp

func lazy(expr string) *lazyRegexp {
	l := &lazyRegexp{expr: expr, re: sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(expr) })}
	lazyRegexps = append(lazyRegexps, l)
	return l
}

func (l *lazyRegexp) MatchString(s string) bool  { return l.re().MatchString(s) }
func (l *lazyRegexp) FindString(s string) string { return l.re().FindString(s) }
func (l *lazyRegexp) FindStringSubmatch(s string) []string {
	return l.re().FindStringSubmatch(s)
}
func (l *lazyRegexp) Split(s string, n int) []string         { return l.re().Split(s, n) }
func (l *lazyRegexp) FindAllString(s string, n int) []string { return l.re().FindAllString(s, n) }
func (l *lazyRegexp) FindAllStringIndex(s string, n int) [][]int {
	return l.re().FindAllStringIndex(s, n)
}
func (l *lazyRegexp) FindAllStringSubmatch(s string, n int) [][]string {
	return l.re().FindAllStringSubmatch(s, n)
}
func (l *lazyRegexp) FindStringIndex(s string) []int { return l.re().FindStringIndex(s) }
