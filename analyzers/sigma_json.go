package analyzers

import (
	"encoding/json"
	"errors"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"

	"triage/analyzers/sigma"
)

var errNotFlat = errors.New("analyzers: data is not a flat JSON object of strings")

// decodeFlatJSON reads an events.data object into Sigma fields. The
// timeline writes evtx data as one object of string values; reading that
// shape by hand is several times faster than encoding/json into a map,
// which matters at a million events. Anything else goes through
// encoding/json.
func decodeFlatJSON(data string, f sigma.Fields) error {
	if err := decodeFlat(data, f); err == nil {
		return nil
	}
	clear(f)
	var m map[string]any
	if err := json.Unmarshal([]byte(data), &m); err != nil {
		return err
	}
	for k, v := range m {
		switch v := v.(type) {
		case string:
			f.Add(k, v)
		case nil:
			f.Add(k, "")
		default:
			b, _ := json.Marshal(v)
			f.Add(k, string(b))
		}
	}
	return nil
}

func decodeFlat(d string, f sigma.Fields) error {
	i := skipSpace(d, 0)
	if i >= len(d) || d[i] != '{' {
		return errNotFlat
	}
	i = skipSpace(d, i+1)
	if i < len(d) && d[i] == '}' {
		return nil
	}
	for {
		k, n, err := jsonString(d, i)
		if err != nil {
			return err
		}
		i = skipSpace(d, n)
		if i >= len(d) || d[i] != ':' {
			return errNotFlat
		}
		v, n, err := jsonString(d, skipSpace(d, i+1))
		if err != nil {
			return err
		}
		f.Add(k, v)
		i = skipSpace(d, n)
		if i >= len(d) {
			return errNotFlat
		}
		switch d[i] {
		case ',':
			i = skipSpace(d, i+1)
		case '}':
			return nil
		default:
			return errNotFlat
		}
	}
}

func skipSpace(d string, i int) int {
	for i < len(d) && (d[i] == ' ' || d[i] == '\n' || d[i] == '\t' || d[i] == '\r') {
		i++
	}
	return i
}

// jsonString reads a JSON string starting at d[i], returning it and the
// index after its closing quote. A string without escapes is a substring
// of d, not a copy.
func jsonString(d string, i int) (string, int, error) {
	if i >= len(d) || d[i] != '"' {
		return "", 0, errNotFlat
	}
	j := i + 1
	for j < len(d) && d[j] != '"' && d[j] != '\\' && d[j] >= 0x20 {
		j++
	}
	if j < len(d) && d[j] == '"' {
		return d[i+1 : j], j + 1, nil
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
				return jsonStringSlow(d, i) // which replaces bad bytes, as it always did here
			}
			return string(b), k + 1, nil
		case c < 0x20:
			return jsonStringSlow(d, i)
		case c != '\\':
			b = append(b, c)
			continue
		}
		if k+1 >= len(d) {
			return "", 0, errNotFlat
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
	return "", 0, errNotFlat
}

func hex4(d string, i int) (rune, bool) {
	if i+4 > len(d) {
		return 0, false
	}
	v, err := strconv.ParseUint(d[i:i+4], 16, 16)
	return rune(v), err == nil
}

// jsonStringSlow reads the string at d[i] with encoding/json.
func jsonStringSlow(d string, i int) (string, int, error) {
	k := i + 1
	for k < len(d) && d[k] != '"' {
		if d[k] == '\\' {
			k++
		}
		k++
	}
	if k >= len(d) {
		return "", 0, errNotFlat
	}
	var s string
	if err := json.Unmarshal([]byte(d[i:k+1]), &s); err != nil {
		return "", 0, err
	}
	return s, k + 1, nil
}
