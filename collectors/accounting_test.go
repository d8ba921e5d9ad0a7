package collectors

import (
	"archive/zip"
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"testing/fstest"
	"time"

	"triage/internal/testcorpus"
)

// needCorpus is the corpus path p, through testcorpus: the test skips
// where the corpus is absent, and fails there when CI requires it.
func needCorpus(t testing.TB, p string) string {
	t.Helper()
	return testcorpus.Dir(t, filepath.FromSlash(p))
}

var reasons = map[SkipReason]bool{
	SkipNotArtifact: true, SkipUnreadable: true, SkipTooLarge: true, SkipSymlink: true, SkipSpecial: true,
	SkipNameTooLong: true, SkipDuplicateEntry: true, SkipExpansionLimit: true,
}

// accounted returns, for every path the evidence lists, how it was
// accounted for ("artifact" or the skip reason), and fails on a path listed
// twice or an unknown reason.
func accounted(t *testing.T, ev *Evidence) map[string]string {
	t.Helper()
	got := map[string]string{}
	add := func(p, how string) {
		if prev, ok := got[p]; ok {
			t.Errorf("%q listed twice: %s and %s", p, prev, how)
		}
		got[p] = how
	}
	for _, a := range ev.Artifacts {
		add(a.Path, "artifact")
	}
	for _, s := range ev.Skipped {
		if !reasons[s.Reason] {
			t.Errorf("%q: unknown reason %q", s.Path, s.Reason)
		}
		add(s.Path, string(s.Reason))
	}
	return got
}

// filesUnder lists every entry of a folder that is not a folder, by its
// slash path relative to root, as lstat sees it.
func filesUnder(t *testing.T, root string) map[string]bool {
	t.Helper()
	files := map[string]bool{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(root, p)
			files[filepath.ToSlash(rel)] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func sameSet(t *testing.T, got map[string]string, want map[string]bool) {
	t.Helper()
	for p := range want {
		if _, ok := got[p]; !ok {
			t.Errorf("%q is neither an artifact nor skipped", p)
		}
	}
	for p, how := range got {
		if !want[p] {
			t.Errorf("%q (%s) is not a file of the evidence", p, how)
		}
	}
}

func TestCorpusEveryFileAccounted(t *testing.T) {
	for _, dir := range []string{"kape/APTSIM-WIN10", "."} {
		t.Run(dir, func(t *testing.T) {
			root := needCorpus(t, dir)
			ev, err := Open(root)
			if err != nil {
				t.Fatal(err)
			}
			defer ev.Close()
			got := accounted(t, ev)
			sameSet(t, got, filesUnder(t, root))
			if len(ev.Artifacts) == 0 {
				t.Fatal("no artifacts")
			}
			t.Logf("%d files: %d artifacts, %d skipped", len(got), len(ev.Artifacts), len(ev.Skipped))
		})
	}
}

// zipFolder writes the files under root into a zip, deflated.
func zipFolder(t testing.TB, root, out string) {
	t.Helper()
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		w, err := zw.Create(filepath.ToSlash(rel))
		if err != nil {
			return err
		}
		src, err := os.Open(p)
		if err != nil {
			return err
		}
		defer src.Close()
		_, err = io.Copy(w, src)
		return err
	})
	if err == nil {
		err = zw.Close()
	}
	if err == nil {
		err = f.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
}

func TestCorpusZipEveryEntryAccounted(t *testing.T) {
	root := needCorpus(t, "kape/APTSIM-WIN10")
	z := filepath.Join(t.TempDir(), "host.zip")
	zipFolder(t, root, z)
	ev, err := OpenWith(z, Options{TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer ev.Close()
	sameSet(t, accounted(t, ev), filesUnder(t, root))
	folder, err := Open(root)
	if err != nil {
		t.Fatal(err)
	}
	defer folder.Close()
	if len(ev.Artifacts) != len(folder.Artifacts) {
		t.Errorf("zip: %d artifacts, folder: %d", len(ev.Artifacts), len(folder.Artifacts))
	}
}

// TestCraftedTreeEveryFileAccounted builds a folder with each kind of file a
// walk can meet and checks how each is accounted for.
func TestCraftedTreeEveryFileAccounted(t *testing.T) {
	root := t.TempDir()
	want := map[string]string{}
	put := func(p string, data []byte, how string) {
		write(t, filepath.Join(root, filepath.FromSlash(p)), data)
		want[p] = how
	}
	put("C/Windows/System32/winevt/Logs/Security.evtx", evtxHead, "artifact")
	put("C/Users/bob/Desktop/notes.txt", []byte("hello"), string(SkipNotArtifact))
	put("C/Users/bob/Desktop/empty.bin", nil, string(SkipNotArtifact))
	// A name that is not UTF-8 (Latin-1 "é" as one byte) is kept byte for
	// byte, in a folder whose name is not UTF-8 either.
	put("C/Users/bob/d\xe9p\xf4t/r\xe9sum\xe9.ps1", []byte("iex 1\n"), "artifact")
	put("C/Users/bob/\xff\xfe/run.bat", []byte("dir\n"), "artifact")

	if err := os.Symlink("/etc/passwd", filepath.Join(root, "C/Users/bob/Desktop/link.ps1")); err != nil {
		t.Fatal(err)
	}
	want["C/Users/bob/Desktop/link.ps1"] = string(SkipSymlink)
	if err := syscall.Mkfifo(filepath.Join(root, "C/Users/bob/Desktop/pipe.bat"), 0o644); err != nil {
		t.Fatal(err)
	}
	want["C/Users/bob/Desktop/pipe.bat"] = string(SkipSpecial)

	// An unreadable file: root reads any file whatever its mode, so the row
	// is only checked when the mode denies this process.
	locked := filepath.Join(root, "C/Users/bob/Desktop/locked.cmd")
	write(t, locked, []byte("dir\n"))
	os.Chmod(locked, 0)
	if f, err := os.Open(locked); err == nil {
		f.Close()
		want["C/Users/bob/Desktop/locked.cmd"] = "artifact"
		t.Log("running with the right to read a mode-000 file: unreadable files are checked through an image volume instead")
	} else {
		want["C/Users/bob/Desktop/locked.cmd"] = string(SkipUnreadable)
	}
	defer os.Chmod(locked, 0o644)

	// Deep trees: one past the system's PATH_MAX, still read, and one past
	// MaxPathLength, listed as too long.
	r, err := os.OpenRoot(root)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	seg := strings.Repeat("d", 240)
	deep := func(levels int, name string, data []byte) string {
		p := "deep"
		for i := 0; i < levels; i++ {
			p += "/" + seg
		}
		if err := r.MkdirAll(filepath.FromSlash(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := r.WriteFile(filepath.FromSlash(p+"/"+name), data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p + "/" + name
	}
	want[deep(20, "x.vbs", []byte("WScript.Echo 1\n"))] = "artifact"
	deep(MaxPathLength/241+2, "y.vbs", []byte("WScript.Echo 2\n"))
	// Only the first folder past the limit is listed; the files under it
	// are not listed one by one.
	cross := "deep"
	for len(cross) <= MaxPathLength {
		cross += "/" + seg
	}
	want[cross+"/"] = string(SkipNameTooLong)

	ev, err := Open(root)
	if err != nil {
		t.Fatal(err)
	}
	defer ev.Close()
	got := accounted(t, ev)
	for p, how := range want {
		if got[p] != how {
			t.Errorf("%q: got %q, want %q", p, got[p], how)
		}
	}
	for p, how := range got {
		if _, ok := want[p]; !ok {
			t.Errorf("%q: unexpected %s", p, how)
		}
	}
	for _, a := range ev.Artifacts {
		f, err := a.Open()
		if err != nil {
			t.Errorf("%q: %v", a.Path, err)
			continue
		}
		f.Close()
	}
}

// faultFS fails to open one file, as a damaged image volume does.
type faultFS struct {
	fstest.MapFS
	bad string
}

func (f faultFS) Open(name string) (fs.File, error) {
	if name == f.bad {
		return nil, &fs.PathError{Op: "open", Path: name, Err: syscall.EIO}
	}
	return f.MapFS.Open(name)
}

func TestVolumeUnreadableFileListed(t *testing.T) {
	fsys := faultFS{MapFS: fstest.MapFS{
		"Windows/System32/winevt/Logs/System.evtx": {Data: evtxHead, ModTime: time.Unix(1e9, 0)},
		"Windows/System32/winevt/Logs/Bad.evtx":    {Data: evtxHead},
		"Windows/notes.txt":                        {Data: []byte("x")},
	}, bad: "Windows/System32/winevt/Logs/Bad.evtx"}
	ev := &Evidence{opts: Options{}.withDefaults()}
	ev.walkFS(fsys, "p1")
	got := accounted(t, ev)
	want := map[string]string{
		"p1/Windows/System32/winevt/Logs/System.evtx": "artifact",
		"p1/Windows/System32/winevt/Logs/Bad.evtx":    string(SkipUnreadable),
		"p1/Windows/notes.txt":                        string(SkipNotArtifact),
	}
	for p, how := range want {
		if got[p] != how {
			t.Errorf("%q: got %q, want %q", p, got[p], how)
		}
	}
	if len(got) != len(want) {
		t.Errorf("got %v", got)
	}
}

func TestMissingRootIsAnError(t *testing.T) {
	_, err := Open(filepath.Join(t.TempDir(), "absent"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("got %v, want not exist", err)
	}
}

// TestTextKindsByName: scripts, batch files and history are collected by
// path and name, whatever the content (issue 12: a NUL byte in the first
// 512 bytes or UTF-16LE without a byte order mark dropped them).
func TestTextKindsByName(t *testing.T) {
	utf16NoBOM := []byte("w\x00h\x00o\x00a\x00m\x00i\x00\r\x00\n\x00")
	files := map[string][]byte{
		"C/Users/bob/AppData/Roaming/Microsoft/Windows/PowerShell/PSReadLine/ConsoleHost_history.txt": utf16NoBOM,
		"C/Users/bob/Downloads/nul.bat":  append([]byte("@echo off\x00\x00"), bytes.Repeat([]byte{0}, 600)...),
		"C/Users/bob/Downloads/wide.cmd": utf16NoBOM,
		"C/Users/bob/Downloads/a.ps1":    append([]byte{0, 0, 0, 0}, "iex $x"...),
		"C/Users/bob/Downloads/b.js":     {0x4d, 0x5a, 0x90, 0},
	}
	want := map[string]Kind{
		"C/Users/bob/AppData/Roaming/Microsoft/Windows/PowerShell/PSReadLine/ConsoleHost_history.txt": History,
		"C/Users/bob/Downloads/nul.bat":  Batch,
		"C/Users/bob/Downloads/wide.cmd": Batch,
		"C/Users/bob/Downloads/a.ps1":    Script,
		"C/Users/bob/Downloads/b.js":     Script,
	}
	root := t.TempDir()
	zf, _ := os.Create(filepath.Join(t.TempDir(), "c.zip"))
	zw := zip.NewWriter(zf)
	for p, b := range files {
		write(t, filepath.Join(root, filepath.FromSlash(p)), b)
		w, _ := zw.Create(p)
		w.Write(b)
	}
	zw.Close()
	zf.Close()
	for _, src := range []string{root, zf.Name()} {
		ev, err := Open(src)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]Kind{}
		for _, a := range ev.Artifacts {
			got[a.Path] = a.Kind
		}
		for p, k := range want {
			if got[p] != k {
				t.Errorf("%s: %q: got %q, want %q", filepath.Base(src), p, got[p], k)
			}
		}
		ev.Close()
	}
}
