// Package textfile decodes the text artifacts attackers write: PSReadLine
// history, batch files and scripts. Windows tools write them as UTF-8 (with
// or without a byte order mark), UTF-16 with or without a mark, or in the
// ANSI code page, taken here as Windows-1252.
//
// A file is read as a stream in bounded pieces, whatever its size: one line
// is at most MaxLine bytes of the file, and a longer line is cut into parts
// that each say so (Line.Part, Line.Cut), so that padding cannot hide what
// follows it and one line cannot take the memory of the run. The decoder
// never changes the file: offsets point into the raw bytes, whose hash the
// caller keeps.
package textfile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"iter"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
)

// MaxLine bounds one line, in bytes of the file: 1 MiB keeps whole the
// longest encoded PowerShell commands seen in practice, and bounds what one
// event holds.
const MaxLine = 1 << 20

// sniffSize is how much of the start of a file decides its encoding.
const sniffSize = 4096

// Encodings, as Reader.Encoding names them.
const (
	UTF8        = "utf-8"
	UTF8BOM     = "utf-8-bom"
	UTF16LE     = "utf-16le"
	UTF16BE     = "utf-16be"
	Windows1252 = "windows-1252"
)

// Line is one line of a text file, or one part of a line over the bound.
type Line struct {
	Number int    // 1-based line number in the file
	Part   int    // 0 for a whole line; 1, 2, … for the parts of a line cut at the bound
	Cut    bool   // the line goes on in the next part
	Offset int64  // byte offset in the file where this line or part starts
	Text   string // decoded, without the line ending
}

// Piece is a run of whole lines (or one part of a long line) of at most
// the bound, for callers that keep a file's content rather than its lines.
type Piece struct {
	FirstLine, LastLine int   // 1-based line numbers
	Offset              int64 // byte offset in the file where the piece starts
	Text                string
	Cut                 bool // ends inside a line, which goes on in the next piece
}

// Reader decodes a text file as a stream.
type Reader struct {
	// MaxLine bounds a line in bytes of the file; 0 means MaxLine. Set it
	// before the first read.
	MaxLine int

	r        io.Reader
	encoding string
	bom      int // bytes of byte order mark
	unit     int // 1, or 2 for UTF-16
	buf      []byte
	start    int   // next unread byte in buf
	off      int64 // file offset of buf[start]
	err      error // from r, once seen
	line     int   // number of the line being read
	part     int   // parts of it already returned
	fallback int   // lines of a UTF-8 file decoded as Windows-1252
}

// NewReader reads the start of r to decide its encoding. The error is
// that of the underlying reader, if it failed before anything was read.
func NewReader(r io.Reader) (*Reader, error) {
	t := &Reader{r: r, buf: make([]byte, 0, sniffSize)}
	t.fill(sniffSize)
	if t.err != nil && t.err != io.EOF && len(t.buf) == 0 {
		return nil, fmt.Errorf("textfile: %w", t.err)
	}
	t.encoding, t.bom = sniff(t.buf, t.err == io.EOF)
	t.unit = 1
	if t.encoding == UTF16LE || t.encoding == UTF16BE {
		t.unit = 2
	}
	t.start, t.off = t.bom, int64(t.bom)
	return t, nil
}

// Encoding names the encoding the file was read in: UTF8, UTF8BOM, UTF16LE,
// UTF16BE or Windows1252.
func (t *Reader) Encoding() string { return t.encoding }

// BOM reports whether the file starts with a byte order mark.
func (t *Reader) BOM() bool { return t.bom > 0 }

// Fallbacks counts the lines of a file read as UTF-8 that were not valid
// UTF-8 and were decoded as Windows-1252 instead.
func (t *Reader) Fallbacks() int { return t.fallback }

// sniff picks the encoding from a byte order mark, then from where the NUL
// bytes lie (UTF-16 text of Latin letters has one in every other byte), then
// from whether the bytes are valid UTF-8.
func sniff(b []byte, whole bool) (string, int) {
	switch {
	case bytes.HasPrefix(b, []byte{0xef, 0xbb, 0xbf}):
		return UTF8BOM, 3
	case bytes.HasPrefix(b, []byte{0xff, 0xfe}):
		return UTF16LE, 2
	case bytes.HasPrefix(b, []byte{0xfe, 0xff}):
		return UTF16BE, 2
	}
	pairs := len(b) / 2
	if pairs > 0 {
		var evenNUL, oddNUL int
		for i := 0; i+1 < len(b); i += 2 {
			if b[i] == 0 {
				evenNUL++
			}
			if b[i+1] == 0 {
				oddNUL++
			}
		}
		// Text in UTF-16 has NUL high bytes in a fifth of its units or more
		// when it mixes in any Latin letters, and NUL low bytes almost
		// never; padding has NULs in both halves alike.
		switch {
		case oddNUL*5 >= pairs && oddNUL >= 4*evenNUL:
			return UTF16LE, 0
		case evenNUL*5 >= pairs && evenNUL >= 4*oddNUL:
			return UTF16BE, 0
		}
	}
	if !whole {
		// The sniffed block may end inside a character.
		for i := 1; i < utf8.UTFMax && i <= len(b); i++ {
			if utf8.RuneStart(b[len(b)-i]) {
				if !utf8.FullRune(b[len(b)-i:]) {
					b = b[:len(b)-i]
				}
				break
			}
		}
	}
	if utf8.Valid(b) {
		return UTF8, 0
	}
	return Windows1252, 0
}

// fill reads until buf holds at least n unread bytes or the reader ends.
// The buffer holds twice n, so that the unread bytes are moved to its
// front at most once per n bytes read.
func (t *Reader) fill(n int) {
	if len(t.buf)-t.start >= n || t.err != nil {
		return
	}
	if t.start > 0 && cap(t.buf)-t.start < n {
		copy(t.buf, t.buf[t.start:])
		t.buf = t.buf[:len(t.buf)-t.start]
		t.start = 0
	}
	if need := t.start + n; need > cap(t.buf) {
		grown := make([]byte, len(t.buf), t.start+2*n)
		copy(grown, t.buf)
		t.buf = grown
	}
	for len(t.buf)-t.start < n && t.err == nil {
		k, err := t.r.Read(t.buf[len(t.buf):cap(t.buf)])
		t.buf = t.buf[:len(t.buf)+k]
		if err != nil {
			t.err = err
		} else if k == 0 {
			t.err = io.ErrNoProgress
		}
	}
}

// newline returns the length of b up to and including the first line
// ending, or -1. In UTF-16 only an aligned "\n" unit counts.
func (t *Reader) newline(b []byte) int {
	switch t.encoding {
	case UTF16LE:
		for i := 0; i+1 < len(b); i += 2 {
			if b[i] == '\n' && b[i+1] == 0 {
				return i + 2
			}
		}
		return -1
	case UTF16BE:
		for i := 0; i+1 < len(b); i += 2 {
			if b[i] == 0 && b[i+1] == '\n' {
				return i + 2
			}
		}
		return -1
	}
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		return i + 1
	}
	return -1
}

// next returns the raw bytes of the next line or part, with its ending,
// whether it ends the line, and its file offset. It returns io.EOF at the
// end of the file.
func (t *Reader) next() (raw []byte, complete bool, off int64, err error) {
	limit := t.MaxLine
	if limit <= 0 {
		limit = MaxLine
	}
	limit -= limit % 2
	limit = max(limit, 4)
	// The window holds a line at the bound with its "\r\n".
	window := limit + 2*t.unit
	t.fill(window)
	avail := t.buf[t.start:]
	if len(avail) == 0 {
		if t.err == io.EOF || t.err == nil {
			return nil, false, t.off, io.EOF
		}
		return nil, false, t.off, fmt.Errorf("textfile: at byte %d: %w", t.off, t.err)
	}
	n := t.newline(avail[:min(len(avail), window)])
	switch {
	case n >= 0:
		complete = true
	case len(avail) < window:
		// The last line, without an ending; a read error after it is
		// returned by the next call.
		n, complete = len(avail), true
		if t.err != io.EOF {
			complete = false
		}
	default:
		n = t.cut(avail, limit)
	}
	raw, off = avail[:n], t.off
	t.start += n
	t.off += int64(n)
	return raw, complete, off, nil
}

// cut returns where to end a part of a line over the bound: never inside a
// UTF-8 sequence or a UTF-16 surrogate pair.
func (t *Reader) cut(b []byte, limit int) int {
	n := limit
	switch t.encoding {
	case UTF16LE:
		if hi := uint16(b[n-2]) | uint16(b[n-1])<<8; utf16.IsSurrogate(rune(hi)) && hi < 0xdc00 {
			n -= 2
		}
	case UTF16BE:
		if hi := uint16(b[n-2])<<8 | uint16(b[n-1]); utf16.IsSurrogate(rune(hi)) && hi < 0xdc00 {
			n -= 2
		}
	case UTF8, UTF8BOM:
		for i := 0; i < utf8.UTFMax-1 && n > 1 && !utf8.RuneStart(b[n]); i++ {
			n--
		}
	}
	return n
}

// decode turns one line's raw bytes, without the ending, into text.
func (t *Reader) decode(raw []byte) string {
	switch t.encoding {
	case UTF16LE, UTF16BE:
		return decodeUTF16(raw, t.encoding == UTF16BE)
	case Windows1252:
		s, _ := charmap.Windows1252.NewDecoder().Bytes(raw)
		return string(s)
	}
	if utf8.Valid(raw) {
		return string(raw)
	}
	// One line in another code page does not make the whole file so.
	t.fallback++
	s, _ := charmap.Windows1252.NewDecoder().Bytes(raw)
	return string(s)
}

// trimEnding removes "\n" or "\r\n" in the file's encoding.
func (t *Reader) trimEnding(raw []byte) []byte {
	u := t.unit
	nl := func(b []byte, c byte) bool {
		if len(b) < u {
			return false
		}
		tail := b[len(b)-u:]
		switch t.encoding {
		case UTF16LE:
			return tail[0] == c && tail[1] == 0
		case UTF16BE:
			return tail[0] == 0 && tail[1] == c
		}
		return tail[0] == c
	}
	if nl(raw, '\n') {
		raw = raw[:len(raw)-u]
		if nl(raw, '\r') {
			raw = raw[:len(raw)-u]
		}
	}
	return raw
}

// Lines yields the file's lines, a long line in parts. A read error ends
// the sequence with that error.
func (t *Reader) Lines() iter.Seq2[Line, error] {
	return func(yield func(Line, error) bool) {
		for {
			raw, complete, off, err := t.next()
			if errors.Is(err, io.EOF) {
				return
			}
			if err != nil {
				yield(Line{Number: t.line + 1, Offset: off}, err)
				return
			}
			if t.part == 0 {
				t.line++
			}
			l := Line{Number: t.line, Offset: off, Cut: !complete}
			if !complete || t.part > 0 {
				t.part++
				l.Part = t.part
			}
			if complete {
				t.part = 0
			}
			l.Text = t.decode(t.trimEnding(raw))
			if !yield(l, nil) {
				return
			}
		}
	}
}

// Pieces yields the file's content, line endings kept, in pieces of whole
// lines of at most the bound in bytes of the file; a line over the bound is
// cut, and its piece says so.
func (t *Reader) Pieces() iter.Seq2[Piece, error] {
	limit := t.MaxLine
	if limit <= 0 {
		limit = MaxLine
	}
	return func(yield func(Piece, error) bool) {
		var b strings.Builder
		var p Piece
		rawLen := 0
		flush := func() bool {
			if rawLen == 0 {
				return true
			}
			p.Text = b.String()
			ok := yield(p, nil)
			b.Reset()
			p, rawLen = Piece{}, 0
			return ok
		}
		for {
			raw, complete, off, err := t.next()
			if errors.Is(err, io.EOF) {
				flush()
				return
			}
			if err != nil {
				if flush() {
					yield(Piece{FirstLine: t.line + 1, LastLine: t.line + 1, Offset: off}, err)
				}
				return
			}
			if rawLen > 0 && rawLen+len(raw) > limit && !flush() {
				return
			}
			if t.part == 0 {
				t.line++
			}
			if complete {
				t.part = 0
			} else {
				t.part++
			}
			if rawLen == 0 {
				p.FirstLine, p.Offset = t.line, off
			}
			p.LastLine, p.Cut = t.line, !complete
			b.WriteString(t.decode(raw))
			rawLen += len(raw)
			if !complete && !flush() {
				return
			}
		}
	}
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
	s := string(utf16.Decode(u))
	if len(b)%2 == 1 {
		s += "\uFFFD" // a last odd byte is shown, not dropped
	}
	return s
}

// Text is a small text file decoded whole.
type Text struct {
	Encoding string // UTF8, UTF8BOM, UTF16LE, UTF16BE or Windows1252
	Content  string // decoded, with line endings kept
}

// Decode decodes a file held in memory, with the same rules as Reader; long
// lines are kept whole. Use Reader for evidence, whose size is not bounded.
func Decode(b []byte) *Text {
	r, _ := NewReader(bytes.NewReader(b))
	r.MaxLine = len(b) + 8
	var s strings.Builder
	for p := range r.Pieces() {
		s.WriteString(p.Text)
	}
	return &Text{Encoding: r.Encoding(), Content: s.String()}
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
