package ewf

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"testing"
	"time"
)

// testdata/*.E01 were made by ewfacquire 20140813 (-f encase6 -b 16 -d sha1,
// deflate:fast and none) from a 64 KiB synthetic disk with this SHA-256.
const smallDiskSHA256 = "a34bee716fb548113bef9b1f825f0ad06a3c9609067baac136376f4aab8898ff"

func openFile(t testing.TB, name string) (*Reader, []byte) {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewReader([]Segment{{R: bytes.NewReader(data), Size: int64(len(data))}})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return r, data
}

func TestReadAndVerify(t *testing.T) {
	for _, name := range []string{"testdata/compressed.E01", "testdata/uncompressed.E01"} {
		r, _ := openFile(t, name)
		if len(r.Problems) > 0 {
			t.Errorf("%s: problems %v", name, r.Problems)
		}
		h := sha256.New()
		if _, err := io.Copy(h, io.NewSectionReader(r, 0, r.Size())); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got := hex.EncodeToString(h.Sum(nil)); got != smallDiskSHA256 {
			t.Errorf("%s: sha256 %s, want %s", name, got, smallDiskSHA256)
		}
		v, err := r.Verify()
		if err != nil || !v.MD5Match || !v.SHA1Match {
			t.Errorf("%s: verify %+v, %v", name, v, err)
		}
	}
}

func TestTruncatedSegmentNamesOffset(t *testing.T) {
	_, data := openFile(t, "testdata/compressed.E01")
	cut := data[:len(data)/2]
	r, err := NewReader([]Segment{{R: bytes.NewReader(cut), Size: int64(len(cut))}})
	if err != nil {
		var fe *FormatError
		if !errors.As(err, &fe) {
			t.Fatalf("error %v is not a FormatError", err)
		}
		return
	}
	if len(r.Problems) == 0 {
		t.Fatal("truncated image reported no problem")
	}
	buf := make([]byte, r.Size())
	_, err = r.ReadAt(buf, 0)
	var fe *FormatError
	if !errors.As(err, &fe) {
		t.Fatalf("reading past the cut: %v, want a FormatError", err)
	}
	t.Log(r.Problems[0], "/", err)
}

func TestSegmentNames(t *testing.T) {
	n := SegmentNames("case/disk.E01")
	if n[0] != "case/disk.E02" || n[97] != "case/disk.E99" || n[98] != "case/disk.EAA" {
		t.Fatalf("names %v %v %v", n[0], n[97], n[98])
	}
	if SegmentNames("disk.raw") != nil {
		t.Fatal("non-E01 name gave segment names")
	}
}

func FuzzEWF(f *testing.F) {
	for _, name := range []string{"testdata/compressed.E01", "testdata/uncompressed.E01"} {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		start := time.Now()
		r, err := NewReader([]Segment{{R: bytes.NewReader(data), Size: int64(len(data))}})
		if err != nil {
			return
		}
		buf := make([]byte, 4096)
		for off := int64(0); off < min(r.Size(), 1<<20); off += 4096 {
			if _, err := r.ReadAt(buf, off); err != nil {
				break
			}
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Fatalf("took %v", d)
		}
	})
}

// TestConcurrentSequentialReads reads the disk from several goroutines at
// once, each sequentially, so that read-ahead and readers waiting for a chunk
// in flight overlap; every reader must see the same bytes.
func TestConcurrentSequentialReads(t *testing.T) {
	r, _ := openFile(t, "testdata/compressed.E01")
	want, err := io.ReadAll(io.NewSectionReader(r, 0, r.Size()))
	if err != nil {
		t.Fatal(err)
	}
	for round := 0; round < 3; round++ {
		r, _ := openFile(t, "testdata/compressed.E01")
		errs := make(chan error, 4)
		for g := 0; g < 4; g++ {
			go func() {
				got := make([]byte, r.Size())
				step := int64(512 * (g + 1))
				for off := int64(0); off < r.Size(); off += step {
					end := min(off+step, r.Size())
					if _, err := r.ReadAt(got[off:end], off); err != nil && err != io.EOF {
						errs <- err
						return
					}
				}
				if !bytes.Equal(got, want) {
					errs <- errors.New("bytes differ from a single sequential read")
					return
				}
				errs <- nil
			}()
		}
		for g := 0; g < 4; g++ {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
	}
}

// TestInflatersAgree reads the sample image, whole and with a byte damaged
// at several places, through libdeflate and through the Go decoder: the
// bytes read and the error (segment, offset, kind) must be the same.
func TestInflatersAgree(t *testing.T) {
	if name, why := libdeflateState(); name == "" {
		t.Skipf("libdeflate not loaded: %s", why)
	}
	_, data := openFile(t, "testdata/compressed.E01")
	for _, at := range []int{-1, len(data) / 3, len(data) / 2, 2 * len(data) / 3, len(data) - 200} {
		img := bytes.Clone(data)
		if at >= 0 {
			img[at] ^= 0x55
		}
		var got [2][]byte
		var errs [2]string
		for k, goInflate := range []bool{false, true} {
			r, err := NewReader([]Segment{{R: bytes.NewReader(img), Size: int64(len(img))}})
			if err != nil {
				errs[k] = err.Error()
				continue
			}
			r.goInflate = goInflate
			got[k], err = io.ReadAll(io.NewSectionReader(r, 0, r.Size()))
			if err != nil {
				errs[k] = err.Error()
			}
		}
		if !bytes.Equal(got[0], got[1]) || errs[0] != errs[1] {
			t.Errorf("byte %d damaged: libdeflate %d bytes, %q; go %d bytes, %q", at, len(got[0]), errs[0], len(got[1]), errs[1])
		}
		t.Logf("byte %d damaged: %d bytes, %s", at, len(got[0]), errs[0])
		if at < 0 && (errs[0] != "" || len(got[0]) == 0) {
			t.Errorf("undamaged image: %d bytes, %s", len(got[0]), errs[0])
		}
	}
}
