package sigma

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// compileOne compiles a one-document rule or fails the test.
func compileOne(t *testing.T, src string, opts LoadOptions) *Rule {
	t.Helper()
	c := &Collection{}
	c.Add("test.yml", []byte(src), opts)
	c.resolve()
	if len(c.Refused) > 0 {
		t.Fatalf("refused: %v", c.Refused[0])
	}
	if len(c.Rules) != 1 {
		t.Fatalf("want 1 rule, got %d", len(c.Rules))
	}
	return c.Rules[0]
}

func refusalOf(t *testing.T, src string) Refusal {
	t.Helper()
	c := &Collection{}
	c.Add("test.yml", []byte(src), LoadOptions{})
	if len(c.Refused) != 1 {
		t.Fatalf("want a refusal, got rules %d refusals %v", len(c.Rules), c.Refused)
	}
	return c.Refused[0]
}

// ruleWith builds a process_creation rule from a detection body.
func ruleWith(detection string) string {
	return "title: t\nid: 00000000-0000-0000-0000-000000000001\nlogsource:\n  product: windows\n  category: process_creation\ndetection:\n" + detection
}

func ev(kv ...string) Fields {
	f := Fields{}
	for i := 0; i+1 < len(kv); i += 2 {
		f.Add(kv[i], kv[i+1])
	}
	return f
}

type vector struct {
	name  string
	f     Fields
	match bool
}

func check(t *testing.T, detection string, vs ...vector) {
	t.Helper()
	r := compileOne(t, ruleWith(detection), LoadOptions{})
	for _, v := range vs {
		if got := r.Match(v.f); got != v.match {
			t.Errorf("%s: %s: match %v, want %v", strings.ReplaceAll(strings.TrimSpace(detection), "\n", " / "), v.name, got, v.match)
		}
	}
}

func TestYAMLTypingKeepsSourceText(t *testing.T) {
	check(t, "  sel:\n    Details|contains: [00000429, 00050429]\n  condition: sel\n",
		vector{"octal-looking text", ev("Details", "DWORD (0x00000429)"), true},
		vector{"the number 429", ev("Details", "429"), false})
	check(t, "  sel:\n    EventID: 4688\n    Date: 2023-01-01\n    Hex: 0x10\n  condition: sel\n",
		vector{"texts", ev("EventID", "4688", "Date", "2023-01-01", "Hex", "0x10"), true},
		vector{"converted", ev("EventID", "4688", "Date", "2023-01-01T00:00:00Z", "Hex", "16"), false})
	check(t, "  sel:\n    Signed: true\n  condition: sel\n",
		vector{"bool as text", ev("Signed", "true"), true},
		vector{"false", ev("Signed", "false"), false})
	check(t, "  sel:\n    Mode: 0755\n  condition: sel\n",
		vector{"octal stays text", ev("Mode", "0755"), true},
		vector{"not 493", ev("Mode", "493"), false})
}

func TestCaseAndWildcards(t *testing.T) {
	check(t, "  sel:\n    Image: 'C:\\Windows\\System32\\cmd.exe'\n  condition: sel\n",
		vector{"case-insensitive", ev("Image", `c:\windows\SYSTEM32\CMD.EXE`), true},
		vector{"whole value", ev("Image", `c:\windows\system32\cmd.exe.bak`), false})
	check(t, "  sel:\n    CommandLine: '*a?c*'\n  condition: sel\n",
		vector{"? is one char", ev("CommandLine", "xxabcxx"), true},
		vector{"? is one multibyte char", ev("CommandLine", "aéc"), true},
		vector{"? is not zero", ev("CommandLine", "ac"), false},
		vector{"* crosses newlines", ev("CommandLine", "\nab\nc"), false})
	check(t, "  sel:\n    CommandLine: 'a*b*c'\n  condition: sel\n",
		vector{"inner stars", ev("CommandLine", "a--b--b--c"), true},
		vector{"anchored end", ev("CommandLine", "a-b-c-"), false},
		vector{"newline", ev("CommandLine", "a\nb\nc"), true})
	check(t, "  sel:\n    Name: 'ДОКУМЕНТ'\n  condition: sel\n",
		vector{"unicode folding", ev("Name", "документ"), true})
}

func TestEscapes(t *testing.T) {
	cases := []struct{ rule, want string }{
		{`+R +H +S +A \\\*.cui`, `+R +H +S +A \*.cui`},
		{`\\\\\?\\GLOBALROOT\Device\x`, `\\?\GLOBALROOT\Device\x`},
		{`C:\Windows`, `C:\Windows`},
		{`trailing\`, `trailing\`},
		{`a\\\\b`, `a\\b`},
		{`a\\\b`, `a\\b`},
		{`\*`, `*`},
		{`\?`, `?`},
	}
	for _, c := range cases {
		p := parseSigmaString(c.rule)
		got, ok := p.plain()
		if !ok || got != c.want {
			t.Errorf("%q: got %q (plain %v), want %q", c.rule, got, ok, c.want)
		}
	}
	p := parseSigmaString(`\\*`)
	if len(p) != 2 || p[0].text != `\` || p[1].kind != starElem {
		t.Errorf(`\\* is a backslash then a wildcard: %+v`, p)
	}
	check(t, "  sel:\n    CommandLine: 'x\\*y'\n  condition: sel\n",
		vector{"literal star", ev("CommandLine", "x*y"), true},
		vector{"not a wildcard", ev("CommandLine", "xzzy"), false})
}

func TestNullAndEmpty(t *testing.T) {
	det := "  sel:\n    Image|endswith: '\\x.exe'\n  filter_null:\n    CommandLine: null\n  filter_empty:\n    CommandLine: ''\n"
	check(t, det+"  condition: sel and filter_null\n",
		vector{"absent", ev("Image", `c:\x.exe`), true},
		vector{"empty is not null", ev("Image", `c:\x.exe`, "CommandLine", ""), false})
	check(t, det+"  condition: sel and filter_empty\n",
		vector{"empty", ev("Image", `c:\x.exe`, "CommandLine", ""), true},
		vector{"absent is not empty", ev("Image", `c:\x.exe`), false},
		vector{"text", ev("Image", `c:\x.exe`, "CommandLine", "a"), false})
	check(t, det+"  condition: sel and not 1 of filter_*\n",
		vector{"text", ev("Image", `c:\x.exe`, "CommandLine", "a"), true},
		vector{"empty", ev("Image", `c:\x.exe`, "CommandLine", ""), false})
	if r := refusalOf(t, ruleWith("  sel:\n    A: [x, null]\n  condition: sel\n")); r.Reason != ReasonValue {
		t.Errorf("null in a list: %v", r)
	}
}

func TestListsMapsKeywords(t *testing.T) {
	check(t, "  sel:\n    - A: 1\n      B: 2\n    - C: 3\n  condition: sel\n",
		vector{"first map", ev("A", "1", "B", "2"), true},
		vector{"map is AND", ev("A", "1"), false},
		vector{"second map", ev("C", "3"), true})
	check(t, "  sel:\n    A: [x, y]\n  condition: sel\n",
		vector{"list is OR", ev("A", "y"), true})
	check(t, "  sel:\n    A|contains|all: [x, y]\n  condition: sel\n",
		vector{"all", ev("A", "-y-x-"), true},
		vector{"not all", ev("A", "-y-"), false})
	check(t, "  keywords:\n    - 'mimikatz'\n    - 'sekurlsa'\n  condition: keywords\n",
		vector{"substring of any value", ev("A", "run MIMIKATZ.exe", "B", "z"), true},
		vector{"absent", ev("A", "nothing"), false})
	check(t, "  keywords:\n    '|all':\n      - 'foo'\n      - 'bar'\n  condition: keywords\n",
		vector{"all keywords, any fields", ev("A", "foo", "B", "xbar"), true},
		vector{"one missing", ev("A", "foo"), false})
}

func TestDataAndRepeatedNames(t *testing.T) {
	check(t, "  sel:\n    Data|contains: 'HostApplication=powershell'\n  condition: sel\n",
		vector{"any Data[i]", ev("Data[0]", "Available", "Data[1]", "None", "Data[2]", "HostApplication=PowerShell -enc"), true},
		vector{"none", ev("Data[0]", "Available"), false})
	check(t, "  sel:\n    Name: second\n  condition: sel\n",
		vector{"a repeat", ev("Name", "first", "Name#2", "second"), true})
	check(t, "  sel:\n    Data|neq: x\n  condition: sel\n",
		vector{"neq over all values", ev("Data[0]", "a", "Data[1]", "x"), false},
		vector{"neq holds for all", ev("Data[0]", "a", "Data[1]", "b"), true})
}

func TestWindash(t *testing.T) {
	det := "  sel:\n    CommandLine|contains|windash: ' -param-1 -param2'\n  condition: sel\n"
	var vs []vector
	for _, a := range []string{"-", "/", "\u2013", "\u2014", "\u2015"} {
		for _, b := range []string{"-", "/", "\u2013", "\u2014", "\u2015"} {
			vs = append(vs, vector{"variant " + a + b, ev("CommandLine", "x "+a+"param-1 "+b+"param2"), true})
		}
	}
	vs = append(vs, vector{"inner dash not expanded", ev("CommandLine", "x -param/1 -param2"), false})
	check(t, det, vs...)
	check(t, "  sel:\n    CommandLine|contains|windash: 'start/b'\n  condition: sel\n",
		vector{"no expandable position", ev("CommandLine", "start/b x"), true},
		vector{"slash after a word char stays", ev("CommandLine", "start-b x"), false})
	p := parseSigmaString(" -param-1 -param2").windash()
	dashes := 0
	for _, e := range p {
		if e.kind == dashElem {
			dashes++
		}
	}
	if dashes != 2 {
		t.Errorf("windash positions %d, want 2 (25 variants)", dashes)
	}
}

func TestBase64Offset(t *testing.T) {
	want := map[string][]string{
		"foobar":   {"Zm9vYmFy", "Zvb2Jhc", "mb29iYX"},
		"IEX (New": {"SUVYIChOZX", "lFWCAoTmV3", "JRVggKE5ld"},
	}
	for v, w := range want {
		got := base64Offsets([]byte(v))
		if strings.Join(got, ",") != strings.Join(w, ",") {
			t.Errorf("%q: %v, want %v", v, got, w)
		}
	}
	got := base64Offsets(utf16Bytes("::FromBase64String", "utf16le"))
	w := []string{"OgA6AEYAcgBvAG0AQgBhAHMAZQA2ADQAUwB0AHIAaQBuAGcA", "oAOgBGAHIAbwBtAEIAYQBzAGUANgA0AFMAdAByAGkAbgBnA", "6ADoARgByAG8AbQBCAGEAcwBlADYANABTAHQAcgBpAG4AZw"}
	if strings.Join(got, ",") != strings.Join(w, ",") {
		t.Errorf("wide ::FromBase64String: %v", got)
	}
	check(t, "  sel:\n    CommandLine|wide|base64offset|contains: '::FromBase64String'\n  condition: sel\n",
		vector{"offset 1", ev("CommandLine", "powershell -e xxoAOgBGAHIAbwBtAEIAYQBzAGUANgA0AFMAdAByAGkAbgBnAxx"), true},
		vector{"none", ev("CommandLine", "powershell -e AAAA"), false})
	check(t, "  sel:\n    CommandLine|base64|contains: 'foobar'\n  condition: sel\n",
		vector{"base64", ev("CommandLine", "x Zm9vYmFy y"), true})
	if r := refusalOf(t, ruleWith("  sel:\n    A|wide|contains: x\n  condition: sel\n")); r.Reason != ReasonModifier {
		t.Errorf("standalone wide: %v", r)
	}
	if r := refusalOf(t, ruleWith("  sel:\n    A|base64: 'x*'\n  condition: sel\n")); r.Reason != ReasonValue {
		t.Errorf("base64 of a wildcard: %v", r)
	}
	if got := utf16Bytes("cmd", "utf16le"); string(got) != "c\x00m\x00d\x00" {
		t.Errorf("utf16le: %x", got)
	}
	if got := utf16Bytes("a", "utf16be"); string(got) != "\x00a" {
		t.Errorf("utf16be: %x", got)
	}
	if got := utf16Bytes("a", "utf16"); string(got) != "\xff\xfea\x00" {
		t.Errorf("utf16: %x", got)
	}
}

func TestCIDR(t *testing.T) {
	check(t, "  sel:\n    IpAddress|cidr: 172.16.0.0/12\n  condition: sel\n",
		vector{"mapped v6", ev("IpAddress", "::ffff:172.16.66.19"), true},
		vector{"v4", ev("IpAddress", "172.31.0.1"), true},
		vector{"outside", ev("IpAddress", "10.0.0.1"), false},
		vector{"dash", ev("IpAddress", "-"), false})
	check(t, "  sel:\n    IpAddress|cidr: '::1/128'\n  condition: sel\n",
		vector{"loopback", ev("IpAddress", "::1"), true})
	check(t, "  sel:\n    IpAddress|cidr: 'fe80::/10'\n  condition: sel\n",
		vector{"link-local with zone", ev("IpAddress", "fe80::1%12"), true})
	if r := refusalOf(t, ruleWith("  sel:\n    A|cidr: 192.168.1.1/24\n  condition: sel\n")); r.Reason != ReasonValue {
		t.Errorf("host bits: %v", r)
	}
}

func TestExistsFieldrefCased(t *testing.T) {
	check(t, "  sel:\n    A|exists: true\n  condition: sel\n",
		vector{"present though empty", ev("A", ""), true},
		vector{"absent", ev("B", "x"), false})
	check(t, "  sel:\n    A|exists: false\n  condition: sel\n",
		vector{"absent", ev("B", "x"), true})
	check(t, "  sel:\n    User|fieldref: ParentUser\n  condition: sel\n",
		vector{"equal, case-insensitive", ev("User", `NT AUTHORITY\SYSTEM`, "ParentUser", `nt authority\system`), true},
		vector{"different", ev("User", "a", "ParentUser", "b"), false},
		vector{"other absent", ev("User", "a"), false})
	check(t, "  sel:\n    CommandLine|fieldref|contains: Image\n  condition: sel\n",
		vector{"contains", ev("CommandLine", `"C:\X.EXE" /c`, "Image", `c:\x.exe`), true})
	check(t, "  sel:\n    CommandLine|fieldref|endswith: Image\n  condition: sel\n",
		vector{"endswith", ev("CommandLine", `run c:\x.exe`, "Image", `c:\x.exe`), true},
		vector{"not at the end", ev("CommandLine", `c:\x.exe run`, "Image", `c:\x.exe`), false})
	check(t, "  sel:\n    A|fieldref|neq: B\n  condition: sel\n",
		vector{"neq differs", ev("A", "1", "B", "2"), true},
		vector{"neq same", ev("A", "1", "B", "1"), false})
	check(t, "  sel:\n    A|cased: 'Foo*'\n  condition: sel\n",
		vector{"same case", ev("A", "Foobar"), true},
		vector{"other case", ev("A", "foobar"), false})
}

func TestRegex(t *testing.T) {
	check(t, "  sel:\n    A|re: 'ab+c'\n  condition: sel\n",
		vector{"search, not anchored", ev("A", "xxabbcxx"), true},
		vector{"case-sensitive", ev("A", "ABC"), false})
	check(t, "  sel:\n    A|re|i: '^ab+c$'\n  condition: sel\n",
		vector{"i", ev("A", "ABC"), true})
	check(t, "  sel:\n    A|re|m: '^b$'\n  condition: sel\n",
		vector{"m", ev("A", "a\nb\nc"), true})
	check(t, "  sel:\n    A|re|s: 'a.b'\n  condition: sel\n",
		vector{"s", ev("A", "a\nb"), true})
	check(t, "  sel:\n    A|re: '\\\\\\d+\\.exe'\n  condition: sel\n",
		vector{"verbatim, no Sigma escapes", ev("A", `x\12.exe`), true},
		vector{"the backslash is needed", ev("A", `x12.exe`), false})
	if r := refusalOf(t, ruleWith("  sel:\n    A|re: '(?=x)'\n  condition: sel\n")); r.Reason != ReasonRegex {
		t.Errorf("look-ahead: %v", r)
	}
	if r := refusalOf(t, ruleWith("  sel:\n    A|contains|re: 'x'\n  condition: sel\n")); r.Reason != ReasonModifier {
		t.Errorf("re not first: %v", r)
	}
}

func TestNumericAndTime(t *testing.T) {
	check(t, "  sel:\n    N|gt: 10\n  condition: sel\n",
		vector{"greater", ev("N", "11"), true},
		vector{"hex", ev("N", "0x20"), true},
		vector{"negative", ev("N", "-5"), false},
		vector{"float", ev("N", "10.5"), true},
		vector{"text", ev("N", "abc"), false})
	check(t, "  sel:\n    N|lte: -1\n  condition: sel\n", vector{"negative", ev("N", "-5"), true})
	check(t, "  sel:\n    UtcTime|hour: 3\n  condition: sel\n",
		vector{"hour", ev("UtcTime", "2024-01-02 03:04:05.678"), true},
		vector{"other hour", ev("UtcTime", "2024-01-02 04:04:05.678"), false})
	check(t, "  sel:\n    UtcTime|hour|gte: 22\n  condition: sel\n",
		vector{"late", ev("UtcTime", "2024-01-02 23:04:05.678"), true})
	if r := refusalOf(t, ruleWith("  sel:\n    N|gt: abc\n  condition: sel\n")); r.Reason != ReasonValue {
		t.Errorf("gt of text: %v", r)
	}
}

func TestExpand(t *testing.T) {
	src := ruleWith("  sel:\n    CommandLine|contains|expand: '%userdomain%\\x'\n  condition: sel\n")
	r := compileOne(t, src, LoadOptions{Placeholders: map[string][]string{"userdomain": {"CORP", "LAB*"}}})
	for _, c := range []struct {
		v    string
		want bool
	}{{`echo corp\x`, true}, {`echo LAB01\x`, true}, {`echo other\x`, false}} {
		if got := r.Match(ev("CommandLine", c.v)); got != c.want {
			t.Errorf("expand %q: %v", c.v, got)
		}
	}
	if rf := refusalOf(t, src); rf.Reason != ReasonPlaceholder {
		t.Errorf("unresolved: %v", rf)
	}
	check(t, "  sel:\n    CommandLine|contains: '%TEMP%'\n  condition: sel\n",
		vector{"literal without expand", ev("CommandLine", `copy x %temp%\y`), true})
}

func TestConditions(t *testing.T) {
	det := "  sel_a:\n    A: 1\n  sel_b:\n    B: 1\n  filter:\n    C: 1\n  _hidden:\n    D: 1\n"
	all := ev("A", "1", "B", "1", "C", "1", "D", "1")
	cases := []struct {
		cond string
		f    Fields
		want bool
	}{
		{"sel_a and sel_b", ev("A", "1", "B", "1"), true},
		{"sel_a and sel_b", ev("A", "1"), false},
		{"sel_a or sel_b", ev("B", "1"), true},
		{"not sel_a", ev("B", "1"), true},
		{"sel_a and not filter", all, false},
		{"1 of sel_*", ev("B", "1"), true},
		{"any of sel_*", ev("B", "1"), true},
		{"all of sel_*", ev("B", "1"), false},
		{"all of sel_*", all, true},
		{"1 of them", ev("C", "1"), true},
		{"all of them", ev("A", "1", "B", "1", "C", "1"), true},
		{"1 of them", ev("D", "1"), false},
		{"1 of _h*", ev("D", "1"), true},
		{"sel_a or sel_b and filter", ev("A", "1"), true},
		{"(sel_a or sel_b) and filter", ev("A", "1"), false},
		{"not sel_a and sel_b", ev("B", "1"), true},
		{"not (sel_a or sel_b)", ev("C", "1"), true},
		{"not 1 of sel_*", ev("A", "1"), false},
		{"not all of sel_*", ev("A", "1"), true},
		{"1 of sel_a", ev("A", "1"), true},
		{"all of s*_*", all, true},
		{"1 of *a", ev("A", "1"), true},
		{"SEL_A AND sel_b", ev("A", "1", "B", "1"), false}, // identifiers are case-sensitive
	}
	for _, c := range cases {
		src := ruleWith(det + "  condition: '" + c.cond + "'\n")
		cc := &Collection{}
		cc.Add("t.yml", []byte(src), LoadOptions{})
		if len(cc.Rules) == 0 {
			if c.want {
				t.Errorf("%q refused: %v", c.cond, cc.Refused)
			}
			continue
		}
		if got := cc.Rules[0].Match(c.f); got != c.want {
			t.Errorf("%q: %v, want %v", c.cond, got, c.want)
		}
	}
	for _, bad := range []string{"sel_a | count() > 5", "sel_a near sel_b", "2 of sel_*", "1 of nomatch*", "sel_a and", "(sel_a", "unknown", "sel_a sel_b"} {
		src := ruleWith(det + "  condition: '" + bad + "'\n")
		if r := refusalOf(t, src); r.Reason != ReasonCondition {
			t.Errorf("%q: %v", bad, r)
		}
	}
	// A condition list matches when any of its conditions does.
	check(t, det+"  condition:\n    - sel_a\n    - sel_b\n", vector{"list", ev("B", "1"), true})
}

func TestRefusals(t *testing.T) {
	cases := map[string]string{
		ruleWith("  sel:\n    A|foo: x\n  condition: sel\n"):                                                                  ReasonModifier,
		ruleWith("  sel:\n    A: x\n  condition: sel\n  timeframe: 5m\n"):                                                     ReasonCondition,
		"title: t\nlogsource:\n  product: linux\ndetection:\n  sel:\n    A: x\n  condition: sel\n":                            ReasonNotWindows,
		"title: t\nlogsource:\n  product: windows\n  category: file_access\ndetection:\n  sel:\n    A: x\n  condition: sel\n": ReasonLogsource,
		"title: t\nlogsource: [\n": ReasonYAML,
	}
	for src, want := range cases {
		if r := refusalOf(t, src); r.Reason != want {
			t.Errorf("%q: %v, want %s", src, r, want)
		}
	}
	r := refusalOf(t, "title: t\nlogsource:\n  product: windows\ndetection:\n  sel:\n    A|bad: x\n  condition: sel\n")
	if r.Line != 6 {
		t.Errorf("line of the bad modifier: %d", r.Line)
	}
}

func TestMultiDocument(t *testing.T) {
	src := ruleWith("  sel:\n    A: x\n  condition: sel\n") + "---\n" +
		strings.Replace(ruleWith("  sel:\n    A: y\n  condition: sel\n"), "0001", "0002", 1) + "---\n"
	c := &Collection{}
	c.Add("t.yml", []byte(src), LoadOptions{})
	if len(c.Rules) != 2 || c.Rules[1].Doc != 1 {
		t.Fatalf("documents: %d rules, %v", len(c.Rules), c.Refused)
	}
}

func TestReadBounded(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		size int
		ok   bool
	}{{0, true}, {100, true}, {maxRuleFile, true}, {maxRuleFile + 1, false}} {
		path := filepath.Join(dir, fmt.Sprint(c.size))
		if err := os.WriteFile(path, bytes.Repeat([]byte("a"), c.size), 0o644); err != nil {
			t.Fatal(err)
		}
		data, err := readBounded(path)
		if (err == nil) != c.ok || c.ok && len(data) != c.size {
			t.Errorf("%d bytes: read %d, error %v", c.size, len(data), err)
		}
	}
}

// TestReadToEnd: a file read whole in one read stops there; short reads
// before the end, a file that grew and one that shrank since stat are
// read to their end.
func TestReadToEnd(t *testing.T) {
	for _, c := range []struct {
		name       string
		stat, size int
		chunk      int // bytes a read returns at most
		wantReads  int
	}{
		{"whole", 100, 100, 1 << 20, 1},
		{"short reads", 100, 100, 7, 15},
		{"grew", 10, 30, 1 << 20, 4},
		{"shrank", 30, 10, 1 << 20, 2},
		{"unknown size", 0, 10, 1 << 20, 2},
	} {
		content := bytes.Repeat([]byte("a"), c.size)
		reads, off := 0, 0
		data, err := readToEnd(int64(c.stat), func(b []byte) (int, error) {
			reads++
			if off == len(content) {
				return 0, io.EOF
			}
			n := copy(b[:min(len(b), c.chunk)], content[off:])
			off += n
			return n, nil
		})
		if err != nil || len(data) != c.size || reads != c.wantReads {
			t.Errorf("%s: %d bytes in %d reads (error %v), want %d in %d", c.name, len(data), reads, err, c.size, c.wantReads)
		}
	}
}
