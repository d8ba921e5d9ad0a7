package main

import (
	"bytes"
	"reflect"
	"testing"

	"triage/analyzers"
	"triage/ingest"
)

// hostileStrings hold every class of byte encoding/json escapes or
// replaces.
var hostileStrings = []string{
	"", "plain", `q"uote`, `back\slash`, "nl\ncr\rtab\tbs\bff\f", "\x00\x01\x1f\x7f",
	"<script>&amp;</script>", "line\u2028para\u2029", "bad\xff\xfeutf8\xc3", "\xe2\x80", "é ü 漢字 😀",
	"long plain ascii text past eight bytes < then more", "\u2028", "\\u2028",
}

func checkIndentedJSON(t *testing.T, m *manifestSigma) {
	t.Helper()
	want, err := ingest.MarshalSigma(m)
	if err != nil {
		t.Fatal(err)
	}
	if got := m.indentedJSON(); !bytes.Equal(got, want) {
		t.Errorf("indentedJSON:\n%s\nwant (MarshalSigma):\n%s", got, want)
	}
}

func TestManifestSigmaIndentedJSON(t *testing.T) {
	checkIndentedJSON(t, nil)
	checkIndentedJSON(t, &manifestSigma{})
	checkIndentedJSON(t, &manifestSigma{CommandLine: []string{}, Paths: []string{}, NotLoadedByReason: map[string]int{}, Rules: []analyzers.SigmaRuleRecord{}})
	var rules []analyzers.SigmaRuleRecord
	byReason := map[string]int{}
	for i, s := range hostileStrings {
		byReason[s] = i
		rules = append(rules, analyzers.SigmaRuleRecord{Path: s, Doc: i, Kind: s, Line: i % 3, FileSHA256: s, ID: s, Title: s, Status: s,
			Level: s, Author: s, References: hostileStrings[i:], State: s, Reason: s, Detail: s})
	}
	rules = append(rules, analyzers.SigmaRuleRecord{References: []string{}}, analyzers.SigmaRuleRecord{Doc: -7, Line: -1})
	checkIndentedJSON(t, &manifestSigma{CommandLine: hostileStrings, Paths: hostileStrings, RuleSetSHA256: "ab<", PlaceholdersFile: "p\n",
		PlaceholdersSHA256: "&", Files: 1 << 40, Loaded: -1, NotLoaded: 3, NotLoadedByReason: byReason, Rules: rules})

	// Every field set, so a field added to the record or its rules but not
	// to the appender shows.
	var full manifestSigma
	fill(reflect.ValueOf(&full).Elem())
	checkIndentedJSON(t, &full)
}

// fill sets every field of v, recursively, to a value that is not its
// zero value.
func fill(v reflect.Value) {
	switch v.Kind() {
	case reflect.String:
		v.SetString("x<" + v.Type().String())
	case reflect.Int:
		v.SetInt(42)
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 2, 2))
		for i := range 2 {
			fill(v.Index(i))
		}
	case reflect.Map:
		v.Set(reflect.MakeMap(v.Type()))
		for _, k := range []string{"b", "a"} {
			e := reflect.New(v.Type().Elem()).Elem()
			fill(e)
			v.SetMapIndex(reflect.ValueOf(k), e)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			fill(v.Field(i))
		}
	default:
		panic("fill: " + v.Kind().String())
	}
}

// FuzzSigmaRecordJSON checks the appender against encoding/json for
// strings of any bytes in a record's every string field and map key.
func FuzzSigmaRecordJSON(f *testing.F) {
	for i, s := range hostileStrings {
		f.Add(s, hostileStrings[len(hostileStrings)-1-i], i)
	}
	f.Fuzz(func(t *testing.T, a, b string, n int) {
		r := analyzers.SigmaRuleRecord{Path: a, Doc: n, Kind: b, Line: n, FileSHA256: a + b, ID: b, Title: a, Status: b,
			Level: a, Author: b, State: a, Reason: b, Detail: a}
		if n%2 == 0 {
			r.References = []string{a, b}
		}
		m := &manifestSigma{Paths: []string{b}, RuleSetSHA256: a, PlaceholdersFile: b, Files: n,
			NotLoadedByReason: map[string]int{a: n, b: 1}, Rules: []analyzers.SigmaRuleRecord{r, {Title: b}}}
		if n%3 == 0 {
			m.CommandLine = []string{a}
		}
		checkIndentedJSON(t, m)
	})
}
