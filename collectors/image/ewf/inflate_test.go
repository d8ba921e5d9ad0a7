package ewf

import (
	"bytes"
	"compress/flate"
	"compress/zlib"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"
)

// inflateSamples are data of different kinds compressed at every level that
// makes a different block type: stored, Huffman only, fixed and dynamic.
func inflateSamples(t testing.TB) [][]byte {
	rng := rand.New(rand.NewPCG(1, 2))
	random := make([]byte, 70000)
	for i := range random {
		random[i] = byte(rng.Uint32())
	}
	var text bytes.Buffer
	for i := 0; text.Len() < 100000; i++ {
		fmt.Fprintf(&text, "<Event><System><EventID>%d</EventID><Computer>WIN-%d</Computer></System></Event>\n", i%4700, i%7)
	}
	sparse := make([]byte, 40000)
	for i := 0; i < len(sparse); i += 997 {
		sparse[i] = byte(i)
	}
	var out [][]byte
	for _, data := range [][]byte{nil, {0}, make([]byte, 32768), random, text.Bytes(), sparse, random[:300]} {
		for _, level := range []int{flate.HuffmanOnly, flate.NoCompression, flate.BestSpeed, flate.DefaultCompression, flate.BestCompression} {
			var b bytes.Buffer
			w, err := zlib.NewWriterLevel(&b, level)
			if err != nil {
				t.Fatal(err)
			}
			w.Write(data)
			w.Close()
			out = append(out, b.Bytes())
		}
	}
	return out
}

func TestInflateMatchesZlib(t *testing.T) {
	var st inflateState
	for i, src := range inflateSamples(t) {
		want, err := io.ReadAll(mustZlib(t, src))
		if err != nil {
			t.Fatal(err)
		}
		got, err := st.inflateZlib(src, 100, 1<<20)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("sample %d: %d bytes, %v; want %d bytes", i, len(got), err, len(want))
		}
		if len(want) > 0 {
			if _, err := st.inflateZlib(src, 100, len(want)-1); err != errTooLong {
				t.Errorf("sample %d: limit below the size gave %v", i, err)
			}
		}
		cut := src[:len(src)-1]
		if _, err := st.inflateZlib(cut, 100, 1<<20); err == nil {
			t.Errorf("sample %d: truncated stream accepted", i)
		}
		bad := bytes.Clone(src)
		bad[len(bad)-1] ^= 1
		if _, err := st.inflateZlib(bad, 100, 1<<20); err != errChecksum {
			t.Errorf("sample %d: damaged checksum gave %v", i, err)
		}
	}
}

// TestLibdeflateMatchesZlib checks libdeflate, when it is loaded, on the
// same samples: same bytes, the output bounded by the buffer, and damage
// refused (the Go decoder then names it).
func TestLibdeflateMatchesZlib(t *testing.T) {
	if name, why := libdeflateState(); name == "" {
		t.Skipf("libdeflate not loaded: %s", why)
	}
	t.Logf("inflater: %s", Inflater())
	for i, src := range inflateSamples(t) {
		want, err := io.ReadAll(mustZlib(t, src))
		if err != nil {
			t.Fatal(err)
		}
		out := make([]byte, len(want)+1)
		n, ok := libdeflateZlib(src, out)
		if !ok || !bytes.Equal(out[:n], want) {
			t.Fatalf("sample %d: %d bytes, ok %v; want %d bytes", i, n, ok, len(want))
		}
		if len(want) > 0 {
			if _, ok := libdeflateZlib(src, make([]byte, len(want)-1)); ok {
				t.Errorf("sample %d: output larger than the buffer accepted", i)
			}
		}
		if _, ok := libdeflateZlib(src[:len(src)-1], out); ok {
			t.Errorf("sample %d: truncated stream accepted", i)
		}
		bad := bytes.Clone(src)
		bad[len(bad)-1] ^= 1
		if _, ok := libdeflateZlib(bad, out); ok {
			t.Errorf("sample %d: damaged checksum accepted", i)
		}
	}
}

func mustZlib(t testing.TB, src []byte) io.Reader {
	zr, err := zlib.NewReader(bytes.NewReader(src))
	if err != nil {
		t.Fatal(err)
	}
	return zr
}

// FuzzInflate holds both chunk decoders to compress/zlib: whatever zlib
// decodes within the limit, inflateZlib and libdeflate (when loaded) must
// decode to the same bytes, and they must refuse what zlib refuses. Only
// the outcome class is compared for libdeflate, which says "bad data" where
// the others tell truncation, checksum and header errors apart. The one
// intended difference: libdeflate accepts streams that use unassigned or
// reserved codes (see errUnusedCode), which the others refuse, and the Go
// decoder must then have refused for that reason.
func FuzzInflate(f *testing.F) {
	for _, s := range inflateSamples(f) {
		f.Add(s)
	}
	ld, _ := libdeflateState()
	f.Fuzz(func(t *testing.T, src []byte) {
		const limit = 1 << 20
		var st inflateState
		got, err := st.inflateZlib(src, 512, limit)
		var want []byte
		zr, zerr := zlib.NewReader(bytes.NewReader(src))
		if zerr == nil {
			want, zerr = io.ReadAll(io.LimitReader(zr, limit+1))
		}
		zok := zerr == nil && len(want) <= limit
		switch {
		case zok:
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("%d bytes, %v; compress/zlib gives %d bytes", len(got), err, len(want))
			}
		case err == nil:
			t.Fatalf("accepted %d bytes that compress/zlib refuses: %v", len(got), zerr)
		}
		if ld == "" {
			return
		}
		out := make([]byte, limit)
		n, ok := libdeflateZlib(src, out)
		switch {
		case zok && (!ok || !bytes.Equal(out[:n], want)):
			t.Fatalf("libdeflate: %d bytes, ok %v; compress/zlib gives %d bytes", n, ok, len(want))
		case !zok && ok && err != errUnusedCode:
			t.Fatalf("libdeflate accepted %d bytes that compress/zlib refuses (%v) for another reason than unassigned or reserved codes: %v", n, zerr, err)
		}
	})
}
