// Package printable makes evidence-derived text safe to print on a terminal
// or in a line-oriented log. A file name, host name or error that quotes one
// comes from the evidence: a newline in it would forge a line of run.log, an
// escape sequence would reach the examiner's terminal. The original bytes
// stay as they are everywhere else (the database, the manifest); only what
// is printed for people to read goes through Escape.
//
// Every stage may import it: it holds no stage logic.
package printable

import (
	"strings"
	"unicode/utf8"
)

// Escape returns s with every byte or character that could change how the
// text around it is read replaced by a visible escape:
//   - C0 controls (tab and newline included) and DEL as \xNN;
//   - bytes that are not valid UTF-8 as \xNN, so a name that is not UTF-8
//     shows its bytes as they are on disk rather than re-encoded;
//   - C1 controls (U+0080–U+009F), the Unicode line and paragraph
//     separators and the bidirectional overrides and isolates, which
//     reorder what a terminal shows, as \uNNNN.
//
// Backslashes are kept, so Windows paths stay readable; a name that spells
// "\x0a" itself reads the same as one holding a newline, and the byte-exact
// name is in the manifest for that case. Text that needs no escaping is
// returned as is, without allocating.
func Escape(s string) string {
	i := firstUnsafe(s)
	if i == len(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	b.WriteString(s[:i])
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			writeByte(&b, s[i])
		case r < 0x20 || r == 0x7f:
			writeByte(&b, byte(r))
		case unsafeRune(r):
			writeRune(&b, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// firstUnsafe is the index of the first byte Escape changes, or len(s).
func firstUnsafe(s string) int {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == 0x7f {
				return i
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 || unsafeRune(r) {
			return i
		}
		i += size
	}
	return len(s)
}

// unsafeRune reports the non-ASCII characters Escape replaces.
func unsafeRune(r rune) bool {
	switch {
	case r >= 0x80 && r <= 0x9f: // C1 controls; U+009B is a CSI to some terminals
		return true
	case r == 0x2028 || r == 0x2029: // line and paragraph separators
		return true
	case r >= 0x202a && r <= 0x202e: // bidirectional embeddings and overrides
		return true
	case r >= 0x2066 && r <= 0x2069: // bidirectional isolates
		return true
	}
	return false
}

const hexDigits = "0123456789abcdef"

func writeByte(b *strings.Builder, c byte) {
	b.WriteString(`\x`)
	b.WriteByte(hexDigits[c>>4])
	b.WriteByte(hexDigits[c&0xf])
}

func writeRune(b *strings.Builder, r rune) {
	b.WriteString(`\u`)
	for shift := 12; shift >= 0; shift -= 4 {
		b.WriteByte(hexDigits[r>>shift&0xf])
	}
}
