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
	for _, s := range samples {
		out, _ := io.ReadAll(mustZlib(b, s))
		total += int64(len(out))
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
