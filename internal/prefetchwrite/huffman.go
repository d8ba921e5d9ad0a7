package prefetchwrite

import (
	"container/heap"
	"encoding/binary"
	"sort"
)

// LZXPRESS Huffman (MS-XCA §2.2.4) constants.
const (
	blockSize   = 65536
	symbolCount = 512
	maxCodeLen  = 15
	minMatch    = 3
	// maxMatch keeps every escaped length in the one-byte form (15 + 254).
	maxMatch   = minMatch + 15 + 254
	maxOffset  = 65535
	eofSymbol  = 256
	hashBits   = 14
	chainLimit = 32 // candidates tried per position: enough for prefetch data
)

// CompressHuffman encodes src as an LZXPRESS Huffman stream: per 64 KiB of
// output, a table of 512 code lengths and then the literals and matches
// under that block's canonical Huffman code. The last block ends with the
// end-of-stream symbol.
func CompressHuffman(src []byte) []byte {
	var out []byte
	m := newMatcher(src)
	for start := 0; start < len(src) || start == 0; start += blockSize {
		end := min(start+blockSize, len(src))
		syms := m.tokens(start, end)
		out = encodeBlock(out, syms, end == len(src))
		if end == len(src) {
			break
		}
	}
	return out
}

// token is a literal (length 0) or a match.
type token struct {
	lit    byte
	length int
	offset int
}

// matcher finds matches with hash chains over three-byte prefixes.
type matcher struct {
	src  []byte
	head []int32
	prev []int32
}

func newMatcher(src []byte) *matcher {
	m := &matcher{src: src, head: make([]int32, 1<<hashBits), prev: make([]int32, len(src))}
	for i := range m.head {
		m.head[i] = -1
	}
	return m
}

func (m *matcher) hash(i int) int {
	s := m.src
	return int((uint32(s[i])|uint32(s[i+1])<<8|uint32(s[i+2])<<16)*2654435761) >> (32 - hashBits)
}

func (m *matcher) insert(i int) {
	if i+minMatch > len(m.src) {
		return
	}
	h := m.hash(i)
	m.prev[i] = m.head[h]
	m.head[h] = int32(i)
}

// tokens greedily parses src[start:end]; matches stay inside the block but
// may reach back into earlier blocks.
func (m *matcher) tokens(start, end int) []token {
	var out []token
	for i := start; i < end; {
		bestLen, bestOff := 0, 0
		if i+minMatch <= end {
			limit := min(maxMatch, end-i)
			cand := m.head[m.hash(i)]
			for tries := 0; cand >= 0 && tries < chainLimit && i-int(cand) <= maxOffset; tries++ {
				c := int(cand)
				n := 0
				for n < limit && m.src[c+n] == m.src[i+n] {
					n++
				}
				if n > bestLen {
					bestLen, bestOff = n, i-c
					if n == limit {
						break // no candidate can do better
					}
				}
				cand = m.prev[c]
			}
		}
		if bestLen >= minMatch {
			out = append(out, token{length: bestLen, offset: bestOff})
			for j := i; j < i+bestLen; j++ {
				m.insert(j)
			}
			i += bestLen
			continue
		}
		out = append(out, token{lit: m.src[i]})
		m.insert(i)
		i++
	}
	return out
}

// symbol is the Huffman symbol of t: a literal, or 256 + offset bit count
// × 16 + the length nibble (15 = an escaped length follows).
func (t token) symbol() (sym, offsetBits int) {
	if t.length == 0 {
		return int(t.lit), 0
	}
	offsetBits = 0
	for 1<<(offsetBits+1) <= t.offset {
		offsetBits++
	}
	return 256 + offsetBits<<4 + min(t.length-minMatch, 15), offsetBits
}

// bitWriter lays out a block's stream in the order the decoder reads it:
// it reads two 16-bit words first, another whenever the bits it has
// consumed pass the next 16-bit boundary, and an escaped length byte right
// after the symbol that announces it. Bytes are placed among the words by
// the bit count at which they are read.
type bitWriter struct {
	bits  []byte // one bit per entry, most significant first
	bytes []pendingByte
}

type pendingByte struct {
	at int // bits consumed when the decoder reads it
	b  byte
}

func (w *bitWriter) write(code uint32, n int) {
	for i := n - 1; i >= 0; i-- {
		w.bits = append(w.bits, byte(code>>i)&1)
	}
}

func (w *bitWriter) layout(out []byte) []byte {
	consumed := len(w.bits)
	words := max(2, (consumed+15)/16+1)
	for len(w.bits) < words*16 {
		w.bits = append(w.bits, 0)
	}
	word := func(k int) []byte {
		var v uint16
		for _, b := range w.bits[16*k : 16*k+16] {
			v = v<<1 | uint16(b)
		}
		return binary.LittleEndian.AppendUint16(out, v)
	}
	out = word(0)
	out = word(1)
	next := 0
	for k := 2; k < words; k++ {
		// Word k is read once more than 16(k-1) bits are consumed; a byte
		// read at that count or earlier comes before it.
		for next < len(w.bytes) && w.bytes[next].at <= 16*(k-1) {
			out = append(out, w.bytes[next].b)
			next++
		}
		out = word(k)
	}
	for ; next < len(w.bytes); next++ {
		out = append(out, w.bytes[next].b)
	}
	return out
}

func encodeBlock(out []byte, toks []token, last bool) []byte {
	var freq [symbolCount]int
	for _, t := range toks {
		s, _ := t.symbol()
		freq[s]++
	}
	freq[eofSymbol]++ // always coded, so that a block has two symbols at least
	lens := codeLengths(freq)
	codes := canonical(lens)
	var table [symbolCount / 2]byte
	for k := range table {
		table[k] = lens[2*k] | lens[2*k+1]<<4
	}
	out = append(out, table[:]...)
	var w bitWriter
	for _, t := range toks {
		s, ob := t.symbol()
		w.write(codes[s], int(lens[s]))
		if t.length > 0 {
			if t.length-minMatch >= 15 {
				w.bytes = append(w.bytes, pendingByte{len(w.bits), byte(t.length - minMatch - 15)})
			}
			if ob > 0 {
				w.write(uint32(t.offset-1<<ob), ob)
			}
		}
	}
	if last {
		w.write(codes[eofSymbol], int(lens[eofSymbol]))
	}
	return w.layout(out)
}

// codeLengths builds Huffman code lengths for freq, limited to 15 bits by
// halving the counts until the tree is shallow enough; unused symbols get
// length 0. The lengths fill the code space exactly.
func codeLengths(freq [symbolCount]int) [symbolCount]uint8 {
	for {
		lens, depth := huffman(freq)
		if depth <= maxCodeLen {
			return lens
		}
		for i := range freq {
			if freq[i] > 0 {
				freq[i] = (freq[i] + 1) / 2
			}
		}
	}
}

type hnode struct {
	weight      int
	sym         int // leaf symbol, or -1
	left, right *hnode
}

type nodeHeap []*hnode

func (h nodeHeap) Len() int { return len(h) }
func (h nodeHeap) Less(i, j int) bool {
	if h[i].weight != h[j].weight {
		return h[i].weight < h[j].weight
	}
	return h[i].sym < h[j].sym // ties broken the same way every time
}
func (h nodeHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *nodeHeap) Push(x any)   { *h = append(*h, x.(*hnode)) }
func (h *nodeHeap) Pop() any {
	old := *h
	n := old[len(old)-1]
	*h = old[:len(old)-1]
	return n
}

func huffman(freq [symbolCount]int) ([symbolCount]uint8, int) {
	var h nodeHeap
	for s, f := range freq {
		if f > 0 {
			h = append(h, &hnode{weight: f, sym: s})
		}
	}
	heap.Init(&h)
	serial := symbolCount
	for h.Len() > 1 {
		a := heap.Pop(&h).(*hnode)
		b := heap.Pop(&h).(*hnode)
		heap.Push(&h, &hnode{weight: a.weight + b.weight, sym: serial, left: a, right: b})
		serial++
	}
	var lens [symbolCount]uint8
	depth := 0
	var walk func(n *hnode, d int)
	walk = func(n *hnode, d int) {
		if n.left == nil {
			lens[n.sym] = uint8(d)
			depth = max(depth, d)
			return
		}
		walk(n.left, d+1)
		walk(n.right, d+1)
	}
	walk(h[0], 0)
	return lens, depth
}

// canonical assigns codes in order of length, then symbol, as the decoder
// expects.
func canonical(lens [symbolCount]uint8) [symbolCount]uint32 {
	syms := make([]int, 0, symbolCount)
	for s, l := range lens {
		if l > 0 {
			syms = append(syms, s)
		}
	}
	sort.Slice(syms, func(a, b int) bool {
		if lens[syms[a]] != lens[syms[b]] {
			return lens[syms[a]] < lens[syms[b]]
		}
		return syms[a] < syms[b]
	})
	var codes [symbolCount]uint32
	code, prevLen := uint32(0), uint8(0)
	for i, s := range syms {
		if i > 0 {
			code++
		}
		code <<= lens[s] - prevLen
		prevLen = lens[s]
		codes[s] = code
	}
	return codes
}
