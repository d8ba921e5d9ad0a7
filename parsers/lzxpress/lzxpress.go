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

type decoder struct {
	src    []byte
	in     int // next unread input byte
	out    []byte
	outPos int
	lens   [symbolCount]uint8
	table  [1 << maxCodeLen]uint16 // next 15 bits → symbol
	bits   uint32                  // left-aligned bit buffer
	extra  int                     // bits held beyond the first 16
}

// buildTable reads the code lengths at d.in and fills the decoding table
// with the canonical code. The lengths must fill the code space exactly.
func (d *decoder) buildTable() error {
	if d.in+tableBytes > len(d.src) {
		return corrupt(d.in, "code length table truncated")
	}
	var count [maxCodeLen + 1]int
	for i, b := range d.src[d.in : d.in+tableBytes] {
		d.lens[2*i] = b & 0x0f
		d.lens[2*i+1] = b >> 4
		count[b&0x0f]++
		count[b>>4]++
	}
	space := 0
	for l := 1; l <= maxCodeLen; l++ {
		space += count[l] << (maxCodeLen - l)
	}
	if space != 1<<maxCodeLen {
		return corrupt(d.in, "code lengths do not fill the code space")
	}
	pos := 0
	for l := 1; l <= maxCodeLen; l++ {
		span := 1 << (maxCodeLen - l)
		for sym := 0; sym < symbolCount; sym++ {
			if int(d.lens[sym]) != l {
				continue
			}
			for i := pos; i < pos+span; i++ {
				d.table[i] = uint16(sym)
			}
			pos += span
		}
	}
	d.in += tableBytes
	return nil
}

// word reads the 16-bit word at d.in; past the end of input it yields zero
// bits, which the output size check then catches.
func (d *decoder) word() uint32 {
	if d.in+2 > len(d.src) {
		d.in += 2
		return 0
	}
	w := uint32(binary.LittleEndian.Uint16(d.src[d.in:]))
	d.in += 2
	return w
}

func (d *decoder) consume(n int) {
	d.bits <<= n
	d.extra -= n
	if d.extra < 0 {
		d.bits |= d.word() << (-d.extra)
		d.extra += 16
	}
}

// block decodes one block: up to 65536 bytes of output, though the last
// match may run past the block's end.
func (d *decoder) block() error {
	if err := d.buildTable(); err != nil {
		return err
	}
	d.bits = d.word()<<16 | d.word()
	d.extra = 16
	end := d.outPos + blockSize
	if end > len(d.out) {
		end = len(d.out)
	}
	for d.outPos < end {
		if d.in > len(d.src)+4 {
			return corrupt(len(d.src), "input exhausted with %d of %d bytes decoded", d.outPos, len(d.out))
		}
		sym := int(d.table[d.bits>>(32-maxCodeLen)])
		d.consume(int(d.lens[sym]))
		if sym < 256 {
			d.out[d.outPos] = byte(sym)
			d.outPos++
			continue
		}
		sym -= 256
		length := sym & 15
		offsetBits := sym >> 4
		if length == 15 {
			var err error
			if length, err = d.longLength(); err != nil {
				return err
			}
		}
		length += 3
		offset := 1 << offsetBits
		if offsetBits > 0 {
			offset += int(d.bits >> (32 - offsetBits))
			d.consume(offsetBits)
		}
		if offset > d.outPos {
			return corrupt(d.in, "match offset %d before start of output (at %d)", offset, d.outPos)
		}
		if length > len(d.out)-d.outPos {
			length = len(d.out) - d.outPos
		}
		// Byte by byte: a match may overlap the output it is copying.
		src := d.outPos - offset
		if offset >= length {
			copy(d.out[d.outPos:d.outPos+length], d.out[src:src+length])
		} else {
			for i := 0; i < length; i++ {
				d.out[d.outPos+i] = d.out[src+i]
			}
		}
		d.outPos += length
	}
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
