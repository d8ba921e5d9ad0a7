// Package prefetch reads Windows Prefetch (.pf) files, versions 17 (XP),
// 23 (Vista/7), 26 (8.x), 30 (Windows 10, both layouts) and 31 (Windows 11),
// compressed (MAM\x04, LZXPRESS Huffman) or not. It follows libyal's
// "Windows Prefetch File (PF) format" document.
package prefetch

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"triage/parsers/lzxpress"
)

// ErrNotPrefetch is wrapped when the input is neither SCCA nor MAM data.
var ErrNotPrefetch = errors.New("prefetch: not a prefetch file")

// FormatError reports damaged data and where it was found, as an offset in
// the (decompressed) prefetch data.
type FormatError struct {
	Offset int64
	Msg    string
}

func (e *FormatError) Error() string {
	return fmt.Sprintf("prefetch: %s at offset 0x%x", e.Msg, e.Offset)
}

// headerSize is the SCCA header plus the file information fields every
// version shares.
const headerSize = 120

// maxFileSize bounds what is read: real files are well under 1 MiB.
const maxFileSize = lzxpress.DefaultMaxOutput

// File is a parsed prefetch file.
type File struct {
	Version             int  // 17, 23, 26, 30, 31
	Variant             int  // for version 30: 1 (metrics at 0x130) or 2 (0x128, Windows 10 1903+); else 0
	Compressed          bool // stored as MAM\x04
	Executable          string
	ExecutableTruncated bool // the header holds at most 29 characters
	Hash                uint32
	RunCount            uint32
	LastRuns            []time.Time // newest first; unused slots omitted
	Volumes             []Volume
	Files               []FileMetric
	Directories         []string // every volume's directory strings, in order
}

// Volume is one volume the process touched.
type Volume struct {
	DevicePath  string
	Serial      uint32
	Created     time.Time
	Directories []string
}

// FileMetric is one file the process loaded in its first seconds.
type FileMetric struct {
	Name          string
	FileReference uint64 // NTFS MFT reference; 0 for version 17
}

// Open reads the named file.
func Open(name string) (*File, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	return Parse(f, st.Size())
}

// Parse decodes a prefetch file. On a truncated or damaged file it returns
// what it could read together with the error.
func Parse(r io.ReaderAt, size int64) (*File, error) {
	if size < 0 || size > maxFileSize {
		return nil, fmt.Errorf("prefetch: file of %d bytes outside 0..%d", size, maxFileSize)
	}
	raw := make([]byte, size)
	if n, err := r.ReadAt(raw, 0); int64(n) < size {
		return nil, fmt.Errorf("prefetch: read: %w", err)
	}
	data, compressed, decompressErr := decompress(raw)
	if data == nil {
		return nil, decompressErr
	}
	p := &File{Compressed: compressed}
	err := p.parse(data)
	if decompressErr != nil {
		// The decoded prefix may hold the header and run times; keep them,
		// but never let a short stream pass for a whole file.
		return p, errors.Join(decompressErr, err)
	}
	return p, err
}

// decompress returns the SCCA data. When a MAM stream breaks off it returns
// the prefix that decoded (if it can hold a header) and the error.
func decompress(raw []byte) ([]byte, bool, error) {
	if len(raw) < 8 || !bytes.Equal(raw[:4], []byte("MAM\x04")) {
		return raw, false, nil
	}
	outSize := int(binary.LittleEndian.Uint32(raw[4:]))
	data, err := lzxpress.DecompressHuffman(raw[8:], outSize)
	if err == nil {
		return data, true, nil
	}
	err = fmt.Errorf("prefetch: decompress (%d of %d bytes decoded): %w", len(data), outSize, err)
	if len(data) < headerSize {
		return nil, true, err
	}
	return data, true, err
}

type reader struct{ b []byte }

func (r reader) u32(off int) (uint32, error) {
	if off < 0 || off+4 > len(r.b) {
		return 0, &FormatError{int64(off), "truncated: 4 bytes needed"}
	}
	return binary.LittleEndian.Uint32(r.b[off:]), nil
}

func (r reader) u64(off int) (uint64, error) {
	if off < 0 || off+8 > len(r.b) {
		return 0, &FormatError{int64(off), "truncated: 8 bytes needed"}
	}
	return binary.LittleEndian.Uint64(r.b[off:]), nil
}

// span checks that [off, off+n) lies in the data.
func (r reader) span(off, n int, what string) error {
	if off < 0 || n < 0 || off+n > len(r.b) || off+n < off {
		return &FormatError{int64(off), fmt.Sprintf("%s of %d bytes overruns the data (%d bytes)", what, n, len(r.b))}
	}
	return nil
}

// layout is where the per-version fields sit.
type layout struct {
	lastRunOff, lastRuns, runCountOff, metricSize, volumeSize int
}

func layoutFor(version int, metricsOff uint32) (layout, int, error) {
	switch version {
	case 17:
		return layout{0x78, 1, 0x90, 20, 40}, 0, nil
	case 23:
		return layout{0x80, 1, 0x98, 32, 104}, 0, nil
	case 26:
		return layout{0x80, 8, 0xd0, 32, 104}, 0, nil
	case 30:
		if metricsOff == 0x128 {
			return layout{0x80, 8, 0xc8, 32, 96}, 2, nil
		}
		return layout{0x80, 8, 0xd0, 32, 96}, 1, nil
	case 31:
		return layout{0x80, 8, 0xc8, 32, 96}, 0, nil
	}
	return layout{}, 0, fmt.Errorf("prefetch: unsupported version %d", version)
}

func (p *File) parse(b []byte) error {
	r := reader{b}
	if len(b) < 8 || !bytes.Equal(b[4:8], []byte("SCCA")) {
		return fmt.Errorf("%w: no SCCA signature at offset 0x4", ErrNotPrefetch)
	}
	if len(b) < headerSize {
		return &FormatError{int64(len(b)), "truncated header"}
	}
	p.Version = int(binary.LittleEndian.Uint32(b))
	p.Executable = utf16z(b[16:76])
	p.ExecutableTruncated = len([]rune(p.Executable)) >= 29
	p.Hash = binary.LittleEndian.Uint32(b[76:])
	metricsOff, _ := r.u32(84)
	lay, variant, err := layoutFor(p.Version, metricsOff)
	if err != nil {
		return err
	}
	p.Variant = variant
	if p.RunCount, err = r.u32(lay.runCountOff); err != nil {
		return err
	}
	for i := 0; i < lay.lastRuns; i++ {
		ft, err := r.u64(lay.lastRunOff + 8*i)
		if err != nil {
			return err
		}
		if t := filetime(ft); !t.IsZero() {
			p.LastRuns = append(p.LastRuns, t)
		}
	}
	// The two sections are independent: damage in one does not hide the other.
	return errors.Join(p.parseMetrics(r, lay), p.parseVolumes(r, lay))
}

// damage keeps the first error of a section and counts the others, so a
// badly damaged file gives a readable error rather than thousands.
type damage struct {
	first error
	more  int
}

func (d *damage) add(err error) {
	if d.first == nil {
		d.first = err
	} else {
		d.more++
	}
}

func (d *damage) err() error {
	if d.first == nil || d.more == 0 {
		return d.first
	}
	return fmt.Errorf("%w (and %d more errors in this section)", d.first, d.more)
}

// clip returns the part of [off, off+n) inside the data, and an error if
// that is not all of it.
func (r reader) clip(off, n int, what string) ([]byte, error) {
	if err := r.span(off, n, what); err != nil {
		if off < 0 || n < 0 || off > len(r.b) {
			return nil, err
		}
		return r.b[off:], err
	}
	return r.b[off : off+n], nil
}

func (p *File) parseMetrics(r reader, lay layout) error {
	off, _ := r.u32(84)
	count, _ := r.u32(88)
	namesOff, _ := r.u32(100)
	namesSize, _ := r.u32(104)
	var bad damage
	entries, err := r.clip(int(off), int(count)*lay.metricSize, "file metrics array")
	if err != nil {
		bad.add(err)
	}
	names, err := r.clip(int(namesOff), int(namesSize), "filename strings")
	if err != nil {
		bad.add(err)
	}
	for i := 0; (i+1)*lay.metricSize <= len(entries); i++ {
		e := entries[i*lay.metricSize:]
		var m FileMetric
		nameOff := int(binary.LittleEndian.Uint32(e[8:]))
		nameChars := int(binary.LittleEndian.Uint32(e[12:]))
		if lay.metricSize == 32 {
			nameOff = int(binary.LittleEndian.Uint32(e[12:]))
			nameChars = int(binary.LittleEndian.Uint32(e[16:]))
			m.FileReference = binary.LittleEndian.Uint64(e[24:])
		}
		if nameOff < 0 || nameChars < 0 || nameOff+2*nameChars > len(names) {
			bad.add(&FormatError{int64(int(off) + i*lay.metricSize),
				fmt.Sprintf("file metrics entry %d names bytes outside the filename strings", i)})
			continue
		}
		m.Name = utf16z(names[nameOff : nameOff+2*nameChars])
		p.Files = append(p.Files, m)
	}
	return bad.err()
}

func (p *File) parseVolumes(r reader, lay layout) error {
	off, _ := r.u32(108)
	count, _ := r.u32(112)
	size, _ := r.u32(116)
	var bad damage
	vinfo, err := r.clip(int(off), int(size), "volume information")
	if err != nil {
		bad.add(err)
	}
	if int(count)*lay.volumeSize > int(size) {
		bad.add(&FormatError{int64(off), fmt.Sprintf("%d volumes do not fit in %d bytes", count, size)})
	}
	for i := 0; i < int(count) && (i+1)*lay.volumeSize <= len(vinfo); i++ {
		e := vinfo[i*lay.volumeSize:]
		pathOff := int(binary.LittleEndian.Uint32(e[0:]))
		pathChars := int(binary.LittleEndian.Uint32(e[4:]))
		v := Volume{
			Created: filetime(binary.LittleEndian.Uint64(e[8:])),
			Serial:  binary.LittleEndian.Uint32(e[16:]),
		}
		if pathOff < 0 || pathChars < 0 || pathOff+2*pathChars > len(vinfo) {
			bad.add(&FormatError{int64(int(off) + i*lay.volumeSize), fmt.Sprintf("volume %d device path outside the volume information", i)})
		} else {
			v.DevicePath = utf16z(vinfo[pathOff : pathOff+2*pathChars])
		}
		dirOff := int(binary.LittleEndian.Uint32(e[28:]))
		dirCount := int(binary.LittleEndian.Uint32(e[32:]))
		dirs, err := directoryStrings(vinfo, dirOff, dirCount)
		if err != nil {
			bad.add(&FormatError{int64(int(off) + dirOff), fmt.Sprintf("volume %d: %v", i, err)})
		}
		v.Directories = dirs
		p.Volumes = append(p.Volumes, v)
		p.Directories = append(p.Directories, dirs...)
	}
	return bad.err()
}

// directoryStrings reads count entries of u16 length, UTF-16, u16 NUL.
func directoryStrings(b []byte, off, count int) ([]string, error) {
	var out []string
	for i := 0; i < count; i++ {
		if off < 0 || off+2 > len(b) {
			return out, fmt.Errorf("directory string %d truncated", i)
		}
		n := int(binary.LittleEndian.Uint16(b[off:]))
		if off+2+2*n > len(b) {
			return out, fmt.Errorf("directory string %d of %d characters truncated", i, n)
		}
		out = append(out, utf16z(b[off+2:off+2+2*n]))
		off += 2 + 2*n + 2
	}
	return out, nil
}

// utf16z decodes UTF-16LE up to the first NUL, leniently: unpaired
// surrogates become U+FFFD. It writes UTF-8 directly: going through
// []uint16 and []rune cost three allocations per name, and a prefetch file
// holds hundreds of names.
func utf16z(b []byte) string {
	out := make([]byte, 0, len(b)/2)
	for i := 0; i+1 < len(b); i += 2 {
		c := rune(binary.LittleEndian.Uint16(b[i:]))
		switch {
		case c == 0:
			return string(out)
		case c < utf8.RuneSelf:
			out = append(out, byte(c))
			continue
		case utf16.IsSurrogate(c):
			if i+3 < len(b) {
				if r := utf16.DecodeRune(c, rune(binary.LittleEndian.Uint16(b[i+2:]))); r != utf8.RuneError {
					out = utf8.AppendRune(out, r)
					i += 2
					continue
				}
			}
			c = utf8.RuneError
		}
		out = utf8.AppendRune(out, c)
	}
	return string(out)
}

const filetimeEpochDelta = 116444736000000000

func filetime(ft uint64) time.Time {
	if ft == 0 || ft < filetimeEpochDelta/2 {
		return time.Time{}
	}
	secs := int64(ft/10000000) - filetimeEpochDelta/10000000
	return time.Unix(secs, int64(ft%10000000)*100).UTC()
}
