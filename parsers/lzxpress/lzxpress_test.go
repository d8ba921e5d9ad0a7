package lzxpress

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"testing"
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
	var out [][]byte
	root := filepath.Join("..", "..", "..", "shared", "corpus", "prefetch")
	if _, err := os.Stat(root); err != nil {
		t.Fatalf("test corpus missing: %v (the tests read ../shared/corpus beside the repository)", err)
	}
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
	return out
}

func TestCorpusDecodes(t *testing.T) {
	files := compressedCorpus(t)
	if len(files) < 14 {
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
	for _, b := range compressedCorpus(f) {
		f.Add(b[8:], binary.LittleEndian.Uint32(b[4:]))
	}
	f.Fuzz(func(t *testing.T, src []byte, size uint32) {
		DecompressHuffman(src, int(size%(1<<20)))
	})
}

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
