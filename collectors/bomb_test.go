package collectors

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeBomb writes a zip of n entries of size zeros each, deflated, named
// name(i); the zeros are compressed once and stored n times.
func writeBomb(t testing.TB, dir string, n int, size int64, name func(int) string) string {
	t.Helper()
	var packed bytes.Buffer
	fw, _ := flate.NewWriter(&packed, flate.BestCompression)
	block := make([]byte, 1<<20)
	crc := uint32(0)
	for left := size; left > 0; left -= int64(len(block)) {
		b := block[:min(left, int64(len(block)))]
		fw.Write(b)
		crc = crc32.Update(crc, crc32.IEEETable, b)
	}
	fw.Close()
	p := filepath.Join(dir, "bomb.zip")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	for i := 0; i < n; i++ {
		w, err := zw.CreateRaw(&zip.FileHeader{Name: name(i), Method: zip.Deflate, CRC32: crc,
			CompressedSize64: uint64(packed.Len()), UncompressedSize64: uint64(size)})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(packed.Bytes())
	}
	zw.Close()
	f.Close()
	return p
}

// TestZipBombCapped: with the default bounds a zip bomb is refused from its
// central directory, each entry reported with the ratio limit.
func TestZipBombCapped(t *testing.T) {
	p := writeBomb(t, t.TempDir(), 4, 8<<20, func(i int) string { return "Logs/bomb" + string(rune('0'+i)) + ".evtx" })
	ev, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer ev.Close()
	if len(ev.Artifacts) != 0 || len(ev.Skipped) != 4 {
		t.Fatalf("artifacts %d skipped %v", len(ev.Artifacts), ev.Skipped)
	}
	for _, s := range ev.Skipped {
		if s.Reason != SkipExpansionLimit || !strings.Contains(s.Detail, "200:1 expansion ratio limit") {
			t.Errorf("%v", s)
		}
	}
}

// BenchmarkZipBomb inflates the acceptance bomb (4 × 512 MiB of zeros)
// through with the ratio bound lifted: streamed (text entries) and copied
// under TempDir (event logs). Memory stays that of the buffers whatever the
// entry size; measure peak RSS with
//
//	go test -c -o /tmp/c.test ./collectors && /usr/bin/time -v /tmp/c.test -test.run XXX -test.bench ZipBomb -test.benchtime 1x
func BenchmarkZipBomb(b *testing.B) {
	for _, tt := range []struct{ name, ext string }{{"stream", ".ps1"}, {"spill", ".evtx"}} {
		b.Run(tt.name, func(b *testing.B) {
			dir := b.TempDir()
			p := writeBomb(b, dir, 4, 512<<20, func(i int) string { return "C/bomb" + string(rune('0'+i)) + tt.ext })
			b.ResetTimer()
			for b.Loop() {
				ev, err := OpenWith(p, Options{TempDir: dir, MaxExpansionRatio: 1 << 20})
				if err != nil {
					b.Fatal(err)
				}
				if len(ev.Artifacts) != 4 {
					b.Fatalf("artifacts %d, skipped %v", len(ev.Artifacts), ev.Skipped)
				}
				for _, a := range ev.Artifacts {
					f, err := a.Open()
					if err != nil {
						b.Fatal(err)
					}
					n, _ := io.Copy(io.Discard, f)
					buf := make([]byte, 4096)
					f.ReadAt(buf, n/2)
					f.Close()
					if n != 512<<20 || len(a.Problems()) > 0 {
						b.Fatalf("%s: %d bytes, %q", a.Path, n, a.Problems())
					}
				}
				ev.Close()
			}
			b.SetBytes(4 * 512 << 20)
		})
	}
}
