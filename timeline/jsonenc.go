package timeline

import (
	"encoding/json"
	"math/bits"
	"slices"
	"strconv"
	"unicode/utf8"
)

// appendJSON appends v as encoding/json would marshal it, byte for byte:
// map keys sorted, <, > and & escaped, invalid UTF-8 replaced. The data
// column is encoded for every event, and encoding/json's reflection over a
// map was a tenth of the ingest; the types the normalizers put in Data are
// written directly, anything else goes through encoding/json.
func appendJSON(dst []byte, v any) ([]byte, error) {
	switch v := v.(type) {
	case nil:
		return append(dst, "null"...), nil
	case string:
		return AppendJSONString(dst, v), nil
	case bool:
		return strconv.AppendBool(dst, v), nil
	case int:
		return strconv.AppendInt(dst, int64(v), 10), nil
	case int64:
		return strconv.AppendInt(dst, v, 10), nil
	case uint32:
		return strconv.AppendUint(dst, uint64(v), 10), nil
	case map[string]any:
		return appendJSONObject(dst, v)
	case []string:
		return AppendJSONStrings(dst, v), nil
	case []map[string]any:
		if v == nil {
			return append(dst, "null"...), nil
		}
		dst = append(dst, '[')
		for i, m := range v {
			if i > 0 {
				dst = append(dst, ',')
			}
			var err error
			if dst, err = appendJSONObject(dst, m); err != nil {
				return dst, err
			}
		}
		return append(dst, ']'), nil
	}
	b, err := json.Marshal(v)
	return append(dst, b...), err
}

// AppendJSONStrings appends list as encoding/json would marshal it: an
// array of strings, null when list is nil.
func AppendJSONStrings(dst []byte, list []string) []byte {
	if list == nil {
		return append(dst, "null"...)
	}
	dst = append(dst, '[')
	for i, s := range list {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = AppendJSONString(dst, s)
	}
	return append(dst, ']')
}

func appendJSONObject(dst []byte, m map[string]any) ([]byte, error) {
	if m == nil {
		return append(dst, "null"...), nil
	}
	var buf [32]string // events rarely have more fields; keeps the keys off the heap
	keys := buf[:0]
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	dst = append(dst, '{')
	for i, k := range keys {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = AppendJSONString(dst, k)
		dst = append(dst, ':')
		var err error
		if dst, err = appendJSON(dst, m[k]); err != nil {
			return dst, err
		}
	}
	return append(dst, '}'), nil
}

// jsonPlain marks the ASCII bytes encoding/json copies as they are.
var jsonPlain = func() (t [utf8.RuneSelf]bool) {
	for b := 0x20; b < utf8.RuneSelf; b++ {
		t[b] = b != '"' && b != '\\' && b != '<' && b != '>' && b != '&'
	}
	return t
}()

const hexDigits = "0123456789abcdef"

// AppendJSONString appends s quoted as encoding/json writes it by default:
// control characters, quote and backslash escaped, <, > and & as \u00XX
// (HTML-safe), invalid UTF-8 as \ufffd, and U+2028, U+2029 escaped.
func AppendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		// Nearly every string is plain ASCII: find its end eight bytes
		// at a time rather than testing each byte.
		if i += plainPrefix(s[i:]); i == len(s) {
			break
		}
		b := s[i]
		if b < utf8.RuneSelf {
			if jsonPlain[b] {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '"', '\\':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			// Valid JSON, but not valid JavaScript: encoding/json escapes them.
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// plainPrefix is the length of the longest prefix of s that encoding/json
// writes as is: printable ASCII but '"', '\\', '<', '>' and '&'.
func plainPrefix(s string) int {
	i := 0
	for ; i+8 <= len(s); i += 8 {
		if bad := escapeFlags(s[i : i+8]); bad != 0 {
			return i + bits.TrailingZeros64(bad)/8
		}
	}
	if i == len(s) {
		return i
	}
	if len(s) >= 8 {
		// The last eight bytes, overlapping plain ones already tested,
		// which raise no flag.
		if bad := escapeFlags(s[len(s)-8:]); bad != 0 {
			return len(s) - 8 + bits.TrailingZeros64(bad)/8
		}
		return len(s)
	}
	for ; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x80 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			break
		}
	}
	return i
}

// escapeFlags sets the high bit of each byte of t, eight bytes, that JSON
// escapes, and maybe of bytes above one: the classic tests for a byte
// below a bound, (x - n) &^ x, and for a zero byte of x ^ c, flag
// spuriously only above a true hit, so the lowest flag is the first byte
// to escape.
func escapeFlags(t string) uint64 {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	w := uint64(t[7])<<56 | uint64(t[6])<<48 | uint64(t[5])<<40 | uint64(t[4])<<32 |
		uint64(t[3])<<24 | uint64(t[2])<<16 | uint64(t[1])<<8 | uint64(t[0])
	// '"' and '&' differ only in bit 2, '<' and '>' only in bit 1.
	q := (w ^ '"'*ones) &^ (4 * ones)
	a := (w ^ '<'*ones) &^ (2 * ones)
	b := w ^ '\\'*ones
	return (w | (w-0x20*ones)&^w | (q-ones)&^q | (a-ones)&^a | (b-ones)&^b) & highs
}
