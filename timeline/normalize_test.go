package timeline

import (
	"encoding/json"
	"testing"

	"triage/parsers/evtx"
)

// TestFromEVTXDataColumn: the data column FromEVTX's sorted fields give must
// be the bytes the map of every field gave before, for every KAPE record.
func TestFromEVTXDataColumn(t *testing.T) {
	recs := kapeEvents(t)
	if len(recs) == 0 {
		t.Fatal("no records in the KAPE collection")
	}
	for _, rec := range recs {
		e := FromEVTX("host", 1, rec)
		if err := e.Encode(); err != nil {
			t.Fatal(err)
		}
		if e.Data != nil {
			continue // the PowerShell events that merge parsed blocks still use the map
		}
		m := map[string]any{}
		for i, k := range evtx.FieldKeys(rec.Data) {
			m[k] = rec.Data[i].Value
		}
		want, _ := json.Marshal(m)
		if e.data != string(want) {
			t.Fatalf("record %d: data column\n got %s\nwant %s", rec.ID, e.data, want)
		}
	}
}

// TestSortedFieldsKeepsLastDuplicate: two fields with one key keep the
// later value, as assigning them to a map did.
func TestSortedFieldsKeepsLastDuplicate(t *testing.T) {
	// FieldKeys numbers the second X as "X#2", the key the third already has.
	fs := sortedFields([]evtx.Field{{Name: "b", Value: "1"}, {Name: "X", Value: "x"}, {Name: "X", Value: "y"}, {Name: "X#2", Value: "z"}})
	got := string(appendFields(nil, fs))
	if want := `{"X":"x","X#2":"z","b":"1"}`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}
