package timeline

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"triage/internal/testcorpus"
	"triage/parsers/evtx"
	"triage/parsers/prefetch"
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

// TestFromPrefetchDataColumn: the data FromPrefetch encodes once per file
// must be the bytes encoding each event's Data gives, for every KAPE
// prefetch file.
func TestFromPrefetchDataColumn(t *testing.T) {
	root := testcorpus.Dir(t, "kape", "APTSIM-WIN10")
	n := 0
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.EqualFold(filepath.Ext(p), ".pf") {
			return err
		}
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		st, _ := f.Stat()
		pf, _ := prefetch.Parse(f, st.Size())
		if pf == nil || pf.Version == 0 {
			return nil
		}
		for _, e := range FromPrefetch("host", 1, pf) {
			want, err := json.Marshal(e.Data)
			if err != nil {
				t.Fatal(err)
			}
			if err := e.Encode(); err != nil {
				t.Fatal(err)
			}
			if e.data != string(want) {
				t.Fatalf("%s: data column\n got %s\nwant %s", p, e.data, want)
			}
			n++
		}
		return nil
	})
	if n == 0 {
		t.Fatal("no prefetch run times in the KAPE collection")
	}
}

// TestFromEVTXProcessExit: a Security 4689 names the exited program as its
// process and its account as 4688 does, and keeps ProcessId and Status in
// the data, where the analyzers pair the exit with its start.
func TestFromEVTXProcessExit(t *testing.T) {
	rec := &evtx.Record{System: evtx.System{Provider: providerSecurity, EventID: 4689, Channel: "Security",
		TimeCreated: time.Date(2024, 3, 1, 10, 0, 5, 0, time.UTC), EventRecordID: 77}, Data: []evtx.Field{
		{Name: "SubjectUserName", Value: "alice"}, {Name: "SubjectDomainName", Value: "CORP"},
		{Name: "Status", Value: "0x0"}, {Name: "ProcessId", Value: "0x1a2c"}, {Name: "ProcessName", Value: `C:\Windows\System32\cmd.exe`}}}
	e := FromEVTX("host", 1, rec)
	if e.Process != `C:\Windows\System32\cmd.exe` || e.User != `CORP\alice` || e.CommandLine != "" {
		t.Errorf("process %q, user %q, command line %q", e.Process, e.User, e.CommandLine)
	}
	if e.Summary != "cmd.exe exited with status 0x0" {
		t.Errorf("summary %q", e.Summary)
	}
	if err := e.Encode(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(e.data, `"ProcessId":"0x1a2c"`) || !strings.Contains(e.data, `"Status":"0x0"`) {
		t.Errorf("data %s", e.data)
	}
	if c := CategoryOf(e.Source, e.Provider, e.EventID); c != CategoryProcessEnd {
		t.Errorf("category %v", c)
	}
}
