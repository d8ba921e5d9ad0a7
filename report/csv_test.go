package report

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"
	"unicode/utf16"
)

func TestSafeCell(t *testing.T) {
	long := strings.Repeat("A", 100000)
	wide := strings.Repeat("😈", 20000) // two UTF-16 units each
	tests := []struct {
		name, in         string
		prefix, contains string
	}{
		{"short", "whoami", "whoami", ""},
		{"formula", "=HYPERLINK(\"x\")", "'=HYPERLINK", ""},
		{"nul", "a\x00b", "a\u2400b", ""},
		{"long", long, "AAAA", "cut here at character 32"},
		{"long formula", "-" + long, "'-AAA", "of 100001"},
		{"wide", wide, "😈", "of 40000"},
	}
	for _, tt := range tests {
		got := safeCell(tt.in)
		if units := len(utf16.Encode([]rune(got))); units > maxCell {
			t.Errorf("%s: %d UTF-16 units, over %d", tt.name, units, maxCell)
		}
		if !strings.HasPrefix(got, tt.prefix) || !strings.Contains(got, tt.contains) || strings.Contains(got, "\x00") {
			t.Errorf("%s: got %.60q…%.90q", tt.name, got, got[max(0, len(got)-90):])
		}
		if tt.contains == "" && len(got) > len(tt.in)+3 {
			t.Errorf("%s: changed to %q", tt.name, got)
		}
	}
}

// TestTimelineRowHasNoNUL: a command line with NUL bytes and a cell past
// Excel's limit come out as valid CSV without NUL, and cut visibly.
func TestTimelineRowHasNoNUL(t *testing.T) {
	var buf bytes.Buffer
	cw := newCSV(&buf)
	writeRow(cw, "cmd.exe /c \x00\x00calc", strings.Repeat("x", 40000))
	cw.Flush()
	if bytes.IndexByte(buf.Bytes(), 0) >= 0 {
		t.Fatal("NUL byte in the CSV")
	}
	rec, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(buf.String(), "\ufeff"))).Read()
	if err != nil || len(rec) != 2 || rec[0] != "cmd.exe /c \u2400\u2400calc" || utf16Len(rec[1]) > maxCell || !strings.Contains(rec[1], "of 40000") {
		t.Fatalf("%v %q %d", err, rec[0], len(rec[1]))
	}
}
