package image

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"triage/collectors/image/ewf"
	"triage/internal/testimages"
)

// hashTree returns the SHA-256 of every regular file under root, keyed by
// slash path. NTFS metadata files ($MFT, $Extend/…) and System Volume
// Information, which mkntfs creates, are left out.
func hashTree(t testing.TB, fsys fs.FS) (map[string]string, int64) {
	t.Helper()
	sums := map[string]string{}
	var total int64
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != "." && (strings.HasPrefix(p, "$") || p == "System Volume Information") {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		f, err := fsys.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		h := sha256.New()
		n, err := io.Copy(h, f)
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		total += n
		sums[p] = hex.EncodeToString(h.Sum(nil))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return sums, total
}

func TestImagesMatchFolder(t *testing.T) {
	paths, src := testimages.Build(t)
	want, _ := hashTree(t, os.DirFS(src))
	if len(want) < 100 {
		t.Fatalf("corpus has only %d files", len(want))
	}
	kinds := make([]string, 0, len(paths))
	for k := range paths {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, kind := range kinds {
		t.Run(strings.ReplaceAll(kind, " ", "_"), func(t *testing.T) {
			if !Detect(paths[kind]) {
				t.Fatalf("Detect(%s) = false", paths[kind])
			}
			im, err := OpenWith(paths[kind], Options{TempDir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			defer im.Close()
			if len(im.Problems) > 0 {
				t.Errorf("problems: %v", im.Problems)
			}
			if len(im.Volumes) != 1 {
				t.Fatalf("%d volumes", len(im.Volumes))
			}
			got, _ := hashTree(t, im.Volumes[0].FS)
			compareSums(t, want, got)
			checkModTimes(t, src, im.Volumes[0].FS)
			if im.Format == "e01" {
				if im.Inflater == "" {
					t.Error("no inflater named")
				}
				t.Logf("chunks inflated by %s", im.Inflater)
				if len(im.Segments) < 3 {
					t.Errorf("only %d segments read", len(im.Segments))
				}
				if !im.Verification.OK() || im.StoredHashes["md5"] == "" || im.StoredHashes["sha1"] == "" {
					t.Errorf("hash verification %+v, stored %v", im.Verification, im.StoredHashes)
				}
			}
		})
	}
}

func compareSums(t *testing.T, want, got map[string]string) {
	t.Helper()
	for p, sum := range want {
		if got[p] != sum {
			t.Errorf("%s: sha256 %q from the image, %s from the folder", p, got[p], sum)
		}
	}
	for p := range got {
		if _, ok := want[p]; !ok {
			t.Errorf("%s: in the image only", p)
		}
	}
}

func checkModTimes(t *testing.T, src string, fsys fs.FS) {
	t.Helper()
	bad := 0
	fs.WalkDir(os.DirFS(src), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() || bad > 3 {
			return nil
		}
		want, _ := d.Info()
		got, err := fs.Stat(fsys, p)
		if err != nil {
			t.Errorf("stat %s: %v", p, err)
			bad++
			return nil
		}
		if got.Size() != want.Size() || !got.ModTime().Truncate(time.Microsecond).Equal(want.ModTime().Truncate(time.Microsecond)) {
			t.Errorf("%s: size %d mtime %v in the image, %d %v in the folder", p, got.Size(), got.ModTime(), want.Size(), want.ModTime())
			bad++
		}
		return nil
	})
}

// BenchmarkReadArtifacts reads and hashes every file of the KAPE tree from the
// folder and from each image kind; compare the MB/s columns. The machine is
// shared, so each row also reports the CPU time per pass and the MB hashed
// per CPU second, which do not depend on the load; E01 inflates on several
// cores, so its wall time can beat its CPU time.
func BenchmarkReadArtifacts(b *testing.B) {
	paths, src := testimages.Build(b)
	b.Logf("e01 chunks inflated by %s", ewf.Inflater())
	b.Run("folder", func(b *testing.B) {
		measureCPU(b, func() int64 {
			_, n := hashTree(b, os.DirFS(src))
			return n
		})
	})
	for _, kind := range []string{"raw gpt", "e01 multi-segment", "vhd dynamic", "vhdx dynamic", "zip stored raw"} {
		b.Run(strings.ReplaceAll(kind, " ", "_"), func(b *testing.B) {
			measureCPU(b, func() int64 {
				im, err := OpenWith(paths[kind], Options{SkipVerify: true})
				if err != nil {
					b.Fatal(err)
				}
				defer im.Close()
				_, n := hashTree(b, im.Volumes[0].FS)
				return n
			})
		})
	}
}

// measureCPU runs pass b.N times and reports, besides wall time, CPU
// milliseconds per pass and MB per CPU second.
func measureCPU(b *testing.B, pass func() int64) {
	var bytes int64
	before := cpuSeconds()
	for b.Loop() {
		n := pass()
		b.SetBytes(n)
		bytes += n
	}
	cpu := cpuSeconds() - before
	b.ReportMetric(cpu*1000/float64(b.N), "cpu-ms/op")
	if cpu > 0 {
		b.ReportMetric(float64(bytes)/1e6/cpu, "MB/cpu-s")
	}
}

// cpuSeconds is the user plus system CPU time this process has used.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}
