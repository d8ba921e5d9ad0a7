// Package vhd reads Microsoft Virtual Hard Disk (VHD) images, fixed and
// dynamic. Differencing disks are refused.
package vhd

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// ErrNotVHD is returned when the footer has no "conectix" cookie.
var ErrNotVHD = errors.New("vhd: not a VHD image")

// FormatError reports a damaged structure.
type FormatError struct {
	Offset int64
	Msg    string
}

func (e *FormatError) Error() string { return fmt.Sprintf("vhd: %s at offset %#x", e.Msg, e.Offset) }

const (
	footerSize     = 512
	diskFixed      = 2
	diskDynamic    = 3
	diskDiffering  = 4
	unallocated    = 0xFFFFFFFF
	maxBATEntries  = 1 << 24
	maxBlockSize   = 256 << 20
	sectorSize     = 512
	dynamicHdrSize = 1024
)

// Reader is the virtual disk of a VHD image.
type Reader struct {
	r          io.ReaderAt
	fileSize   int64
	size       int64
	dynamic    bool
	blockSize  int64
	bitmapSize int64
	bat        []uint32
}

// IsVHD reports whether the last 512 bytes of a file of the given size carry
// a VHD footer.
func IsVHD(r io.ReaderAt, size int64) bool {
	if size < footerSize {
		return false
	}
	b := make([]byte, 8)
	_, err := r.ReadAt(b, size-footerSize)
	return err == nil && string(b) == "conectix"
}

// NewReader parses a VHD file of the given size.
func NewReader(r io.ReaderAt, size int64) (*Reader, error) {
	if size < footerSize {
		return nil, ErrNotVHD
	}
	footer := make([]byte, footerSize)
	if _, err := r.ReadAt(footer, size-footerSize); err != nil {
		return nil, fmt.Errorf("vhd: reading footer: %w", err)
	}
	if !bytes.Equal(footer[:8], []byte("conectix")) {
		// A truncated dynamic disk keeps the footer copy at offset 0.
		if _, err := r.ReadAt(footer, 0); err != nil || !bytes.Equal(footer[:8], []byte("conectix")) {
			return nil, ErrNotVHD
		}
	}
	v := &Reader{r: r, fileSize: size, size: int64(binary.BigEndian.Uint64(footer[48:]))}
	if v.size < 0 || v.size > 1<<50 {
		return nil, &FormatError{size - footerSize + 48, fmt.Sprintf("implausible disk size %d", v.size)}
	}
	switch kind := binary.BigEndian.Uint32(footer[60:]); kind {
	case diskFixed:
		if v.size > size-footerSize {
			return nil, &FormatError{size - footerSize, fmt.Sprintf("fixed disk of %d bytes truncated to %d", v.size, size-footerSize)}
		}
		return v, nil
	case diskDynamic:
	case diskDiffering:
		return nil, &FormatError{size - footerSize + 60, "differencing disk needs its parent; refused"}
	default:
		return nil, &FormatError{size - footerSize + 60, fmt.Sprintf("unknown disk type %d", kind)}
	}
	v.dynamic = true
	hdrOff := int64(binary.BigEndian.Uint64(footer[16:]))
	hdr := make([]byte, dynamicHdrSize)
	if hdrOff <= 0 || hdrOff > size {
		return nil, &FormatError{size - footerSize + 16, "bad dynamic header offset"}
	}
	if _, err := r.ReadAt(hdr, hdrOff); err != nil || string(hdr[:8]) != "cxsparse" {
		return nil, &FormatError{hdrOff, "bad dynamic header"}
	}
	batOff := int64(binary.BigEndian.Uint64(hdr[16:]))
	entries := int64(binary.BigEndian.Uint32(hdr[28:]))
	v.blockSize = int64(binary.BigEndian.Uint32(hdr[32:]))
	if v.blockSize < sectorSize || v.blockSize > maxBlockSize || v.blockSize%sectorSize != 0 {
		return nil, &FormatError{hdrOff + 32, fmt.Sprintf("implausible block size %d", v.blockSize)}
	}
	if entries > maxBATEntries || entries*4 > size || entries*v.blockSize < v.size {
		return nil, &FormatError{hdrOff + 28, fmt.Sprintf("implausible block table of %d entries", entries)}
	}
	raw := make([]byte, entries*4)
	if _, err := r.ReadAt(raw, batOff); err != nil {
		return nil, &FormatError{batOff, "truncated block allocation table"}
	}
	v.bat = make([]uint32, entries)
	for i := range v.bat {
		v.bat[i] = binary.BigEndian.Uint32(raw[i*4:])
	}
	v.bitmapSize = (v.blockSize/sectorSize/8 + sectorSize - 1) / sectorSize * sectorSize
	return v, nil
}

// Size returns the virtual disk size in bytes.
func (v *Reader) Size() int64 { return v.size }

// Dynamic reports whether the disk is dynamically allocated.
func (v *Reader) Dynamic() bool { return v.dynamic }

// ReadAt reads the virtual disk; unallocated blocks read as zeros.
func (v *Reader) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("vhd: negative offset")
	}
	if !v.dynamic {
		if off >= v.size {
			return 0, io.EOF
		}
		want := min(int64(len(p)), v.size-off)
		n, err := v.r.ReadAt(p[:want], off)
		if err == nil && want < int64(len(p)) {
			err = io.EOF
		}
		return n, err
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
		entry := v.bat[block]
		if entry == unallocated {
			clear(p[n : n+m])
		} else {
			at := int64(entry)*sectorSize + v.bitmapSize + in
			if at+int64(m) > v.fileSize {
				return n, &FormatError{at, fmt.Sprintf("block %d lies beyond the end of the file", block)}
			}
			if _, err := v.r.ReadAt(p[n:n+m], at); err != nil {
				return n, fmt.Errorf("vhd: reading block %d at offset %#x: %w", block, at, err)
			}
		}
		n += m
	}
	return n, nil
}
