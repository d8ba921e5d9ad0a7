package analyzers

import (
	"crypto/sha256"
	"encoding/hex"
	"sort"
	"strings"
	"testing"

	"triage/analyzers/sigma"
)

// TestSigmaSetSHA256 checks the set's hash against its definition: SHA-256
// of the sorted file SHA-256s, each on a line, for no file too.
func TestSigmaSetSHA256(t *testing.T) {
	for _, sums := range [][]string{nil, {"b"}, {"c", "a", "b", "a"}} {
		c := &sigma.Collection{}
		for _, s := range sums {
			c.Files = append(c.Files, sigma.RuleFile{SHA256: s})
		}
		sorted := append([]string(nil), sums...)
		sort.Strings(sorted)
		h := sha256.Sum256([]byte(strings.Join(sorted, "\n") + "\n"))
		s := &SigmaRules{Collection: c}
		if got, want := s.SetSHA256(), hex.EncodeToString(h[:]); got != want || s.SetSHA256() != want {
			t.Errorf("%q: SetSHA256 %s, want %s", sums, got, want)
		}
	}
}
