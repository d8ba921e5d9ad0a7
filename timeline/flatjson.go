package timeline

import "unicode/utf8"

// flatJSONStrings reads a JSON object whose values are all strings, as
// Encode writes an event's data, and puts the value of each key in keys at
// the same index in values (the last one, for a key given twice; "" for a
// key not there). It reports false for anything else (a value other than a
// string, a surrogate escape, bad UTF-8, bad JSON), which the caller
// decodes with encoding/json instead: this is the fast way to the same
// strings, not another reading of them. The 4104 reassembly decoded every
// fragment's data into a map, two fifths of its time on a log of 350k
// script blocks.
func flatJSONStrings(d string, keys []string, values []string) bool {
	clear(values)
	i := skipSpace(d, 0)
	if i >= len(d) || d[i] != '{' {
		return false
	}
	i = skipSpace(d, i+1)
	if i < len(d) && d[i] == '}' {
		return skipSpace(d, i+1) == len(d)
	}
	var buf []byte
	for {
		key, next, ok := jsonString(d, i, &buf)
		if !ok {
			return false
		}
		if i = skipSpace(d, next); i >= len(d) || d[i] != ':' {
			return false
		}
		want := -1
		for k, name := range keys {
			if name == key {
				want = k
			}
		}
		value, next, ok := jsonString(d, skipSpace(d, i+1), &buf)
		if !ok {
			return false
		}
		if want >= 0 {
			values[want] = value
		}
		if i = skipSpace(d, next); i >= len(d) {
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
	for i < len(d) && (d[i] == ' ' || d[i] == '\t' || d[i] == '\n' || d[i] == '\r') {
		i++
	}
	return i
}

// jsonString decodes the JSON string at d[i:], returning it (a piece of d
// when it has no escapes) and the index after its closing quote; buf is
// scratch space for the escaped.
func jsonString(d string, i int, buf *[]byte) (string, int, bool) {
	if i >= len(d) || d[i] != '"' {
		return "", 0, false
	}
	start := i + 1
	plain := true
	b := (*buf)[:0]
	for i = start; i < len(d); {
		c := d[i]
		switch {
		case c == '"':
			s := d[start:i]
			if !plain {
				*buf = b
				s = string(b)
			}
			if !utf8.ValidString(s) {
				return "", 0, false
			}
			return s, i + 1, true
		case c < 0x20:
			return "", 0, false
		case c == '\\':
			if plain {
				b = append(b, d[start:i]...)
				plain = false
			}
			if i+1 >= len(d) {
				return "", 0, false
			}
			switch e := d[i+1]; e {
			case '"', '\\', '/':
				b = append(b, e)
			case 'b':
				b = append(b, '\b')
			case 'f':
				b = append(b, '\f')
			case 'n':
				b = append(b, '\n')
			case 'r':
				b = append(b, '\r')
			case 't':
				b = append(b, '\t')
			case 'u':
				r, ok := hex4(d, i+2)
				if !ok || 0xd800 <= r && r < 0xe000 {
					return "", 0, false // surrogates: encoding/json pairs them
				}
				b = utf8.AppendRune(b, r)
				i += 4
			default:
				return "", 0, false
			}
			i += 2
		default:
			if !plain {
				b = append(b, c)
			}
			i++
		}
	}
	return "", 0, false
}

func hex4(d string, i int) (rune, bool) {
	if i+4 > len(d) {
		return 0, false
	}
	var r rune
	for _, c := range []byte(d[i : i+4]) {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}
