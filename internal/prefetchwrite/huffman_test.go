package prefetchwrite

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"triage/parsers/lzxpress"
)

// TestCompressRoundTrip decodes what CompressHuffman writes with our
// decoder: text, runs, random bytes, several blocks, long matches.
func TestCompressRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	random := make([]byte, 70000)
	for i := range random {
		random[i] = byte(rng.IntN(256))
	}
	skewed := make([]byte, 200000)
	for i := range skewed {
		skewed[i] = byte(rng.ExpFloat64() * 3)
	}
	cases := map[string][]byte{
		"empty":  {},
		"one":    {'x'},
		"run":    bytes.Repeat([]byte{0}, 300000),
		"text":   bytes.Repeat([]byte(`\VOLUME{01d2a3b4c5d6e7f8-1234abcd}\WINDOWS\SYSTEM32\CMD.EXE `), 3000),
		"random": random,
		"skewed": skewed,
	}
	for name, src := range cases {
		enc := CompressHuffman(src)
		got, err := lzxpress.DecompressHuffman(enc, len(src))
		if err != nil || !bytes.Equal(got, src) {
			t.Errorf("%s: round trip failed (%v)", name, err)
			continue
		}
		t.Logf("%s: %d → %d bytes", name, len(src), len(enc))
	}
}

// FuzzCompress: whatever the input, our decoder gives it back.
func FuzzCompress(f *testing.F) {
	f.Add([]byte("abcabcabcabcabc"))
	f.Add(bytes.Repeat([]byte{7}, 70000))
	f.Fuzz(func(t *testing.T, src []byte) {
		got, err := lzxpress.DecompressHuffman(CompressHuffman(src), len(src))
		if err != nil || !bytes.Equal(got, src) {
			t.Fatalf("round trip of %d bytes failed: %v", len(src), err)
		}
	})
}

func BenchmarkCompress(b *testing.B) {
	src := bytes.Repeat([]byte(`\VOLUME{01d2a3b4c5d6e7f8-1234abcd}\WINDOWS\SYSTEM32\CMD.EXE `), 1000)
	b.SetBytes(int64(len(src)))
	for range b.N {
		CompressHuffman(src)
	}
}
