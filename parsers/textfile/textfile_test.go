package textfile

import (
	"testing"
)

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
		{"cp1252", []byte("echo \x80 \xe9"), "windows-1252", "echo € é"},
		{"odd utf16", []byte("\xff\xfea"), "utf-16le", ""},
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

func FuzzDecode(f *testing.F) {
	f.Add([]byte("\xff\xfea\x00"))
	f.Add([]byte("echo \x80"))
	f.Fuzz(func(t *testing.T, b []byte) {
		Decode(b).Lines()
	})
}
