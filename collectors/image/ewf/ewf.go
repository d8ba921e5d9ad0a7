// Package ewf reads Expert Witness (EnCase E01) images: segment files .E01,
// .E02…, zlib-compressed chunks located through table sections, and the MD5
// and SHA-1 hashes the acquisition tool stored.
package ewf

import (
	"bytes"
	"container/list"
	"crypto/md5"
	"crypto/sha1"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sync"
)

var signature = []byte("EVF\x09\x0d\x0a\xff\x00")

// ErrNotEWF is returned for a first segment without the EVF signature.
var ErrNotEWF = errors.New("ewf: not an EWF segment")

// FormatError reports a damaged structure in one segment.
type FormatError struct {
	Segment int   // 0-based index in the segments passed to NewReader
	Offset  int64 // byte offset within that segment
	Msg     string
	Err     error
}

func (e *FormatError) Error() string {
	s := fmt.Sprintf("ewf: %s in segment %d at offset %#x", e.Msg, e.Segment+1, e.Offset)
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *FormatError) Unwrap() error { return e.Err }

// Segment is one file of an image.
type Segment struct {
	R    io.ReaderAt
	Size int64
}

type chunk struct {
	segment    int
	offset     int64
	size       int64 // stored bytes, including the checksum of raw chunks
	compressed bool
}

const (
	sectionHeaderSize = 76
	maxChunkSize      = 16 << 20 // 32768 sectors of 512 bytes, the most ewfacquire offers
	maxChunks         = 1 << 31
	cacheBytes        = 32 << 20 // decompressed chunks kept per image
)

// Reader is the logical disk of an EWF image. It is safe for concurrent use.
type Reader struct {
	segments  []Segment
	chunks    []chunk
	chunkSize int64
	size      int64

	// StoredMD5 and StoredSHA1 are the lowercase hex hashes from the hash
	// and digest sections, empty when absent.
	StoredMD5, StoredSHA1 string
	// Problems lists damaged structures that were skipped; data they
	// described reads as an error.
	Problems []error

	inflaters sync.Pool // *inflateState, reused between chunks
	goInflate bool      // tests: inflate with the Go decoder even if libdeflate is loaded
	stored    sync.Pool // *[]byte holding a compressed chunk while it is inflated

	mu         sync.Mutex
	cache      map[int]*list.Element
	lru        *list.List
	pending    map[int]*pendingChunk
	ends       [streams]int  // chunk after the end of recent reads, to spot sequential access
	sequential [streams]bool // the read ending at ends[k] continued an earlier one
	endNext    int
	ahead      chan struct{} // one token per read-ahead goroutine running
}

// NewReader parses the segments of one image, in order.
func NewReader(segments []Segment) (*Reader, error) {
	if len(segments) == 0 {
		return nil, ErrNotEWF
	}
	r := &Reader{segments: segments, cache: map[int]*list.Element{}, lru: list.New(),
		pending: map[int]*pendingChunk{}, ahead: make(chan struct{}, aheadWorkers())}
	for i := range r.ends {
		r.ends[i] = -1
	}
	var sectorCount, declaredChunks int64
	for si, seg := range segments {
		head := make([]byte, 13)
		if _, err := seg.R.ReadAt(head, 0); err != nil || !bytes.Equal(head[:8], signature) {
			if si == 0 {
				return nil, ErrNotEWF
			}
			r.Problems = append(r.Problems, &FormatError{Segment: si, Msg: "missing EVF signature"})
			continue
		}
		offset := int64(13)
		var lastSectors int64 = -1 // end of the latest sectors section
		seen := map[int64]bool{}
		for offset+sectionHeaderSize <= seg.Size && !seen[offset] {
			seen[offset] = true
			desc := make([]byte, sectionHeaderSize)
			if _, err := seg.R.ReadAt(desc, offset); err != nil {
				r.Problems = append(r.Problems, &FormatError{si, offset, "truncated section descriptor", err})
				break
			}
			kind := string(bytes.TrimRight(desc[:16], "\x00"))
			next := int64(binary.LittleEndian.Uint64(desc[16:]))
			size := int64(binary.LittleEndian.Uint64(desc[24:]))
			body := offset + sectionHeaderSize
			switch kind {
			case "volume", "disk":
				v := make([]byte, 24)
				if _, err := seg.R.ReadAt(v, body); err != nil {
					return nil, &FormatError{si, body, "truncated volume section", err}
				}
				declaredChunks = int64(binary.LittleEndian.Uint32(v[4:]))
				spc := int64(binary.LittleEndian.Uint32(v[8:]))
				bps := int64(binary.LittleEndian.Uint32(v[12:]))
				sectorCount = int64(binary.LittleEndian.Uint64(v[16:]))
				r.chunkSize = spc * bps
				// Sectors are 512 to 4096 bytes; tiny hostile sectors would make
				// every read decompress thousands of chunks.
				if bps < 512 || bps > 4096 || spc < 1 || r.chunkSize > maxChunkSize || sectorCount < 0 || sectorCount > (1<<62)/max(bps, 1) {
					return nil, &FormatError{si, body, fmt.Sprintf("implausible geometry (%d sectors of %d bytes per chunk)", spc, bps), nil}
				}
				r.size = sectorCount * bps
			case "sectors":
				lastSectors = offset + size
			case "table":
				if err := r.readTable(si, body, size-sectionHeaderSize, lastSectors); err != nil {
					r.Problems = append(r.Problems, err)
				}
			case "hash":
				h := make([]byte, 16)
				if _, err := seg.R.ReadAt(h, body); err == nil {
					r.StoredMD5 = hex.EncodeToString(h)
				}
			case "digest":
				h := make([]byte, 36)
				if _, err := seg.R.ReadAt(h, body); err == nil {
					r.StoredMD5 = hex.EncodeToString(h[:16])
					r.StoredSHA1 = hex.EncodeToString(h[16:])
				}
			}
			if kind == "done" || kind == "next" || next <= offset {
				break
			}
			offset = next
		}
	}
	if r.chunkSize == 0 {
		return nil, &FormatError{0, 13, "no volume section", nil}
	}
	if int64(len(r.chunks)) < declaredChunks {
		r.Problems = append(r.Problems, &FormatError{len(segments) - 1, 0,
			fmt.Sprintf("only %d of %d chunks located (missing or truncated segment?)", len(r.chunks), declaredChunks), nil})
	}
	if r.MD5Zero() {
		r.StoredMD5 = ""
	}
	return r, nil
}

// MD5Zero reports whether the stored MD5 is all zeros (not computed by the
// acquisition tool).
func (r *Reader) MD5Zero() bool { return r.StoredMD5 == "00000000000000000000000000000000" }

func (r *Reader) readTable(si int, body, size, sectorsEnd int64) error {
	seg := r.segments[si]
	h := make([]byte, 24)
	if _, err := seg.R.ReadAt(h, body); err != nil {
		return &FormatError{si, body, "truncated table header", err}
	}
	n := int64(binary.LittleEndian.Uint32(h))
	base := int64(binary.LittleEndian.Uint64(h[8:]))
	if n <= 0 || n*4+24 > size+4 || n*4 > seg.Size || int64(len(r.chunks))+n > maxChunks {
		return &FormatError{si, body, fmt.Sprintf("implausible table entry count %d", n), nil}
	}
	raw := make([]byte, n*4)
	if _, err := seg.R.ReadAt(raw, body+24); err != nil {
		return &FormatError{si, body + 24, "truncated table entries", err}
	}
	end := sectorsEnd
	if end < 0 {
		end = body - sectionHeaderSize
	}
	for i := int64(0); i < n; i++ {
		v := binary.LittleEndian.Uint32(raw[i*4:])
		start := base + int64(v&0x7fffffff)
		var stop int64
		if i+1 < n {
			stop = base + int64(binary.LittleEndian.Uint32(raw[(i+1)*4:])&0x7fffffff)
		} else {
			stop = end
			if stop <= start || stop-start > r.chunkSize+4 {
				stop = start + r.chunkSize + 4
			}
		}
		r.chunks = append(r.chunks, chunk{segment: si, offset: start, size: stop - start, compressed: v&0x80000000 != 0})
	}
	return nil
}

// Size returns the logical size of the disk in bytes.
func (r *Reader) Size() int64 { return r.size }

// ChunkSize returns the uncompressed size of a chunk.
func (r *Reader) ChunkSize() int64 { return r.chunkSize }

// Verification is the result of recomputing the stored hashes.
type Verification struct {
	MD5, SHA1             string // computed, lowercase hex
	MD5Match, SHA1Match   bool   // false also when nothing was stored
	StoredMD5, StoredSHA1 string
}

// Verify reads the whole logical disk and compares its MD5 and SHA-1 with the
// stored ones. An error means a chunk could not be read.
func (r *Reader) Verify() (Verification, error) {
	m, s := md5.New(), sha1.New()
	if _, err := io.Copy(io.MultiWriter(m, s), io.NewSectionReader(r, 0, r.size)); err != nil {
		return Verification{}, err
	}
	v := Verification{MD5: hex.EncodeToString(m.Sum(nil)), SHA1: hex.EncodeToString(s.Sum(nil)), StoredMD5: r.StoredMD5, StoredSHA1: r.StoredSHA1}
	v.MD5Match = v.StoredMD5 != "" && v.StoredMD5 == v.MD5
	v.SHA1Match = v.StoredSHA1 != "" && v.StoredSHA1 == v.SHA1
	return v, nil
}

// SegmentNames returns the names that follow first in an E01 set: for
// "disk.E01", "disk.E02" … "disk.E99", then "disk.EAA" …, keeping the case of
// the extension.
func SegmentNames(first string) []string {
	ext := first[len(first)-min(len(first), 4):]
	if len(ext) != 4 || ext[0] != '.' || (ext[1] != 'E' && ext[1] != 'e') {
		return nil
	}
	base := first[:len(first)-2]
	var names []string
	for i := 2; i <= 99; i++ {
		names = append(names, fmt.Sprintf("%s%02d", base, i))
	}
	upper := ext[1] == 'E'
	for a := 0; a < 26; a++ {
		for b := 0; b < 26; b++ {
			c1, c2 := byte('A'+a), byte('A'+b)
			if !upper {
				c1, c2 = c1+32, c2+32
			}
			names = append(names, fmt.Sprintf("%s%c%c", base, c1, c2))
		}
	}
	return names
}
