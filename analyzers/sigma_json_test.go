package analyzers

import (
	"encoding/json"
	"math/rand"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestJSONStringAgreesWithEncodingJSON checks the hand-written string
// reader against encoding/json on strings full of escapes.
func TestJSONStringAgreesWithEncodingJSON(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	pieces := []string{`a`, `\\`, `\"`, `\/`, `\n`, `\t`, `\r`, `\b`, `\f`, `\u0041`, `\u00e9`, `\ud83d\ude00`, `\ud800`, `\x`, "\xff", "é", "\x01", `C:\\Windows\\`}
	for i := 0; i < 20000; i++ {
		s := `"`
		for j := rng.Intn(6); j >= 0; j-- {
			s += pieces[rng.Intn(len(pieces))]
		}
		s += `"`
		if !utf8.ValidString(s) && !strings.Contains(s, `\`) {
			continue // kept verbatim without a copy; the timeline writes valid UTF-8
		}
		var want string
		wantErr := json.Unmarshal([]byte(s), &want)
		got, n, err := jsonString(s, 0)
		if (err != nil) != (wantErr != nil) || err == nil && (got != want || n != len(s)) {
			t.Fatalf("jsonString(%s) = %q, %d, %v; encoding/json %q, %v", s, got, n, err, want, wantErr)
		}
	}
}
