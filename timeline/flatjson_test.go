package timeline

import (
	"encoding/json"
	"strconv"
	"testing"
)

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

func TestFlatJSONStringsAgreesWithDecoding(t *testing.T) {
	fast := 0
	for _, d := range flatJSONSeeds {
		values := make([]string, len(partFields))
		if flatJSONStrings(d, partFields, values) {
			fast++
		}
		checkPartFields(t, d)
	}
	if fast < 8 {
		t.Fatalf("the fast path took %d of %d inputs; want the plain ones at least", fast, len(flatJSONSeeds))
	}
}

func checkPartFields(t *testing.T, d string) {
	t.Helper()
	var got part
	got.setFields(d, make([]string, len(partFields)))
	if want := partByMap(d); got != want {
		t.Fatalf("data %q: setFields gives %+v, decoding gives %+v", d, got, want)
	}
}

// FuzzFlatJSONStrings checks that the fast path reads what encoding/json
// reads, whatever the bytes.
func FuzzFlatJSONStrings(f *testing.F) {
	for _, d := range flatJSONSeeds {
		f.Add(d)
	}
	f.Fuzz(func(t *testing.T, d string) {
		values := make([]string, len(partFields))
		if !flatJSONStrings(d, partFields, values) {
			return
		}
		var fields map[string]any
		if err := json.Unmarshal([]byte(d), &fields); err != nil {
			t.Fatalf("data %q: taken as a flat object, but encoding/json says %v", d, err)
		}
		for i, name := range partFields {
			if values[i] != str(fields[name]) {
				t.Fatalf("data %q: %s is %q, encoding/json gives %q", d, name, values[i], fields[name])
			}
		}
		for k, v := range fields {
			if _, ok := v.(string); !ok {
				t.Fatalf("data %q: taken as all strings, but %s is %T", d, k, v)
			}
		}
	})
}
