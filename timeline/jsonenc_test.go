package timeline

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"testing"
	"time"
)

// TestAppendJSONMatchesEncodingJSON: the data column must keep the bytes
// encoding/json gave, or reruns against older outputs would differ.
func TestAppendJSONMatchesEncodingJSON(t *testing.T) {
	for _, v := range []any{
		map[string]any{},
		map[string]any{"b": "x", "a": 1, "A": true, "é": int64(-3), "n": nil, "u": uint32(1 << 31)},
		map[string]any{"s": []string{"a", "<b>"}, "nil": []string(nil), "m": []map[string]any{{"k": "v"}}, "nm": []map[string]any(nil)},
		map[string]any{"f": 1.5, "t": time.Unix(0, 0).UTC(), "i": []int{1}, "obj": map[string]any{"z": "", "y": map[string]any(nil)}},
		"plain", "quote \" backslash \\ slash / <script>&amp;</script>",
		"\x00\x01\x08\x09\x0a\x0b\x0c\x0d\x1f\x7f", "bad utf-8 \xff\xfe end \xe2\x82", "sep \u2028 \u2029 é 日本 😀",
	} {
		want, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		got, err := appendJSON(nil, v)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Errorf("appendJSON(%#v)\n got %s\nwant %s", v, got, want)
		}
	}
}

func FuzzAppendJSONString(f *testing.F) {
	for _, s := range []string{"", "a<b>&c", "\x00\xff\u2028", "日本\"\\"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, _ := json.Marshal(map[string]any{s: s})
		got, _ := appendJSON(nil, map[string]any{s: s})
		if string(got) != string(want) {
			t.Errorf("%q: got %s, want %s", s, got, want)
		}
	})
}

// TestAppendJSONString checks the hand-written encoder against
// encoding/json, which the data column and the dump's output were first written with.
func TestAppendJSONString(t *testing.T) {
	cases := []string{"", "plain", `quote " and \ backslash`, "<script>&amp;</script>",
		"\x00\x01\b\f\n\r\t\x1f\x7f", "caf\u00e9 \u2028 \u2029 \U0001F600", "bad \xff\xfe utf8 \xe2\x82",
		"S-1-5-21-1004336348-1177238915-682003330-512", "C:\\Windows\\System32\\cmd.exe"}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		b := make([]byte, rng.IntN(40))
		for i := range b {
			b[i] = byte(rng.IntN(256))
			if rng.IntN(2) == 0 {
				const tricky = "\"\\<>&\n\x00a\u2028"
				b[i] = tricky[rng.IntN(len(tricky))]
			}
		}
		cases = append(cases, string(b))
	}
	// Every byte value at every place of a word, among plain bytes.
	for c := range 256 {
		for at := range 17 {
			b := []byte("abcdefghijklmnopq")
			b[at] = byte(c)
			cases = append(cases, string(b), string(b[:at+1]))
		}
	}
	for _, s := range cases {
		want, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := AppendJSONString(nil, s); !bytes.Equal(got, want) {
			t.Errorf("%q: got %s, want %s", s, got, want)
		}
	}
}
