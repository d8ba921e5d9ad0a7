package sigma

import (
	"regexp/syntax"
	"sort"
	"strings"
)

// maxRegexLiterals bounds the literals a regex test checks before it runs
// the regex; the longest are the rarest.
const maxRegexLiterals = 4

// regexLiterals returns lowered ASCII texts that every match of the
// regular expression contains, longest first. A value whose lowered text
// lacks one of them cannot match, so the prefilter can gate the rule on
// the first and the test can skip the regex.
//
// Only ASCII is taken, and under case folding no s: (?i)s also matches
// U+017F (ſ), which lowering leaves as it is, so the lowered value would
// not contain the s. Every other ASCII letter folds only to its own upper
// or lower case or, for k, to the Kelvin sign, which lowers to k.
func regexLiterals(src string) []string {
	re, err := syntax.Parse(src, syntax.Perl)
	if err != nil {
		return nil
	}
	var out []string
	collectLiterals(re, &out)
	sort.SliceStable(out, func(i, j int) bool { return len(out[i]) > len(out[j]) })
	out = dedupeSorted(out)
	if len(out) > maxRegexLiterals {
		out = out[:maxRegexLiterals]
	}
	return out
}

// collectLiterals appends the literal runs re requires: those of a
// concatenation's literal parts, and of any part that must occur at least
// once. Alternations, optional and starred parts require nothing.
func collectLiterals(re *syntax.Regexp, out *[]string) {
	switch re.Op {
	case syntax.OpLiteral:
		flushRun(appendRuns(re, nil, out), out)
	case syntax.OpCapture, syntax.OpPlus:
		collectLiterals(re.Sub[0], out)
	case syntax.OpRepeat:
		if re.Min >= 1 {
			collectLiterals(re.Sub[0], out)
		}
	case syntax.OpConcat:
		// Adjacent literals form one run: "ab" then "cd" is "abcd".
		var run []byte
		for _, sub := range re.Sub {
			if sub.Op == syntax.OpLiteral {
				run = appendRuns(sub, run, out)
				continue
			}
			flushRun(run, out)
			run = nil
			collectLiterals(sub, out)
		}
		flushRun(run, out)
	}
}

// appendRuns extends run with a literal's usable runes, flushing the run
// at each rune that cannot be part of a needle; it returns the open run.
func appendRuns(re *syntax.Regexp, run []byte, out *[]string) []byte {
	fold := re.Flags&syntax.FoldCase != 0
	for _, r := range re.Rune {
		if r >= 0x80 || fold && (r == 's' || r == 'S') {
			flushRun(run, out)
			run = nil
			continue
		}
		c := byte(r)
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		run = append(run, c)
	}
	return run
}

func flushRun(run []byte, out *[]string) {
	if len(run) > 0 {
		*out = append(*out, string(run))
	}
}

func dedupeSorted(s []string) []string {
	var out []string
	for _, x := range s {
		dup := false
		for _, y := range out {
			if strings.Contains(y, x) {
				dup = true // implied by a longer one
				break
			}
		}
		if !dup {
			out = append(out, x)
		}
	}
	return out
}
