// Package textfile decodes the text artifacts attackers write: PSReadLine
// history, batch files and scripts. Windows tools write them as UTF-8 (with
// or without a byte order mark), UTF-16 with a mark, or in the ANSI code
// page, taken here as Windows-1252.
package textfile

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
)

// MaxSize bounds what is read of one text artifact.
const MaxSize = 64 << 20

// Text is a decoded text file.
type Text struct {
	Encoding string // utf-8, utf-8-bom, utf-16le, utf-16be or windows-1252
	Content  string // decoded, with line endings kept
}

// Read decodes r, which holds size bytes.
func Read(r io.Reader, size int64) (*Text, error) {
	if size > MaxSize {
		return nil, fmt.Errorf("textfile: %d bytes exceeds the %d-byte limit", size, MaxSize)
	}
	b, err := io.ReadAll(io.LimitReader(r, MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("textfile: %w", err)
	}
	if len(b) > MaxSize {
		return nil, fmt.Errorf("textfile: more than %d bytes", MaxSize)
	}
	return Decode(b), nil
}

// Decode picks the encoding from a byte order mark, then from whether the
// bytes are valid UTF-8.
func Decode(b []byte) *Text {
	switch {
	case bytes.HasPrefix(b, []byte{0xef, 0xbb, 0xbf}):
		return &Text{"utf-8-bom", strings.ToValidUTF8(string(b[3:]), "\uFFFD")}
	case bytes.HasPrefix(b, []byte{0xff, 0xfe}):
		return &Text{"utf-16le", decodeUTF16(b[2:], false)}
	case bytes.HasPrefix(b, []byte{0xfe, 0xff}):
		return &Text{"utf-16be", decodeUTF16(b[2:], true)}
	case utf8.Valid(b):
		return &Text{"utf-8", string(b)}
	}
	s, _ := charmap.Windows1252.NewDecoder().Bytes(b)
	return &Text{"windows-1252", string(s)}
}

func decodeUTF16(b []byte, bigEndian bool) string {
	u := make([]uint16, len(b)/2)
	for i := range u {
		if bigEndian {
			u[i] = uint16(b[2*i])<<8 | uint16(b[2*i+1])
		} else {
			u[i] = uint16(b[2*i]) | uint16(b[2*i+1])<<8
		}
	}
	return string(utf16.Decode(u))
}

// Lines splits the content into lines without their endings; a final
// newline does not start an empty line.
func (t *Text) Lines() []string {
	s := strings.TrimSuffix(strings.ReplaceAll(t.Content, "\r\n", "\n"), "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}
