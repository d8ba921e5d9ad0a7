package ewf

// A DEFLATE (RFC 1951) and zlib (RFC 1950) decoder specialised for EWF
// chunks: the whole compressed chunk is in memory and so is the output, so
// back-references copy within the output slice instead of through a sliding
// window, and bits are taken from the input 64 at a time instead of one
// ReadByte call per byte. Inflating is most of the cost of reading an E01;
// this decoder takes about a quarter less CPU than compress/zlib on E01
// chunks of NTFS volumes. The differential fuzz test FuzzInflate holds it
// to compress/zlib's output.

import (
	"encoding/binary"
	"errors"
	"hash/adler32"
	"sync"
)

var (
	errTruncated = errors.New("truncated deflate stream")
	errCorrupt   = errors.New("corrupt deflate stream")
	// errUnusedCode is the corruption that zlib and compress/flate refuse
	// and libdeflate, by design, does not: a codeword an incomplete Huffman
	// code leaves unassigned (libdeflate gives it the code's only symbol, or
	// symbol 0 when the code is empty), a dynamic block declaring more than
	// 286 length or 30 distance codes, or a length code 286/287 or distance
	// code 30/31 (RFC 1951 3.2.6: they "will never actually occur"), which
	// libdeflate reads as codes 285 and 29.
	errUnusedCode = errors.New("corrupt deflate stream: unassigned or reserved code")
	errTooLong    = errors.New("inflates to more than the chunk size")
	errChecksum   = errors.New("adler-32 checksum mismatch")
	errHeader     = errors.New("bad zlib header")
)

const (
	maxCodeBits = 15  // longest Huffman code DEFLATE allows
	litBits     = 10  // index bits of the first-level literal/length table
	distBits    = 8   // index bits of the first-level distance table
	numLitLen   = 286 // literal/length symbols that may be coded in a dynamic block
	numDist     = 30

	// A table entry holds the symbol (or a subtable's offset) above bit 8,
	// the code length (or the subtable's index bits) in bits 0-4, and
	// entryLink for a first-level entry that points to a subtable.
	entryLink = 1 << 5
)

var (
	lengthBase  = [29]uint16{3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258}
	lengthExtra = [29]uint8{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0}
	distBase    = [30]uint16{1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577}
	distExtra   = [30]uint8{0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13}
	// codeLenOrder is the order in which a dynamic block lists the lengths
	// of the code-length code.
	codeLenOrder = [19]uint8{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15}
)

// huffman is a two-level decoding table for one canonical Huffman code.
type huffman struct {
	bits  uint     // index bits of the first level
	table []uint32 // first level, then the subtables
}

// build makes the table for the code with the given lengths per symbol. As
// in zlib and compress/flate, a code must be complete, except that a single
// code of one bit is accepted; an empty code builds and fails when used.
func (h *huffman) build(lengths []uint8, bits uint) bool {
	var count [maxCodeBits + 1]int
	maxLen := 0
	for _, n := range lengths {
		count[n]++
		maxLen = max(maxLen, int(n))
	}
	count[0] = 0
	h.bits = bits
	h.table = h.table[:0]
	h.table = append(h.table, make([]uint32, 1<<bits)...)
	if maxLen == 0 {
		return true
	}
	var next [maxCodeBits + 2]int
	code := 0
	for n := 1; n <= maxCodeBits; n++ {
		code = (code + count[n-1]) << 1
		next[n] = code
	}
	// Completeness: the codes of each length fill the code space exactly.
	left := 1
	for n := 1; n <= maxCodeBits; n++ {
		left = left<<1 - count[n]
		if left < 0 {
			return false
		}
	}
	if left != 0 && !(maxLen == 1 && count[1] == 1) {
		return false
	}
	sub := uint(max(maxLen-int(bits), 0))
	for sym, n := range lengths {
		if n == 0 {
			continue
		}
		rev := reverse(next[n], int(n))
		next[n]++
		if uint(n) <= bits {
			for j := rev; j < 1<<bits; j += 1 << n {
				h.table[j] = uint32(sym)<<8 | uint32(n)
			}
			continue
		}
		prefix := rev & (1<<bits - 1)
		link := h.table[prefix]
		if link&entryLink == 0 {
			link = uint32(len(h.table))<<8 | entryLink | uint32(sub)
			h.table[prefix] = link
			h.table = append(h.table, make([]uint32, 1<<sub)...)
		}
		base := int(link >> 8)
		rest := uint(n) - bits
		for j := rev >> bits; j < 1<<sub; j += 1 << rest {
			h.table[base+j] = uint32(sym)<<8 | uint32(rest)
		}
	}
	return true
}

// reverse returns the n low bits of code in reverse order: Huffman codes are
// packed starting with their most significant bit, other fields with their
// least significant one.
func reverse(code, n int) int {
	r := 0
	for i := 0; i < n; i++ {
		r = r<<1 | code&1
		code >>= 1
	}
	return r
}

// bitReader takes bits from src, least significant first. Bits of bits above
// n are either zero or the stream's own next bits, so refills may OR whole
// words in.
type bitReader struct {
	src  []byte
	pos  int // next byte of src not yet in bits
	bits uint64
	n    uint
}

func (b *bitReader) refill() {
	if b.pos+8 <= len(b.src) {
		b.bits |= binary.LittleEndian.Uint64(b.src[b.pos:]) << b.n
		b.pos += int(63-b.n) >> 3
		b.n |= 56
		return
	}
	for b.n <= 56 && b.pos < len(b.src) {
		b.bits |= uint64(b.src[b.pos]) << b.n
		b.pos++
		b.n += 8
	}
}

// take returns the next k bits (k <= 32).
func (b *bitReader) take(k uint) (uint32, bool) {
	if b.n < k {
		b.refill()
		if b.n < k {
			return 0, false
		}
	}
	v := uint32(b.bits & (1<<k - 1))
	b.bits >>= k
	b.n -= k
	return v, true
}

// decode reads one symbol of h.
func (b *bitReader) decode(h *huffman) (int, error) {
	if b.n < maxCodeBits {
		b.refill()
	}
	e := h.table[b.bits&(1<<h.bits-1)]
	used := uint(0)
	if e&entryLink != 0 {
		used = h.bits
		e = h.table[int(e>>8)+int(b.bits>>used&(1<<(e&31)-1))]
	}
	n := used + uint(e&31)
	if e&31 == 0 {
		if n > b.n {
			return 0, errTruncated
		}
		return 0, errUnusedCode
	}
	if n > b.n {
		return 0, errTruncated
	}
	b.bits >>= n
	b.n -= n
	return int(e >> 8), nil
}

// inflateState keeps the tables of a dynamic block between chunks.
type inflateState struct {
	lit, dist, codeLen huffman
	lengths            [numLitLen + numDist + 32]uint8
}

var (
	fixedOnce          sync.Once
	fixedLit, fixedDst huffman
)

func fixedTables() (*huffman, *huffman) {
	fixedOnce.Do(func() {
		var l [288]uint8
		for i := range l {
			switch {
			case i < 144:
				l[i] = 8
			case i < 256:
				l[i] = 9
			case i < 280:
				l[i] = 7
			default:
				l[i] = 8
			}
		}
		fixedLit.build(l[:], litBits)
		var d [32]uint8
		for i := range d {
			d[i] = 5
		}
		fixedDst.build(d[:], distBits)
	})
	return &fixedLit, &fixedDst
}

// inflateRaw decodes the DEFLATE stream at the start of src, appending to
// out (whose capacity is the first guess at the size) up to limit bytes. It
// returns the output, the bytes of src the stream took, and errTruncated when
// src ended first, with the output decoded so far.
func (s *inflateState) inflateRaw(src, out []byte, limit int) ([]byte, int, error) {
	b := bitReader{src: src}
	for {
		hdr, ok := b.take(3)
		if !ok {
			return out, 0, errTruncated
		}
		var err error
		switch hdr >> 1 {
		case 0:
			out, err = b.stored(out, limit)
		case 1:
			lit, dist := fixedTables()
			out, err = b.codes(out, limit, lit, dist)
		case 2:
			if err = s.readDynamic(&b); err == nil {
				out, err = b.codes(out, limit, &s.lit, &s.dist)
			}
		default:
			err = errCorrupt
		}
		if err != nil {
			return out, 0, err
		}
		if hdr&1 != 0 {
			b.n -= b.n & 7 // the stream ends on a byte boundary
			return out, b.pos - int(b.n>>3), nil
		}
	}
}

// stored copies an uncompressed block.
func (b *bitReader) stored(out []byte, limit int) ([]byte, error) {
	b.n -= b.n & 7
	b.pos -= int(b.n >> 3)
	b.bits, b.n = 0, 0
	if b.pos+4 > len(b.src) {
		return out, errTruncated
	}
	n := int(binary.LittleEndian.Uint16(b.src[b.pos:]))
	if uint16(n) != ^binary.LittleEndian.Uint16(b.src[b.pos+2:]) {
		return out, errCorrupt
	}
	b.pos += 4
	if len(out)+n > limit {
		return out, errTooLong
	}
	if b.pos+n > len(b.src) {
		return append(out, b.src[b.pos:]...), errTruncated
	}
	out = append(out, b.src[b.pos:b.pos+n]...)
	b.pos += n
	return out, nil
}

// readDynamic reads a dynamic block's code lengths and builds its tables.
func (s *inflateState) readDynamic(b *bitReader) error {
	v, ok := b.take(14)
	if !ok {
		return errTruncated
	}
	nlit, ndist, nclen := int(v&31)+257, int(v>>5&31)+1, int(v>>10)+4
	if nlit > numLitLen || ndist > numDist {
		return errUnusedCode
	}
	var clen [19]uint8
	for i := 0; i < nclen; i++ {
		l, ok := b.take(3)
		if !ok {
			return errTruncated
		}
		clen[codeLenOrder[i]] = uint8(l)
	}
	if !s.codeLen.build(clen[:], 7) {
		return errCorrupt
	}
	lengths := s.lengths[:nlit+ndist]
	for i := 0; i < len(lengths); {
		sym, err := b.decode(&s.codeLen)
		if err != nil {
			return err
		}
		if sym < 16 {
			lengths[i] = uint8(sym)
			i++
			continue
		}
		var rep uint32
		var val uint8
		switch sym {
		case 16:
			if i == 0 {
				return errCorrupt
			}
			val = lengths[i-1]
			rep, ok = b.take(2)
			rep += 3
		case 17:
			rep, ok = b.take(3)
			rep += 3
		default:
			rep, ok = b.take(7)
			rep += 11
		}
		if !ok {
			return errTruncated
		}
		if i+int(rep) > len(lengths) {
			return errCorrupt
		}
		for ; rep > 0; rep-- {
			lengths[i] = val
			i++
		}
	}
	if lengths[256] == 0 {
		return errCorrupt // no end-of-block code: the block could never end
	}
	if !s.lit.build(lengths[:nlit], litBits) || !s.dist.build(lengths[nlit:], distBits) {
		return errCorrupt
	}
	return nil
}

// codes decodes a Huffman-coded block up to its end-of-block symbol. It is
// the decoder's inner loop: the bit buffer lives in local variables, and one
// refill to at least 56 bits covers a whole length and distance pair (at
// most 15+5+15+13 bits), so only the last bytes of the input take the
// careful path.
func (b *bitReader) codes(out []byte, limit int, lit, dist *huffman) ([]byte, error) {
	src, pos, bits, n := b.src, b.pos, b.bits, b.n
	buf, w := out[:cap(out)], len(out)
	// The first levels as fixed-size arrays, indexed with constant masks,
	// need no bounds checks.
	lt, dt := lit.table, dist.table
	if lit.bits != litBits || dist.bits != distBits || len(lt) < 1<<litBits || len(dt) < 1<<distBits {
		return out, errCorrupt
	}
	lt1, dt1 := (*[1 << litBits]uint32)(lt), (*[1 << distBits]uint32)(dt)
	var err error
	for {
		if n < 48 {
			if pos+8 <= len(src) {
				bits |= binary.LittleEndian.Uint64(src[pos:]) << n
				pos += int(63-n) >> 3
				n |= 56
			} else {
				for n <= 56 && pos < len(src) {
					bits |= uint64(src[pos]) << n
					pos++
					n += 8
				}
			}
		}
		e := lt1[bits&(1<<litBits-1)]
		used := uint(0)
		if e&entryLink != 0 {
			used = litBits
			e = lt[int(e>>8)+int(bits>>used&(1<<(e&31)-1))]
		}
		used += uint(e & 31)
		if used > n {
			err = errTruncated
			break
		}
		if e&31 == 0 {
			err = errUnusedCode
			break
		}
		bits >>= used
		n -= used
		sym := int(e >> 8)
		if sym < 256 {
			if uint(w) < uint(len(buf)) {
				buf[w] = byte(sym)
				w++
				continue
			}
			if buf, err = grow(buf, w, 1, limit); err != nil {
				break
			}
			buf[w] = byte(sym)
			w++
			continue
		}
		if sym == 256 {
			break
		}
		sym -= 257
		if sym >= len(lengthBase) {
			err = errUnusedCode
			break
		}
		k := uint(lengthExtra[sym])
		if k > n {
			err = errTruncated
			break
		}
		length := int(lengthBase[sym]) + int(bits&(1<<k-1))
		bits >>= k
		n -= k

		e = dt1[bits&(1<<distBits-1)]
		used = 0
		if e&entryLink != 0 {
			used = distBits
			e = dt[int(e>>8)+int(bits>>used&(1<<(e&31)-1))]
		}
		used += uint(e & 31)
		if used > n {
			err = errTruncated
			break
		}
		if e&31 == 0 {
			err = errUnusedCode
			break
		}
		bits >>= used
		n -= used
		dsym := int(e >> 8)
		if dsym >= len(distBase) {
			err = errUnusedCode
			break
		}
		k = uint(distExtra[dsym])
		if k > n {
			err = errTruncated
			break
		}
		d := int(distBase[dsym]) + int(bits&(1<<k-1))
		bits >>= k
		n -= k
		if d > w {
			err = errCorrupt
			break
		}
		if w+length > len(buf) {
			if buf, err = grow(buf, w, length, limit); err != nil {
				break
			}
		}
		// Overlapping copies repeat the last d bytes; copying from the same
		// start, the source doubles each round and stays a whole number of
		// periods until the last, partial, round.
		from := w - d
		end := w + length
		for w < end {
			w += copy(buf[w:end], buf[from:w])
		}
	}
	b.pos, b.bits, b.n = pos, bits, n
	return buf[:w], err
}

// grow returns buf with room for need more bytes after the first w, at
// most limit bytes in all, doubling its size so that the output costs
// amortised constant time per byte.
func grow(buf []byte, w, need, limit int) ([]byte, error) {
	if w+need > limit {
		return buf, errTooLong
	}
	nb := make([]byte, min(max(2*len(buf), w+need, 4096), limit))
	copy(nb, buf[:w])
	return nb, nil
}

// inflateZlib decodes one zlib stream of at most limit bytes into a new
// slice of initial capacity size, checking the Adler-32 trailer. A truncated
// stream returns the bytes decoded so far with errTruncated.
func (s *inflateState) inflateZlib(src []byte, size, limit int) ([]byte, error) {
	if len(src) < 2 {
		return nil, errTruncated
	}
	cmf, flg := src[0], src[1]
	if cmf&15 != 8 || cmf>>4 > 7 || (uint16(cmf)<<8|uint16(flg))%31 != 0 || flg&0x20 != 0 {
		return nil, errHeader
	}
	out, used, err := s.inflateRaw(src[2:], make([]byte, 0, max(min(size, limit), 0)), limit)
	if err != nil {
		return out, err
	}
	trailer := src[2+used:]
	if len(trailer) < 4 {
		return out, errTruncated
	}
	if binary.BigEndian.Uint32(trailer) != adler32.Checksum(out) {
		return nil, errChecksum
	}
	return out, nil
}
