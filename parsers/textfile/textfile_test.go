package textfile

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"unicode/utf16"
	"unicode/utf8"
)

func utf16le(s string) []byte {
	var b []byte
	for _, u := range utf16.Encode([]rune(s)) {
		b = append(b, byte(u), byte(u>>8))
	}
	return b
}

func utf16be(s string) []byte {
	var b []byte
	for _, u := range utf16.Encode([]rune(s)) {
		b = append(b, byte(u>>8), byte(u))
	}
	return b
}

func TestDecode(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		enc  string
		want string
	}{
		{"utf8", []byte("dir\r\nwhoami\n"), "utf-8", "dir\r\nwhoami\n"},
		{"bom", []byte("\xef\xbb\xbfecho é"), "utf-8-bom", "echo é"},
		{"utf16le", []byte("\xff\xfea\x00\xe9\x00"), "utf-16le", "aé"},
		{"utf16be", []byte("\xfe\xff\x00a\x00\xe9"), "utf-16be", "aé"},
		{"utf16le no bom", utf16le("whoami\r\nnet user\r\n"), "utf-16le", "whoami\r\nnet user\r\n"},
		{"utf16be no bom", utf16be("whoami\n"), "utf-16be", "whoami\n"},
		{"cp1252", []byte("echo \x80 \xe9"), "windows-1252", "echo € é"},
		{"odd utf16", []byte("\xff\xfea"), "utf-16le", "\uFFFD"},
		{"nul padded", []byte("\x00\x00\x00\x00@echo off\x00\r\n"), "utf-8", "\x00\x00\x00\x00@echo off\x00\r\n"},
		{"empty", nil, "utf-8", ""},
	}
	for _, tt := range tests {
		got := Decode(tt.in)
		if got.Encoding != tt.enc || got.Content != tt.want {
			t.Errorf("%s: got %q %q, want %q %q", tt.name, got.Encoding, got.Content, tt.enc, tt.want)
		}
	}
}

func TestLines(t *testing.T) {
	got := Decode([]byte("a\r\nb\n\nc\n")).Lines()
	if len(got) != 4 || got[0] != "a" || got[2] != "" || got[3] != "c" {
		t.Fatalf("lines %q", got)
	}
}

func lines(t *testing.T, r *Reader) []Line {
	t.Helper()
	var out []Line
	for l, err := range r.Lines() {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, l)
	}
	return out
}

func TestReaderLines(t *testing.T) {
	for _, enc := range []struct {
		name   string
		encode func(string) []byte
		unit   int
	}{{"utf-8", func(s string) []byte { return []byte(s) }, 1}, {"utf-16le", utf16le, 2}, {"utf-16be", utf16be, 2}} {
		t.Run(enc.name, func(t *testing.T) {
			in := enc.encode("whoami\r\nnet user\n\nlast")
			r, err := NewReader(bytes.NewReader(in))
			if err != nil {
				t.Fatal(err)
			}
			if r.Encoding() != enc.name || r.BOM() {
				t.Errorf("encoding %s bom %v", r.Encoding(), r.BOM())
			}
			got := lines(t, r)
			want := []Line{
				{Number: 1, Offset: 0, Text: "whoami"},
				{Number: 2, Offset: int64(8 * enc.unit), Text: "net user"},
				{Number: 3, Offset: int64(17 * enc.unit), Text: ""},
				{Number: 4, Offset: int64(18 * enc.unit), Text: "last"},
			}
			if len(got) != len(want) {
				t.Fatalf("got %+v", got)
			}
			for i := range want {
				if got[i] != want[i] {
					t.Errorf("line %d: got %+v, want %+v", i, got[i], want[i])
				}
			}
		})
	}
}

// TestLongLineInParts: a line over the bound comes in parts that each say
// so, never cut inside a character, and that put together give the line.
func TestLongLineInParts(t *testing.T) {
	line := strings.Repeat("aé€😈", 1000) // 1, 2, 3 and 4 UTF-8 bytes; a surrogate pair in UTF-16
	for _, enc := range []struct {
		name   string
		encode func(string) []byte
	}{{"utf-8", func(s string) []byte { return []byte(s) }}, {"utf-16le", utf16le}, {"utf-16be", utf16be}} {
		t.Run(enc.name, func(t *testing.T) {
			in := enc.encode("first\n" + line + "\r\nafter\n")
			r, _ := NewReader(bytes.NewReader(in))
			r.MaxLine = 1001
			got := lines(t, r)
			if got[0].Text != "first" || got[len(got)-1].Text != "after" || got[len(got)-1].Number != 3 {
				t.Fatalf("first %+v last %+v", got[0], got[len(got)-1])
			}
			var joined strings.Builder
			parts := got[1 : len(got)-1]
			for i, p := range parts {
				if p.Number != 2 || p.Part != i+1 || p.Cut != (i < len(parts)-1) {
					t.Errorf("part %d: %+v", i, p)
				}
				if !utf8.ValidString(p.Text) || strings.ContainsRune(p.Text, utf8.RuneError) {
					t.Errorf("part %d cut inside a character: %q", i, p.Text[len(p.Text)-4:])
				}
				if i > 0 && p.Offset <= parts[i-1].Offset {
					t.Errorf("offsets %d then %d", parts[i-1].Offset, p.Offset)
				}
				joined.WriteString(p.Text)
			}
			if len(parts) < 5 || joined.String() != line {
				t.Errorf("%d parts, joined %d bytes, want %d", len(parts), joined.Len(), len(line))
			}
		})
	}
}

func TestPieces(t *testing.T) {
	var in strings.Builder
	for i := 0; i < 500; i++ {
		in.WriteString("Write-Host line\r\n")
	}
	in.WriteString(strings.Repeat("x", 5000) + "\n" + "tail")
	r, _ := NewReader(strings.NewReader(in.String()))
	r.MaxLine = 2000
	var joined strings.Builder
	next, cut := 1, 0
	for p, err := range r.Pieces() {
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Text) > 2000+4 {
			t.Errorf("piece of %d bytes", len(p.Text))
		}
		if p.FirstLine != next && !(cut > 0 && p.FirstLine == next-1) {
			t.Errorf("piece starts at line %d, want %d", p.FirstLine, next)
		}
		if p.Cut {
			cut++
		}
		next = p.LastLine + 1
		joined.WriteString(p.Text)
	}
	if joined.String() != in.String() || cut != 2 || next != 503 {
		t.Errorf("joined equal %v, cut %d, next %d", joined.String() == in.String(), cut, next)
	}
}

func TestMixedEncodingFallsBackPerLine(t *testing.T) {
	r, _ := NewReader(strings.NewReader("echo é\n" + strings.Repeat("x", 5000) + "\necho caf\xe9\n"))
	got := lines(t, r)
	if r.Encoding() != UTF8 || got[0].Text != "echo é" || got[2].Text != "echo café" || r.Fallbacks() != 1 {
		t.Fatalf("%s %q %q %d", r.Encoding(), got[0].Text, got[2].Text, r.Fallbacks())
	}
}

// zeros reads as n bytes of c without holding them.
type repeat struct {
	c byte
	n int64
}

func (r *repeat) Read(p []byte) (int, error) {
	if r.n <= 0 {
		return 0, io.EOF
	}
	k := min(int64(len(p)), r.n)
	for i := range p[:k] {
		p[i] = r.c
	}
	r.n -= k
	return int(k), nil
}

// TestHugeSingleLine: 62 MB on one line (issue 12: 1.2 GiB of memory, and
// refused whole over 64 MiB so that padding hid what followed) comes in
// parts of at most MaxLine, and what follows the padding is read.
func TestHugeSingleLine(t *testing.T) {
	if testing.Short() {
		t.Skip("reads 80 MB")
	}
	in := io.MultiReader(strings.NewReader("whoami\n"), &repeat{' ', 80 << 20}, strings.NewReader("iex (hidden)\nlast\n"))
	r, _ := NewReader(in)
	var parts, maxLen int
	var tail []string
	for l, err := range r.Lines() {
		if err != nil {
			t.Fatal(err)
		}
		if l.Number == 2 {
			parts++
			maxLen = max(maxLen, len(l.Text))
		}
		if l.Number == 2 && !l.Cut {
			tail = append(tail, strings.TrimLeft(l.Text, " "))
		}
		if l.Number == 3 {
			tail = append(tail, l.Text)
		}
	}
	if parts != 81 || maxLen > MaxLine || len(tail) != 2 || tail[0] != "iex (hidden)" || tail[1] != "last" {
		t.Fatalf("parts %d, longest %d, tail %q", parts, maxLen, tail)
	}
}

func BenchmarkLines(b *testing.B) {
	in := bytes.Repeat([]byte("Get-ChildItem -Path C:\\Users -Recurse | Select-String password\r\n"), 100000)
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		r, _ := NewReader(bytes.NewReader(in))
		for range r.Lines() {
		}
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte("\xff\xfea\x00"), 7)
	f.Add([]byte("echo \x80"), 0)
	f.Add(utf16le("whoami\r\n😀x"), 5)
	f.Add([]byte("a\xe2\x82\xacb\nc"), 4)
	f.Fuzz(func(t *testing.T, b []byte, bound int) {
		Decode(b).Lines()
		r, err := NewReader(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		r.MaxLine = bound % 64
		limit := max(r.MaxLine-r.MaxLine%2, 4)
		if r.MaxLine <= 0 {
			limit = MaxLine
		}
		var prev int64 = -1
		for l, err := range r.Lines() {
			if err != nil {
				t.Fatal(err)
			}
			if l.Offset <= prev || l.Offset > int64(len(b)) {
				t.Fatalf("offset %d after %d in %d bytes", l.Offset, prev, len(b))
			}
			prev = l.Offset
			if l.Cut && len(l.Text) > 3*limit {
				t.Fatalf("part of %d bytes over the %d bound", len(l.Text), limit)
			}
		}
	})
}
