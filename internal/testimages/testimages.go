// Package testimages builds disk images of the KAPE corpus tree (raw MBR and
// GPT, E01 in several segments, VHD and VHDX fixed and dynamic, and zips of
// them) with the system's own tools: mkntfs, an ntfs-3g FUSE mount, sfdisk,
// ewfacquire and qemu-img. It is test support for the image reader and for
// the end-to-end runs, which compare each image with the folder.
package testimages

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
	"syscall"
	"testing"
	"time"

	"triage/internal/testcorpus"
)

// KAPETree is the corpus folder, below the corpus root, the images hold.
const KAPETree = "kape/APTSIM-WIN10"

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

// Build makes (once per corpus state, cached under os.TempDir() in
// triage-image-test-<hash>) every image kind from the KAPE tree and returns
// their paths by kind, and the tree's folder. The image tools must be
// installed; the test fails otherwise.
func Build(t testing.TB) (map[string]string, string) {
	t.Helper()
	src := testcorpus.Dir(t, KAPETree)
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
	// go test runs packages as parallel processes, and more than one of
	// them builds the images: without the lock one would delete or read
	// half-written images of the other.
	lock, err := os.OpenFile(dir+".lock", os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatalf("locking %s: %v", lock.Name(), err)
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)
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
