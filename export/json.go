package export

import (
	"encoding/json"
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
	return len(b) > 0 && b[0] == kind && utf8.Valid(b) && json.Valid(b)
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
