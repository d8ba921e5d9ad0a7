// Package lzxpress decodes LZXPRESS Huffman data (Microsoft MS-XCA §2.2.4),
// the compression Windows 10 and later use for prefetch files (MAM\x04).
//
// The stream is a series of blocks, each producing up to 65536 bytes of
// output and starting with a 256-byte table of 512 four-bit code lengths.
// Symbols below 256 are literals; the others encode a match length and the
// bit count of its offset. Bits are read most significant first from
// 16-bit little-endian words.
package lzxpress

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// DefaultMaxOutput is the largest output DecompressHuffman accepts; real
// prefetch files are under 1 MiB.
const DefaultMaxOutput = 16 << 20

const (
	blockSize   = 65536
	tableBytes  = 256
	symbolCount = 512
	maxCodeLen  = 15
)

// ErrCorrupt is wrapped by every error about malformed input.
var ErrCorrupt = errors.New("lzxpress: corrupt input")

func corrupt(off int, format string, args ...any) error {
	return fmt.Errorf("%w: %s at offset 0x%x", ErrCorrupt, fmt.Sprintf(format, args...), off)
}

// DecompressHuffman decodes src into exactly outSize bytes.
func DecompressHuffman(src []byte, outSize int) ([]byte, error) {
	if outSize < 0 || outSize > DefaultMaxOutput {
		return nil, fmt.Errorf("lzxpress: declared output size %d outside 0..%d", outSize, DefaultMaxOutput)
	}
	out := make([]byte, outSize)
	d := decoder{src: src, out: out}
	for d.outPos < outSize {
		if err := d.block(); err != nil {
			return out[:d.outPos], err
		}
	}
	return out, nil
}

// fastBits is how many leading bits the direct lookup table covers; the
// rarer longer codes are decoded canonically from the per-length counts.
const fastBits = 11

type decoder struct {
	src    []byte
	in     int // next unread input byte
	out    []byte
	outPos int
	// fast maps the next fastBits bits to symbol | length<<9; length 0
	// means the code is longer than fastBits.
	fast       [1 << fastBits]uint16
	count      [maxCodeLen + 1]int
	firstCode  [maxCodeLen + 1]int // first code of each length
	firstIndex [maxCodeLen + 1]int // its symbol's position in sorted
	sorted     [symbolCount]uint16 // symbols by (code length, value)
}

// buildTable reads the code lengths at d.in and sets up decoding for the
// canonical code they define. The lengths must fill the code space exactly.
func (d *decoder) buildTable() error {
	if d.in+tableBytes > len(d.src) {
		return corrupt(d.in, "code length table truncated")
	}
	var lens [symbolCount]uint8
	d.count = [maxCodeLen + 1]int{}
	for i, b := range d.src[d.in : d.in+tableBytes] {
		lens[2*i] = b & 0x0f
		lens[2*i+1] = b >> 4
		d.count[b&0x0f]++
		d.count[b>>4]++
	}
	space := 0
	for l := 1; l <= maxCodeLen; l++ {
		space += d.count[l] << (maxCodeLen - l)
	}
	if space != 1<<maxCodeLen {
		return corrupt(d.in, "code lengths do not fill the code space")
	}
	code, index := 0, 0
	var next [maxCodeLen + 1]int
	for l := 1; l <= maxCodeLen; l++ {
		d.firstCode[l], d.firstIndex[l] = code, index
		next[l] = index
		index += d.count[l]
		code = (code + d.count[l]) << 1
	}
	d.fast = [1 << fastBits]uint16{}
	for sym, l := range lens {
		if l == 0 {
			continue
		}
		i := next[l]
		next[l]++
		d.sorted[i] = uint16(sym)
		if l > fastBits {
			continue
		}
		shift := fastBits - int(l)
		first := (d.firstCode[l] + i - d.firstIndex[l]) << shift
		entry := uint16(sym) | uint16(l)<<9
		for j := first; j < first+1<<shift; j++ {
			d.fast[j] = entry
		}
	}
	d.in += tableBytes
	return nil
}

// slowSymbol decodes a code longer than fastBits from the top of bits.
func (d *decoder) slowSymbol(bits uint32) (sym, length int) {
	for l := fastBits + 1; l <= maxCodeLen; l++ {
		i := int(bits>>(32-l)) - d.firstCode[l]
		if i >= 0 && i < d.count[l] {
			return int(d.sorted[d.firstIndex[l]+i]), l
		}
	}
	return -1, 0 // unreachable for a complete code; checked anyway
}

// block decodes one block: up to 65536 bytes of output, though the last
// match may run past the block's end. The bit buffer lives in locals so the
// hot loop keeps it in registers. Past the end of input the words read as
// zero; the exhaustion check then stops the loop.
func (d *decoder) block() error {
	if err := d.buildTable(); err != nil {
		return err
	}
	src, out := d.src, d.out
	in, pos := d.in, d.outPos
	word := func(at int) uint32 {
		if at+2 > len(src) {
			return 0
		}
		return uint32(binary.LittleEndian.Uint16(src[at:]))
	}
	bits := word(in)<<16 | word(in+2)
	in += 4
	extra := 16 // bits held beyond the 16 the next symbol may need
	end := pos + blockSize
	if end > len(out) {
		end = len(out)
	}
	for pos < end {
		if in > len(src)+4 {
			d.outPos = pos
			return corrupt(len(src), "input exhausted with %d of %d bytes decoded", pos, len(out))
		}
		var sym, n int
		if e := d.fast[bits>>(32-fastBits)]; e>>9 != 0 {
			sym, n = int(e&511), int(e>>9)
		} else if sym, n = d.slowSymbol(bits); sym < 0 {
			d.outPos = pos
			return corrupt(in, "undecodable bit pattern")
		}
		bits <<= n
		extra -= n
		if extra < 0 {
			bits |= word(in) << -extra
			extra += 16
			in += 2
		}
		if sym < 256 {
			out[pos] = byte(sym)
			pos++
			continue
		}
		sym -= 256
		length := sym & 15
		offsetBits := sym >> 4
		if length == 15 {
			var err error
			d.in = in
			if length, err = d.longLength(); err != nil {
				d.outPos = pos
				return err
			}
			in = d.in
		}
		length += 3
		offset := 1 << offsetBits
		if offsetBits > 0 {
			offset += int(bits >> (32 - offsetBits))
			bits <<= offsetBits
			extra -= offsetBits
			if extra < 0 {
				bits |= word(in) << -extra
				extra += 16
				in += 2
			}
		}
		if offset > pos {
			d.outPos = pos
			return corrupt(in, "match offset %d before start of output (at %d)", offset, pos)
		}
		if length > len(out)-pos {
			length = len(out) - pos
		}
		from := pos - offset
		if offset >= length && length >= 32 {
			copy(out[pos:pos+length], out[from:from+length])
		} else {
			// Short matches are cheaper inline, and an overlapping match
			// must go forward byte by byte so each byte repeats one just
			// written.
			dst, from := out[pos:pos+length], out[from:from+length]
			for i := range dst {
				dst[i] = from[i]
			}
		}
		pos += length
	}
	d.in, d.outPos = in, pos
	return nil
}

// longLength reads the escaped match length from the byte stream at d.in:
// a byte, then if it is 255 a u16, then if that is 0 a u32.
func (d *decoder) longLength() (int, error) {
	if d.in >= len(d.src) {
		return 0, corrupt(d.in, "match length truncated")
	}
	length := int(d.src[d.in])
	d.in++
	if length < 255 {
		return length + 15, nil
	}
	if d.in+2 > len(d.src) {
		return 0, corrupt(d.in, "match length truncated")
	}
	length = int(binary.LittleEndian.Uint16(d.src[d.in:]))
	d.in += 2
	if length == 0 {
		if d.in+4 > len(d.src) {
			return 0, corrupt(d.in, "match length truncated")
		}
		length = int(binary.LittleEndian.Uint32(d.src[d.in:]))
		d.in += 4
	}
	if length < 15 || length > DefaultMaxOutput {
		return 0, corrupt(d.in, "match length %d invalid", length)
	}
	return length, nil
}
