package lzxpress

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"triage/internal/testcorpus"
)

func TestLiteralsAndOverlappingMatch(t *testing.T) {
	// "ab", then a match of length 3+3=6 at offset 2 (symbol 256 + 1<<4 + 3,
	// one offset bit 0): "ab" + "ababab".
	// Every symbol has a 9-bit code (512 codes of length 9 fill the space
	// exactly), so a symbol's code is its own value.
	src := streamBits(t, []bitsField{{'a', 9}, {'b', 9}, {256 + 1<<4 + 3, 9}, {0, 1}})
	got, err := DecompressHuffman(src, 8)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != "abababab" {
		t.Fatalf("got %q", got)
	}
}

type bitsField struct{ v, n int }

func streamBits(t *testing.T, fields []bitsField) []byte {
	t.Helper()
	table := bytes.Repeat([]byte{0x99}, 256)
	var bits []bool
	for _, f := range fields {
		for i := f.n - 1; i >= 0; i-- {
			bits = append(bits, f.v>>i&1 == 1)
		}
	}
	for len(bits)%16 != 0 || len(bits) < 32 {
		bits = append(bits, false)
	}
	out := table
	for i := 0; i < len(bits); i += 16 {
		var w uint16
		for j := 0; j < 16; j++ {
			if bits[i+j] {
				w |= 1 << (15 - j)
			}
		}
		out = binary.LittleEndian.AppendUint16(out, w)
	}
	return out
}

func TestErrors(t *testing.T) {
	valid := streamBits(t, []bitsField{{'x', 9}})
	incomplete := append(bytes.Repeat([]byte{0x99}, 255), 0x09) // one symbol short of a full code
	tests := []struct {
		name string
		src  []byte
		size int
	}{
		{"truncated table", valid[:100], 1},
		{"incomplete code", append(incomplete, valid[256:]...), 1},
		{"offset before output", streamBits(t, []bitsField{{256 + 2<<4, 9}, {0, 2}}), 5},
		{"input exhausted", valid, 1000},
		{"size over cap", valid, DefaultMaxOutput + 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecompressHuffman(tt.src, tt.size)
			if err == nil {
				t.Fatal("no error")
			}
			if tt.name != "size over cap" && !errors.Is(err, ErrCorrupt) {
				t.Fatalf("err = %v, want ErrCorrupt", err)
			}
		})
	}
}

func compressedCorpus(t testing.TB) [][]byte {
	t.Helper()
	var out [][]byte
	for _, root := range []string{
		testcorpus.Dir(t, "prefetch"),
		testcorpus.Dir(t, "kape", "APTSIM-WIN10", "C", "Windows", "prefetch"),
	} {
		filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, _ := os.ReadFile(p)
			if len(b) > 8 && string(b[:4]) == "MAM\x04" {
				out = append(out, b)
			}
			return nil
		})
	}
	return out
}

// prefetchCorpusFiles is how many compressed files the first corpus root
// holds; the fuzz seeds stay with those to keep the seed set small.
const prefetchCorpusFiles = 14

func TestCorpusDecodes(t *testing.T) {
	files := compressedCorpus(t)
	if len(files) < prefetchCorpusFiles+150 {
		t.Fatalf("only %d compressed files", len(files))
	}
	for _, b := range files {
		out, err := DecompressHuffman(b[8:], int(binary.LittleEndian.Uint32(b[4:])))
		if err != nil || string(out[4:8]) != "SCCA" {
			t.Errorf("decode: %v", err)
		}
	}
}

func FuzzDecompressHuffman(f *testing.F) {
	seeds := compressedCorpus(f)
	seeds = seeds[:min(len(seeds), prefetchCorpusFiles)]
	for _, b := range seeds {
		f.Add(b[8:], binary.LittleEndian.Uint32(b[4:]))
	}
	f.Fuzz(func(t *testing.T, src []byte, size uint32) {
		want := int(size % (1 << 20))
		out, err := DecompressHuffman(src, want)
		if err == nil && len(out) != want || len(out) > want {
			t.Fatalf("%d bytes for a declared %d (err %v)", len(out), want, err)
		}
	})
}

// BenchmarkDecompress decodes every compressed prefetch file in the corpus
// once per iteration; MB/s counts output bytes.
func BenchmarkDecompress(b *testing.B) {
	files := compressedCorpus(b)
	var total int64
	for _, f := range files {
		total += int64(binary.LittleEndian.Uint32(f[4:]))
	}
	b.SetBytes(total)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, f := range files {
			DecompressHuffman(f[8:], int(binary.LittleEndian.Uint32(f[4:])))
		}
	}
}

// testEncoder writes streams whose every block uses 9-bit codes for all 512
// symbols, so a symbol's code is its own value. It places words and escape
// bytes where the decoder will look for them: a finished 16-bit word is
// written, and the slot after the next one reserved, only when a further bit
// arrives, matching the decoder's refill once it has used more than the
// buffered 16 bits.
type testEncoder struct {
	out        []byte
	slots      [2]int // where the current and the next word go
	word       uint16
	wordBits   int
	blockBytes int // output bytes produced in the current block
}

func (e *testEncoder) startBlock() {
	e.out = append(e.out, bytes.Repeat([]byte{0x99}, 256)...)
	e.slots = [2]int{len(e.out), len(e.out) + 2}
	e.out = append(e.out, 0, 0, 0, 0)
	e.word, e.wordBits, e.blockBytes = 0, 0, 0
}

func (e *testEncoder) bits(v, n int) {
	for i := n - 1; i >= 0; i-- {
		if e.wordBits == 16 {
			binary.LittleEndian.PutUint16(e.out[e.slots[0]:], e.word)
			e.slots = [2]int{e.slots[1], len(e.out)}
			e.out = append(e.out, 0, 0)
			e.word, e.wordBits = 0, 0
		}
		e.word |= uint16(v>>i&1) << (15 - e.wordBits)
		e.wordBits++
	}
}

// endBlock stores the partial word; the reserved next word stays zero.
func (e *testEncoder) endBlock() {
	binary.LittleEndian.PutUint16(e.out[e.slots[0]:], e.word)
}

func (e *testEncoder) literal(b byte) {
	e.bits(int(b), 9)
	e.blockBytes++
}

// match writes a match of length ≥ 3 at offset ≥ 1 (both unchecked here so
// tests can write bad ones).
func (e *testEncoder) match(length, offset int) {
	offsetBits := 0
	for 1<<(offsetBits+1) <= offset {
		offsetBits++
	}
	l := length - 3
	if l < 15 {
		e.bits(256+offsetBits<<4+l, 9)
	} else {
		e.bits(256+offsetBits<<4+15, 9)
		switch {
		case l-15 < 255:
			e.out = append(e.out, byte(l-15))
		case l < 1<<16:
			e.out = append(e.out, 255)
			e.out = binary.LittleEndian.AppendUint16(e.out, uint16(l))
		default:
			e.out = append(e.out, 255, 0, 0)
			e.out = binary.LittleEndian.AppendUint32(e.out, uint32(l))
		}
	}
	e.bits(offset-1<<offsetBits, offsetBits)
	e.blockBytes += length
}

func TestAllLiteralBlocksAcrossBoundary(t *testing.T) {
	want := make([]byte, blockSize*2+123)
	for i := range want {
		want[i] = byte(i*7 + i>>8)
	}
	var e testEncoder
	e.startBlock()
	for i, b := range want {
		if i > 0 && i%blockSize == 0 {
			e.endBlock()
			e.startBlock()
		}
		e.literal(b)
	}
	e.endBlock()
	got, err := DecompressHuffman(e.out, len(want))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("output differs")
	}
}

func TestLongMatchesAndMatchPastBlockEnd(t *testing.T) {
	var want []byte
	var e testEncoder
	e.startBlock()
	for _, b := range []byte("xyz") {
		e.literal(b)
		want = append(want, b)
	}
	// Escaped lengths of every width: a byte, a u16, and a u32, at offsets
	// needing 0, 1 and 2 extra bits.
	for _, m := range []struct{ length, offset int }{{40, 1}, {300, 3}, {70000 - 400, 2}} {
		e.match(m.length, m.offset)
		for i := 0; i < m.length; i++ {
			want = append(want, want[len(want)-m.offset])
		}
	}
	// That last match ran past the first block's end; the next block
	// starts where it stopped.
	if e.blockBytes <= blockSize {
		t.Fatalf("test stream did not cross the block end: %d bytes", e.blockBytes)
	}
	e.endBlock()
	e.startBlock()
	e.literal('!')
	want = append(want, '!')
	e.endBlock()
	got, err := DecompressHuffman(e.out, len(want))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("first difference at %d: %q, want %q", i, got[i], want[i])
			}
		}
	}
}

func TestEscapeErrors(t *testing.T) {
	var e testEncoder
	e.startBlock()
	e.literal('a')
	e.match(20, 1)
	e.endBlock()
	good := e.out
	if _, err := DecompressHuffman(good, 21); err != nil {
		t.Fatalf("baseline: %v", err)
	}
	// 18 bits precede the escape byte, so the decoder has taken a third
	// word by then: the byte follows the table and three words.
	escapeAt := 256 + 6
	if good[escapeAt] != 20-3-15 {
		t.Fatalf("escape byte not at 0x%x: % x", escapeAt, good[256:])
	}
	shortU16 := append(append(append([]byte{}, good[:escapeAt]...), 255, 3, 0), good[escapeAt+1:]...)
	oversubscribed := append(bytes.Repeat([]byte{0x11}, 256), good[256:]...)
	tests := []struct {
		name string
		src  []byte
		size int
	}{
		{"escape byte missing", good[:escapeAt], 21},
		{"u16 length below 15", shortU16, 21},
		{"oversubscribed code lengths", oversubscribed, 21},
		{"declared size negative", good, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := DecompressHuffman(tt.src, tt.size); err == nil {
				t.Fatal("no error")
			}
		})
	}
}
