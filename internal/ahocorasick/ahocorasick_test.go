package ahocorasick

import (
	"math/rand"
	"strings"
	"testing"
)

func TestAutomatonFindsEveryOccurrence(t *testing.T) {
	// With a needle of one byte every pair may begin one; without, the
	// scan skips the positions where no needle's first two bytes are.
	for _, needles := range [][]string{
		{"he", "she", "his", "hers", "a", "ab", "bab", "xyz", "\\x"},
		{"he", "she", "his", "hers", "ab", "bab", "xyz", "\\x", "a:", "zz"},
	} {
		checkEveryOccurrence(t, needles)
	}
	// The table is built once the automaton has scanned as many bytes as
	// it has entries.
	a := New([]string{"he", "she"})
	for i := int64(0); a.table.Load() == nil && i <= a.tableAt; i++ {
		a.FindFolded("x", func(int) {})
	}
	if a.table.Load() == nil {
		t.Error("the table is never built")
	}
}

func checkEveryOccurrence(t *testing.T, needles []string) {
	t.Helper()
	texts := []string{"ushers", "ahishers", "babab", "HeRs", "xyzxyz", "", "émile she", "C:\\X\\x", "\xff\x00he", "A:", "h", "zz"}
	// Random texts over the needles' letters, so that near misses abound.
	rng := rand.New(rand.NewSource(1))
	for i := 0; i < 500; i++ {
		b := make([]byte, rng.Intn(40))
		for j := range b {
			const letters = "aAbBehHirsSxyzZ:\\-"
			b[j] = letters[rng.Intn(len(letters))]
		}
		texts = append(texts, string(b))
	}
	for _, table := range []bool{false, true} {
		a := New(needles)
		if table {
			a.buildTable()
			if a.table.Load() == nil {
				t.Fatal("no table built")
			}
		} else {
			a.tableAt = -1 // not by the scanned bytes: the case says which
		}
		for _, text := range texts {
			got := map[string]int{}
			a.FindFolded(text, func(i int) { got[needles[i]]++ })
			low := strings.ToLower(text)
			found := false
			for _, n := range needles {
				if overlapping(low, n) != got[n] {
					t.Errorf("table %v: %q in %q: %d, want %d", table, n, text, got[n], overlapping(low, n))
				}
				found = found || got[n] > 0
			}
			if a.ContainsAny(low) != found {
				t.Errorf("table %v: ContainsAny(%q) = %v, want %v", table, low, !found, found)
			}
		}
	}
}

// FuzzAutomaton: every occurrence of every needle, folded, as a naive
// search counts them, with and without the table.
func FuzzAutomaton(f *testing.F) {
	f.Add("he\nshe\nhers", "uSHErs and hers")
	f.Add("a\n::\nrpc::", "RPC::x a")
	f.Fuzz(func(t *testing.T, list, text string) {
		var needles []string
		for _, n := range strings.Split(list, "\n") {
			if n = strings.ToLower(n); n != "" && len(needles) < 64 {
				needles = append(needles, n)
			}
		}
		if len(needles) == 0 {
			return
		}
		low := strings.ToLower(text)
		for _, table := range []bool{false, true} {
			a := New(needles)
			if table {
				a.buildTable()
			} else {
				a.tableAt = -1
			}
			got := map[string]int{} // a repeated needle is reported as one of its copies
			a.FindFolded(text, func(i int) { got[needles[i]]++ })
			for _, n := range needles {
				if want := overlapping(low, n); got[n] != want {
					t.Fatalf("table %v: %q in %q: %d, want %d", table, n, text, got[n], want)
				}
			}
		}
	})
}

func overlapping(s, n string) int {
	c := 0
	for i := 0; i+len(n) <= len(s); i++ {
		if s[i:i+len(n)] == n {
			c++
		}
	}
	return c
}

// TestIsASCII: a byte past 0x7f anywhere, in the words or the tail.
func TestIsASCII(t *testing.T) {
	for n := 0; n <= 19; n++ {
		text := []byte(strings.Repeat("a", n))
		if !IsASCII(text) || !IsASCII(string(text)) {
			t.Fatalf("%d ASCII bytes: not ASCII", n)
		}
		for i := range text {
			text[i] = 0x80
			if IsASCII(text) || IsASCII(string(text)) {
				t.Fatalf("0x80 at %d of %d: ASCII", i, n)
			}
			text[i] = 'a'
		}
	}
}
