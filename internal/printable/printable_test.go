package printable

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestEscape(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{`C:\Windows\System32\cmd.exe`, `C:\Windows\System32\cmd.exe`},
		{"Größe – 日本語.evtx", "Größe – 日本語.evtx"},
		{"a\nb", `a\x0ab`},
		{"a\r\n2024-01-01T00:00:00Z finished", `a\x0d\x0a2024-01-01T00:00:00Z finished`},
		{"tab\there", `tab\x09here`},
		{"\x1b[31mred\x1b[0m", `\x1b[31mred\x1b[0m`},
		{"nul\x00", `nul\x00`},
		{"del\x7f", `del\x7f`},
		{"latin1 \xe9t\xe9", `latin1 \xe9t\xe9`},   // not UTF-8: the bytes on disk
		{"cut \xe6\x97", `cut \xe6\x97`},           // a truncated sequence
		{"c1 \u009b31m", `c1 \u009b31m`},           // CSI as a character
		{"c1 \u0085next", `c1 \u0085next`},         // NEL
		{"evil\u202etxt.exe", `evil\u202etxt.exe`}, // right-to-left override
		{"iso\u2066x\u2069", `iso\u2066x\u2069`},
		{"line\u2028sep", `line\u2028sep`},
		{"surrogate \xed\xa0\x80", `surrogate \xed\xa0\x80`},   // UTF-16 surrogate, invalid in UTF-8
		{"replacement \uFFFD kept", "replacement \uFFFD kept"}, // a real U+FFFD is text
	}
	for _, tt := range tests {
		if got := Escape(tt.in); got != tt.want {
			t.Errorf("Escape(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestEscapeLeavesNothingUnsafe checks every byte value alone and inside
// text: the result is valid UTF-8 with no control character.
func TestEscapeLeavesNothingUnsafe(t *testing.T) {
	for c := 0; c < 256; c++ {
		for _, s := range []string{string([]byte{byte(c)}), "x" + string([]byte{byte(c)}) + "y"} {
			checkSafe(t, s, Escape(s))
		}
	}
}

func checkSafe(t *testing.T, in, out string) {
	t.Helper()
	if !utf8.ValidString(out) {
		t.Fatalf("Escape(%q) = %q: not UTF-8", in, out)
	}
	for _, r := range out {
		if r < 0x20 || r == 0x7f || unsafeRune(r) {
			t.Fatalf("Escape(%q) = %q: holds %U", in, out, r)
		}
	}
}

func TestEscapeDoesNotCopySafeText(t *testing.T) {
	s := strings.Repeat(`C:\Users\ünïcode\`, 10)
	if n := testing.AllocsPerRun(100, func() { Escape(s) }); n != 0 {
		t.Errorf("Escape of safe text allocated %.0f times", n)
	}
}

func FuzzEscape(f *testing.F) {
	for _, s := range []string{"a\nb", "\xe9", "\u202e", "\x1b[0m", "ok"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := Escape(s)
		checkSafe(t, s, out)
		if firstUnsafe(s) == len(s) && out != s {
			t.Fatalf("Escape(%q) changed safe text to %q", s, out)
		}
	})
}
