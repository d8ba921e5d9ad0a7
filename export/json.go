package export

import (
	"encoding/binary"
	"strconv"
	"unicode/utf8"
	"unsafe"

	"triage/timeline"
)

// str appends b as a JSON string, escaped as encoding/json does; invalid
// UTF-8 becomes U+FFFD, so the same bytes always give the same line.
func str(dst, b []byte) []byte {
	// AppendJSONString only reads its argument: viewing the bytes as a
	// string spares a copy of every field of every event.
	return timeline.AppendJSONString(dst, unsafe.String(unsafe.SliceData(b), len(b)))
}

// key appends `"name":`; name is a literal of this package, plain ASCII.
func key(dst []byte, name string) []byte {
	dst = append(dst, '"')
	dst = append(dst, name...)
	return append(dst, '"', ':')
}

// field appends `,"name":"value"`.
func field(dst []byte, name string, value []byte) []byte {
	return str(key(append(dst, ','), name), value)
}

// fieldString appends `,"name":"value"` for a literal value.
func fieldString(dst []byte, name, value string) []byte {
	return timeline.AppendJSONString(key(append(dst, ','), name), value)
}

// fieldInt appends `,"name":v`.
func fieldInt(dst []byte, name string, v int64) []byte {
	return strconv.AppendInt(key(append(dst, ','), name), v, 10)
}

// fieldBool appends `,"name":v`.
func fieldBool(dst []byte, name string, v bool) []byte {
	return strconv.AppendBool(key(append(dst, ','), name), v)
}

// rawJSON appends b, a JSON column of the timeline, as it is if it is the
// JSON value of the kind wanted ('{' object, '[' array), else as a string
// of its bytes: the column is ours, but a damaged or edited database must
// not make a line that does not parse.
func rawJSON(dst, b []byte, kind byte) []byte {
	if isJSON(b, kind) {
		return append(dst, b...)
	}
	return str(dst, b)
}

func isJSON(b []byte, kind byte) bool {
	if len(b) == 0 || b[0] != kind || !utf8.Valid(b) {
		return false
	}
	return kind == '{' && isStringObject(b) || validJSON(b)
}

// isStringObject reports whether b is a JSON object whose values are all
// strings, written without spaces, as the timeline stores an event log
// record's fields. It is the common case, checked at a fraction of what
// json.Valid costs; false sends b to json.Valid.
func isStringObject(b []byte) bool {
	if len(b) < 2 || b[0] != '{' || b[len(b)-1] != '}' {
		return false
	}
	if len(b) == 2 {
		return true
	}
	i := 1
	for {
		if i = validString(b, i); i < 0 || i >= len(b) || b[i] != ':' {
			return false
		}
		if i = validString(b, i+1); i < 0 || i >= len(b) {
			return false
		}
		switch b[i] {
		case ',':
			i++
		case '}':
			return i == len(b)-1
		default:
			return false
		}
	}
}

// validString checks the JSON string at b[i] and returns the index past
// it, or -1.
func validString(b []byte, i int) int {
	if i >= len(b) || b[i] != '"' {
		return -1
	}
	for i++; i < len(b); i++ {
		i += quietPrefix(b[i:])
		if i >= len(b) {
			break
		}
		switch c := b[i]; {
		case c == '"':
			return i + 1
		case c < 0x20:
			return -1
		case c == '\\':
			i++
			if i >= len(b) {
				return -1
			}
			switch b[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if i+4 >= len(b) || !isHex(b[i+1]) || !isHex(b[i+2]) || !isHex(b[i+3]) || !isHex(b[i+4]) {
					return -1
				}
				i += 4
			default:
				return -1
			}
		}
	}
	return -1
}

// quietPrefix is the length of the longest prefix of b, in whole eight-
// byte words, with no quote, backslash or control character: a string's
// text, which validString then need not test byte by byte. Bytes above
// 0x7f are quiet; isJSON checks UTF-8 on its own.
func quietPrefix(b []byte) int {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	i := 0
	for ; i+8 <= len(b); i += 8 {
		w := binary.LittleEndian.Uint64(b[i:])
		q, s := w^'"'*ones, w^'\\'*ones
		// The classic zero-byte and below-a-bound tests: they flag
		// spuriously only above a true hit, so any flag stops the word.
		if ((w-0x20*ones)&^w|(q-ones)&^q|(s-ones)&^s)&highs != 0 {
			break
		}
	}
	return i
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// eachMember calls fn with the raw key (quoted, escaped) and raw value of
// each member of obj, a valid JSON object (isJSON), in order.
func eachMember(obj []byte, fn func(key, value []byte)) {
	i := skipSpace(obj, 1)
	for i < len(obj) && obj[i] == '"' {
		k := stringEnd(obj, i)
		key := obj[i:k]
		i = skipSpace(obj, k)
		i = skipSpace(obj, i+1) // the colon
		v := valueEnd(obj, i)
		fn(key, obj[i:v])
		i = skipSpace(obj, v)
		if i < len(obj) && obj[i] == ',' {
			i = skipSpace(obj, i+1)
		}
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// stringEnd is the index just past the string that starts at b[i] == '"'.
func stringEnd(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return len(b)
}

// valueEnd is the index just past the value that starts at b[i].
func valueEnd(b []byte, i int) int {
	if i < len(b) && b[i] == '"' {
		return stringEnd(b, i)
	}
	depth := 0
	for ; i < len(b); i++ {
		switch c := b[i]; c {
		case '"':
			i = stringEnd(b, i) - 1
		case '{', '[':
			depth++
		case '}', ']':
			if depth == 0 {
				return i
			}
			depth--
		case ',', ' ', '\t', '\n', '\r':
			if depth == 0 {
				return i
			}
		}
	}
	return i
}

// stringValue appends value, a raw JSON value, as a JSON string: a string
// as it is, anything else as its JSON text quoted. Target platforms map a
// field to one type, and the same Windows event field may hold a number in
// one record and text in the next.
func stringValue(dst, value []byte) []byte {
	if len(value) > 0 && value[0] == '"' {
		return append(dst, value...)
	}
	return str(dst, value)
}

func appendInt(dst []byte, v int64) []byte { return strconv.AppendInt(dst, v, 10) }

// quotedInt appends v as a JSON string, as ECS's keyword fields that hold
// numbers (event.code, winlog.record_id) want it.
func quotedInt(dst []byte, v int64) []byte {
	return append(strconv.AppendInt(append(dst, '"'), v, 10), '"')
}

// prefixed appends the JSON string of prefix followed by b; prefix is a
// literal of this package, plain ASCII.
func prefixed(dst []byte, prefix string, b []byte) []byte {
	dst = append(dst, '"')
	dst = append(dst, prefix...)
	pos := len(dst)
	dst = str(dst, b)
	return append(dst[:pos], dst[pos+1:]...) // drop the quote that opened b's string
}
