// Package vhdx reads Microsoft VHDX images, fixed and dynamic. An image whose
// active header names a non-empty log (the writer did not shut down cleanly)
// is refused with ErrLogNotEmpty rather than replayed: replaying would mean
// reading data the volume never committed, and the original file must not be
// written.
package vhdx

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
)

// ErrNotVHDX is returned when the file identifier is missing.
var ErrNotVHDX = errors.New("vhdx: not a VHDX image")

// ErrLogNotEmpty is returned for an image with pending log entries.
var ErrLogNotEmpty = errors.New("vhdx: log is not empty (image was not closed cleanly); replay refused")

// FormatError reports a damaged structure.
type FormatError struct {
	Offset int64
	Msg    string
}

func (e *FormatError) Error() string { return fmt.Sprintf("vhdx: %s at offset %#x", e.Msg, e.Offset) }

const (
	mib             = 1 << 20
	headerSize      = 4096
	regionTableSize = 64 * 1024
	maxRegions      = 2047
	maxMetaEntries  = 2047
	maxBATEntries   = 1 << 26
)

var (
	guidBAT        = guid("2DC27766-F623-4200-9D64-115E9BFD4A08")
	guidMetadata   = guid("8B7CA206-4790-4B9A-B8FE-575F050F886E")
	guidFileParams = guid("CAA16737-FA36-4D43-B3B6-33F0AA44E76B")
	guidDiskSize   = guid("2FA54224-CD1B-4876-B211-5DBED83BF4B8")
	guidSectorSize = guid("8141BF1D-A96F-4709-BA47-F233A8FAAB5F")
	castagnoli     = crc32.MakeTable(crc32.Castagnoli)
)

// guid converts the textual form to the on-disk mixed-endian bytes.
func guid(s string) [16]byte {
	var hexdigits []byte
	for i := 0; i < len(s); i++ {
		if s[i] != '-' {
			hexdigits = append(hexdigits, s[i])
		}
	}
	var raw [16]byte
	for i := range raw {
		fmt.Sscanf(string(hexdigits[2*i:2*i+2]), "%02x", &raw[i])
	}
	var g [16]byte
	g[0], g[1], g[2], g[3] = raw[3], raw[2], raw[1], raw[0]
	g[4], g[5] = raw[5], raw[4]
	g[6], g[7] = raw[7], raw[6]
	copy(g[8:], raw[8:])
	return g
}

// Block states stored in the low three bits of a BAT entry.
const (
	blockNotPresent   = 0
	blockUndefined    = 1
	blockZero         = 2
	blockUnmapped     = 3
	blockFullyPresent = 6
	blockPartially    = 7
)

// Reader is the virtual disk of a VHDX image.
type Reader struct {
	r          io.ReaderAt
	fileSize   int64
	size       int64
	blockSize  int64
	chunkRatio int64
	bat        []uint64
}

// IsVHDX reports whether r starts with the VHDX file identifier.
func IsVHDX(r io.ReaderAt) bool {
	b := make([]byte, 8)
	_, err := r.ReadAt(b, 0)
	return err == nil && string(b) == "vhdxfile"
}

// NewReader parses a VHDX file of the given size.
func NewReader(r io.ReaderAt, size int64) (*Reader, error) {
	if !IsVHDX(r) {
		return nil, ErrNotVHDX
	}
	v := &Reader{r: r, fileSize: size}
	hdr, hdrOff, err := v.activeHeader()
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(hdr[48:64], make([]byte, 16)) {
		return nil, fmt.Errorf("%w (header at offset %#x, log of %d bytes at %#x)", ErrLogNotEmpty, hdrOff,
			binary.LittleEndian.Uint32(hdr[68:]), binary.LittleEndian.Uint64(hdr[72:]))
	}
	batOff, batLen, metaOff, metaLen, err := v.regions()
	if err != nil {
		return nil, err
	}
	if err := v.metadata(metaOff, metaLen); err != nil {
		return nil, err
	}
	blocks := (v.size + v.blockSize - 1) / v.blockSize
	entries := blocks + blocks/v.chunkRatio + 1
	// The table can hold no more than its region and the file provide.
	entries = min(entries, int64(batLen)/8, (size-batOff)/8)
	if entries <= 0 || entries > maxBATEntries {
		return nil, &FormatError{batOff, fmt.Sprintf("implausible block table of %d entries", entries)}
	}
	raw := make([]byte, entries*8)
	if n, err := r.ReadAt(raw, batOff); err != nil && n < len(raw) {
		return nil, &FormatError{batOff, "truncated block allocation table"}
	}
	v.bat = make([]uint64, entries)
	for i := range v.bat {
		v.bat[i] = binary.LittleEndian.Uint64(raw[i*8:])
	}
	return v, nil
}

// activeHeader returns the valid header with the higher sequence number.
func (v *Reader) activeHeader() ([]byte, int64, error) {
	var best []byte
	var bestOff int64
	var bestSeq uint64
	for _, off := range []int64{64 * 1024, 128 * 1024} {
		h := make([]byte, headerSize)
		if _, err := v.r.ReadAt(h, off); err != nil || string(h[:4]) != "head" {
			continue
		}
		want := binary.LittleEndian.Uint32(h[4:])
		c := bytes.Clone(h)
		clear(c[4:8])
		if crc32.Checksum(c, castagnoli) != want {
			continue
		}
		if seq := binary.LittleEndian.Uint64(h[8:]); best == nil || seq > bestSeq {
			best, bestOff, bestSeq = h, off, seq
		}
	}
	if best == nil {
		return nil, 0, &FormatError{64 * 1024, "no valid header (both copies damaged)"}
	}
	return best, bestOff, nil
}

func (v *Reader) regions() (batOff int64, batLen uint32, metaOff int64, metaLen uint32, err error) {
	for _, off := range []int64{192 * 1024, 256 * 1024} {
		t := make([]byte, regionTableSize)
		if _, err := v.r.ReadAt(t, off); err != nil || string(t[:4]) != "regi" {
			continue
		}
		want := binary.LittleEndian.Uint32(t[4:])
		c := bytes.Clone(t)
		clear(c[4:8])
		if crc32.Checksum(c, castagnoli) != want {
			continue
		}
		count := int(binary.LittleEndian.Uint32(t[8:]))
		if count > maxRegions {
			continue
		}
		for i := 0; i < count; i++ {
			e := t[16+32*i : 16+32*(i+1)]
			fo := int64(binary.LittleEndian.Uint64(e[16:]))
			ln := binary.LittleEndian.Uint32(e[24:])
			switch [16]byte(e[:16]) {
			case guidBAT:
				batOff, batLen = fo, ln
			case guidMetadata:
				metaOff, metaLen = fo, ln
			}
		}
		if batOff > 0 && metaOff > 0 && batOff < v.fileSize && metaOff < v.fileSize {
			return batOff, batLen, metaOff, metaLen, nil
		}
	}
	return 0, 0, 0, 0, &FormatError{192 * 1024, "no valid region table with BAT and metadata"}
}

func (v *Reader) metadata(off int64, length uint32) error {
	if length < 32 || length > 16*mib {
		return &FormatError{off, fmt.Sprintf("implausible metadata region length %d", length)}
	}
	t := make([]byte, 64*1024)
	if _, err := v.r.ReadAt(t, off); err != nil || string(t[:8]) != "metadata" {
		return &FormatError{off, "bad metadata table"}
	}
	count := int(binary.LittleEndian.Uint16(t[10:]))
	if count > maxMetaEntries {
		return &FormatError{off + 10, fmt.Sprintf("implausible metadata entry count %d", count)}
	}
	var sectorSize int64
	item := func(e []byte, n int) ([]byte, error) {
		io := int64(binary.LittleEndian.Uint32(e[16:]))
		ln := int64(binary.LittleEndian.Uint32(e[20:]))
		if ln < int64(n) || io+int64(n) > int64(length) {
			return nil, &FormatError{off + io, "metadata item outside its region"}
		}
		b := make([]byte, n)
		if _, err := v.r.ReadAt(b, off+io); err != nil {
			return nil, &FormatError{off + io, "truncated metadata item"}
		}
		return b, nil
	}
	for i := 0; i < count; i++ {
		e := t[32+32*i : 32+32*(i+1)]
		switch [16]byte(e[:16]) {
		case guidFileParams:
			b, err := item(e, 8)
			if err != nil {
				return err
			}
			v.blockSize = int64(binary.LittleEndian.Uint32(b))
			if binary.LittleEndian.Uint32(b[4:])&2 != 0 {
				return &FormatError{off, "differencing disk needs its parent; refused"}
			}
		case guidDiskSize:
			b, err := item(e, 8)
			if err != nil {
				return err
			}
			v.size = int64(binary.LittleEndian.Uint64(b))
		case guidSectorSize:
			b, err := item(e, 4)
			if err != nil {
				return err
			}
			sectorSize = int64(binary.LittleEndian.Uint32(b))
		}
	}
	if v.blockSize < mib || v.blockSize > 256*mib || v.blockSize&(v.blockSize-1) != 0 {
		return &FormatError{off, fmt.Sprintf("implausible block size %d", v.blockSize)}
	}
	if sectorSize != 512 && sectorSize != 4096 {
		return &FormatError{off, fmt.Sprintf("implausible logical sector size %d", sectorSize)}
	}
	if v.size <= 0 || v.size > 64<<40 {
		return &FormatError{off, fmt.Sprintf("implausible virtual disk size %d", v.size)}
	}
	v.chunkRatio = (1 << 23) * sectorSize / v.blockSize
	if v.chunkRatio <= 0 {
		return &FormatError{off, "block size larger than a sector bitmap chunk"}
	}
	return nil
}

// Size returns the virtual disk size in bytes.
func (v *Reader) Size() int64 { return v.size }

// ReadAt reads the virtual disk; blocks not present read as zeros.
func (v *Reader) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("vhdx: negative offset")
	}
	n := 0
	for n < len(p) {
		pos := off + int64(n)
		if pos >= v.size {
			return n, io.EOF
		}
		block := pos / v.blockSize
		in := pos % v.blockSize
		m := int(min(int64(len(p)-n), v.blockSize-in, v.size-pos))
		idx := block + block/v.chunkRatio
		var entry uint64
		if idx < int64(len(v.bat)) {
			entry = v.bat[idx]
		}
		switch entry & 7 {
		case blockFullyPresent, blockPartially:
			at := int64(entry>>20) * mib
			if at < 0 || at+in+int64(m) > v.fileSize {
				return n, &FormatError{at, fmt.Sprintf("payload block %d lies beyond the end of the file", block)}
			}
			if _, err := v.r.ReadAt(p[n:n+m], at+in); err != nil {
				return n, fmt.Errorf("vhdx: reading block %d at offset %#x: %w", block, at+in, err)
			}
		default:
			clear(p[n : n+m])
		}
		n += m
	}
	return n, nil
}
