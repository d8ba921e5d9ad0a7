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
