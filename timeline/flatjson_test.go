package timeline

import (
	"encoding/json"
	"math/rand"
	"strconv"
	"testing"
)

// TestJSONStringAgreesWithEncodingJSON checks the hand-written string
// reader against encoding/json on strings full of escapes.
func TestJSONStringAgreesWithEncodingJSON(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	pieces := []string{`a`, `\\`, `\"`, `\/`, `\n`, `\t`, `\r`, `\b`, `\f`, `\u0041`, `\u00e9`, `\ud83d\ude00`, `\ud800`, `\x`, "\xff", "é", "\x01", `C:\\Windows\\`}
	for i := 0; i < 20000; i++ {
		s := `"`
		for j := rng.Intn(6); j >= 0; j-- {
			s += pieces[rng.Intn(len(pieces))]
		}
		s += `"`
		var want string
		wantErr := json.Unmarshal([]byte(s), &want)
		got, n, ok := jsonString(s, 0)
		if ok != (wantErr == nil) || ok && (got != want || n != len(s)) {
			t.Fatalf("jsonString(%s) = %q, %d, %v; encoding/json %q, %v", s, got, n, ok, want, wantErr)
		}
	}
}

// partByMap is the part decoding the whole object gives.
func partByMap(data string) part {
	var fields map[string]any
	json.Unmarshal([]byte(data), &fields)
	var p part
	p.number, _ = strconv.Atoi(str(fields["MessageNumber"]))
	p.total, _ = strconv.Atoi(str(fields["MessageTotal"]))
	p.text, p.path = str(fields["ScriptBlockText"]), str(fields["Path"])
	return p
}

var flatJSONSeeds = []string{
	`{"MessageNumber":"1","MessageTotal":"1","Path":"","ScriptBlockId":"0003","ScriptBlockText":"Get-ChildItem -Path C:\\Data\\3 | Select-Object FullName"}`,
	`{"MessageNumber":"2","MessageTotal":"3","Path":"C:\\TMP\\a.ps1","ScriptBlockText":"\u003c#\nPoC\t\"x\"\r\n#\u003e \u00e9\u4e2d \/"}`,
	`{}`, ` { } `, `{"MessageNumber":2}`, `{"ScriptBlockText":null}`, `{"ScriptBlockText":"a","ScriptBlockText":"b"}`,
	`{"ScriptBlockText":"\ud83d\ude00"}`, `{"ScriptBlockText":"\ud800"}`, `{"Path":"` + "\xff" + `"}`,
	`{"Path":"a"`, `{"Path":"a",}`, `{"Path":"a"} x`, `{"Path":"\x01"}`, `{"Pa\u0074h":"escaped key"}`,
	`{"path":"other case"}`, `[]`, ``, `{"Path":"\q"}`, `{"Path":"\u12"}`, `{"Path":"é ü 中"}`,
}

// The 4104 reassembly's fields are those of decoding the whole object.
func TestPartFieldsAgreeWithDecoding(t *testing.T) {
	for _, d := range flatJSONSeeds {
		var got part
		got.setFields(d)
		if want := partByMap(d); got != want {
			t.Fatalf("data %q: setFields gives %+v, decoding gives %+v", d, got, want)
		}
	}
}

// FuzzReadFlatJSON checks that what ReadFlatJSON takes for an object of
// strings is one, with the strings encoding/json reads, whatever the bytes.
func FuzzReadFlatJSON(f *testing.F) {
	for _, d := range flatJSONSeeds {
		f.Add(d)
	}
	f.Fuzz(func(t *testing.T, d string) {
		got := map[string]string{}
		if !ReadFlatJSON(d, func(k, v string) { got[k] = v }) {
			return
		}
		var want map[string]any
		if err := json.Unmarshal([]byte(d), &want); err != nil {
			t.Fatalf("data %q: read as an object of strings, but encoding/json says %v", d, err)
		}
		if len(got) != len(want) {
			t.Fatalf("data %q: %d keys, encoding/json %d", d, len(got), len(want))
		}
		for k, v := range want {
			if s, ok := v.(string); !ok || got[k] != s {
				t.Fatalf("data %q: %s is %q, encoding/json gives %#v", d, k, got[k], v)
			}
		}
	})
}
