package ewf

import (
	"bytes"
	"compress/zlib"
	"io"
	"testing"
)

func BenchmarkInflate(b *testing.B) {
	samples := inflateSamples(b)
	var total int64
	sizes := make([]int, len(samples))
	for i, s := range samples {
		out, _ := io.ReadAll(mustZlib(b, s))
		total += int64(len(out))
		sizes[i] = max(len(out), 1)
	}
	b.Run("own", func(b *testing.B) {
		var st inflateState
		b.SetBytes(total)
		for b.Loop() {
			for _, s := range samples {
				st.inflateZlib(s, 32768, 1<<20)
			}
		}
	})
	b.Run("libdeflate", func(b *testing.B) {
		if name, why := libdeflateState(); name == "" {
			b.Skip(why)
		}
		// One output buffer, bounded to each stream's size as Reader.inflate
		// bounds it to the chunk size, so that this measures the decoder
		// as the zlib case does, not the allocator.
		b.SetBytes(total)
		out := make([]byte, 1<<20)
		for b.Loop() {
			for i, s := range samples {
				libdeflateZlib(s, out[:sizes[i]])
			}
		}
	})
	b.Run("zlib", func(b *testing.B) {
		b.SetBytes(total)
		buf := make([]byte, 1<<20)
		var zr io.ReadCloser
		for b.Loop() {
			for _, s := range samples {
				if zr == nil {
					zr, _ = zlib.NewReader(bytes.NewReader(s))
				} else {
					zr.(zlib.Resetter).Reset(bytes.NewReader(s), nil)
				}
				io.ReadFull(zr, buf)
			}
		}
	})
}
