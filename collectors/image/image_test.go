package image

import (
	"archive/zip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
	"triage/internal/testcorpus"
)

// kapeTree is the corpus folder the test images are built from.
const kapeTree = "kape/APTSIM-WIN10"

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

func run(t testing.TB, name string, args ...string) {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

func runInput(t testing.TB, input, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Stdin = strings.NewReader(input)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

// testImages builds (once per corpus state, cached under os.TempDir()) every
// image kind from the KAPE tree and returns their paths by kind.
func testImages(t testing.TB) (map[string]string, string) {
	t.Helper()
	src := testcorpus.Dir(t, kapeTree)
	for _, tool := range []string{"mkntfs", "ntfs-3g", "fusermount", "sfdisk", "ewfacquire", "qemu-img"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("image test: %s not installed (apt-get install ntfs-3g fuse3 fdisk ewf-tools qemu-utils): %v", tool, err)
		}
	}
	key := sha256.New()
	var size int64
	filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if info, err := d.Info(); err == nil {
				fmt.Fprintf(key, "%s %d %d\n", p, info.Size(), info.ModTime().UnixNano())
				size += info.Size()
			}
		}
		return nil
	})
	dir := filepath.Join(os.TempDir(), "triage-image-test-"+hex.EncodeToString(key.Sum(nil))[:16])
	paths := map[string]string{
		"bare ntfs":         filepath.Join(dir, "vol.ntfs"),
		"raw mbr":           filepath.Join(dir, "mbr.raw"),
		"raw gpt":           filepath.Join(dir, "gpt.raw"),
		"e01 multi-segment": filepath.Join(dir, "disk.E01"),
		"vhd fixed":         filepath.Join(dir, "fixed.vhd"),
		"vhd dynamic":       filepath.Join(dir, "dynamic.vhd"),
		"vhdx fixed":        filepath.Join(dir, "fixed.vhdx"),
		"vhdx dynamic":      filepath.Join(dir, "dynamic.vhdx"),
		"zip stored raw":    filepath.Join(dir, "stored.zip"),
		"zip deflated vhdx": filepath.Join(dir, "deflated.zip"),
		"zip e01 segments":  filepath.Join(dir, "e01.zip"),
	}
	if _, err := os.Stat(filepath.Join(dir, "complete")); err == nil {
		return paths, src
	}
	os.RemoveAll(dir)
	if err := os.MkdirAll(filepath.Join(dir, "mnt"), 0o755); err != nil {
		t.Fatal(err)
	}
	volSize := (size*3/2/(1<<20) + 16) << 20
	vol := paths["bare ntfs"]
	if err := os.WriteFile(vol, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(vol, volSize); err != nil {
		t.Fatal(err)
	}
	run(t, "mkntfs", "-F", "-Q", "-q", vol)
	// ntfscp cannot create directories in an unmounted volume, so the tree
	// is copied through an ntfs-3g FUSE mount.
	mnt := filepath.Join(dir, "mnt")
	run(t, "ntfs-3g", vol, mnt)
	cpErr := exec.Command("cp", "-r", "--preserve=timestamps", src+"/.", mnt+"/").Run()
	run(t, "fusermount", "-u", mnt)
	if cpErr != nil {
		t.Fatalf("copying the tree into the volume: %v", cpErr)
	}
	volume, err := os.ReadFile(vol)
	if err != nil {
		t.Fatal(err)
	}
	for _, scheme := range []string{"mbr", "gpt"} {
		disk := paths["raw "+scheme]
		if err := os.WriteFile(disk, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		os.Truncate(disk, volSize+2<<20)
		table := fmt.Sprintf("label: dos\nstart=2048, size=%d, type=7\n", volSize/512)
		if scheme == "gpt" {
			table = fmt.Sprintf("label: gpt\nstart=2048, size=%d, type=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7\n", volSize/512)
		}
		runInput(t, table, "sfdisk", "-q", disk)
		f, err := os.OpenFile(disk, os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		_, err = f.WriteAt(volume, 1<<20)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
	gpt := paths["raw gpt"]
	run(t, "qemu-img", "convert", "-f", "raw", "-O", "vpc", "-o", "subformat=fixed", gpt, paths["vhd fixed"])
	run(t, "qemu-img", "convert", "-f", "raw", "-O", "vpc", "-o", "subformat=dynamic", gpt, paths["vhd dynamic"])
	run(t, "qemu-img", "convert", "-f", "raw", "-O", "vhdx", "-o", "subformat=fixed", gpt, paths["vhdx fixed"])
	run(t, "qemu-img", "convert", "-f", "raw", "-O", "vhdx", "-o", "subformat=dynamic", gpt, paths["vhdx dynamic"])
	// A 1 MiB segment size forces several segment files.
	run(t, "ewfacquire", "-u", "-q", "-t", filepath.Join(dir, "disk"), "-f", "encase6", "-c", "deflate:fast",
		"-S", "1MiB", "-d", "sha1", "-C", "case", "-D", "triage test", "-e", "examiner", "-E", "1", "-N", "none", gpt)
	segments, _ := filepath.Glob(filepath.Join(dir, "disk.E??"))
	sort.Strings(segments)
	writeZip(t, paths["zip stored raw"], zip.Store, gpt)
	writeZip(t, paths["zip deflated vhdx"], zip.Deflate, paths["vhdx dynamic"])
	writeZip(t, paths["zip e01 segments"], zip.Store, segments...)
	if err := os.WriteFile(filepath.Join(dir, "complete"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	return paths, src
}

func writeZip(t testing.TB, name string, method uint16, files ...string) {
	t.Helper()
	out, err := os.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	zw := zip.NewWriter(out)
	for _, f := range files {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: "evidence/" + filepath.Base(f), Method: method, Modified: time.Now()})
		if err != nil {
			t.Fatal(err)
		}
		in, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		_, err = io.Copy(w, in)
		in.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestImagesMatchFolder(t *testing.T) {
	paths, src := testImages(t)
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
// folder and from each image kind; compare the MB/s columns.
func BenchmarkReadArtifacts(b *testing.B) {
	paths, src := testImages(b)
	b.Run("folder", func(b *testing.B) {
		for b.Loop() {
			_, n := hashTree(b, os.DirFS(src))
			b.SetBytes(n)
		}
	})
	for _, kind := range []string{"raw gpt", "e01 multi-segment", "vhd dynamic", "vhdx dynamic", "zip stored raw"} {
		b.Run(strings.ReplaceAll(kind, " ", "_"), func(b *testing.B) {
			for b.Loop() {
				im, err := OpenWith(paths[kind], Options{SkipVerify: true})
				if err != nil {
					b.Fatal(err)
				}
				_, n := hashTree(b, im.Volumes[0].FS)
				b.SetBytes(n)
				im.Close()
			}
		})
	}
}
