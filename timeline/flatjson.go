package timeline

import (
	"encoding/json"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// ReadFlatJSON reads d as a JSON object of string values, the shape Encode
// writes an event's data in, calling add with each key and value in
// order. It reports false for anything else (a value other than a string,
// bad JSON), when add may have been called for some of the keys and the
// caller decodes d with encoding/json instead; the strings are those
// encoding/json gives. Reading that shape by hand is several times faster
// than encoding/json into a map, which matters at a million events.
func ReadFlatJSON(d string, add func(key, value string)) bool {
	i := skipSpace(d, 0)
	if i >= len(d) || d[i] != '{' {
		return false
	}
	i = skipSpace(d, i+1)
	if i < len(d) && d[i] == '}' {
		return skipSpace(d, i+1) == len(d)
	}
	for {
		k, n, ok := jsonString(d, i)
		if !ok {
			return false
		}
		if i = skipSpace(d, n); i >= len(d) || d[i] != ':' {
			return false
		}
		v, n, ok := jsonString(d, skipSpace(d, i+1))
		if !ok {
			return false
		}
		add(k, v)
		if i = skipSpace(d, n); i >= len(d) {
			return false
		}
		switch d[i] {
		case ',':
			i = skipSpace(d, i+1)
		case '}':
			return skipSpace(d, i+1) == len(d)
		default:
			return false
		}
	}
}

func skipSpace(d string, i int) int {
	for i < len(d) && (d[i] == ' ' || d[i] == '\n' || d[i] == '\t' || d[i] == '\r') {
		i++
	}
	return i
}

// jsonString reads the JSON string at d[i], returning it and the index
// after its closing quote. A string without escapes is a piece of d, not
// a copy.
func jsonString(d string, i int) (string, int, bool) {
	if i >= len(d) || d[i] != '"' {
		return "", 0, false
	}
	j := i + 1
	for j < len(d) && d[j] != '"' && d[j] != '\\' && d[j] >= 0x20 {
		j++
	}
	if j < len(d) && d[j] == '"' {
		if s := d[i+1 : j]; utf8.ValidString(s) {
			return s, j + 1, true
		}
		return jsonStringSlow(d, i) // which replaces bad bytes
	}
	// Escapes: Windows paths are full of \\, so the usual ones are read
	// here; anything else (a bad escape, a control character, a lone
	// surrogate) is left to encoding/json, which knows every rule.
	b := make([]byte, 0, len(d)-i)
	b = append(b, d[i+1:j]...)
	for k := j; k < len(d); k++ {
		c := d[k]
		switch {
		case c == '"':
			if !utf8.Valid(b) {
				return jsonStringSlow(d, i)
			}
			return string(b), k + 1, true
		case c < 0x20:
			return jsonStringSlow(d, i)
		case c != '\\':
			b = append(b, c)
			continue
		}
		if k+1 >= len(d) {
			return "", 0, false
		}
		k++
		switch d[k] {
		case '"', '\\', '/':
			b = append(b, d[k])
		case 'n':
			b = append(b, '\n')
		case 't':
			b = append(b, '\t')
		case 'r':
			b = append(b, '\r')
		case 'b':
			b = append(b, '\b')
		case 'f':
			b = append(b, '\f')
		case 'u':
			r, ok := hex4(d, k+1)
			if !ok || utf16.IsSurrogate(r) {
				return jsonStringSlow(d, i)
			}
			b = utf8.AppendRune(b, r)
			k += 4
		default:
			return jsonStringSlow(d, i)
		}
	}
	return "", 0, false
}

func hex4(d string, i int) (rune, bool) {
	if i+4 > len(d) {
		return 0, false
	}
	v, err := strconv.ParseUint(d[i:i+4], 16, 16)
	return rune(v), err == nil
}

// jsonStringSlow reads the string at d[i] with encoding/json.
func jsonStringSlow(d string, i int) (string, int, bool) {
	k := i + 1
	for k < len(d) && d[k] != '"' {
		if d[k] == '\\' {
			k++
		}
		k++
	}
	if k >= len(d) {
		return "", 0, false
	}
	var s string
	if err := json.Unmarshal([]byte(d[i:k+1]), &s); err != nil {
		return "", 0, false
	}
	return s, k + 1, true
}
