package collectors

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestImageCaseDistinctNames: two files of an NTFS volume whose names
// differ only in case (the POSIX namespace, which ntfs-3g writes) are both
// listed, and each opens its own content; the listing used to keep one.
func TestImageCaseDistinctNames(t *testing.T) {
	for _, tool := range []string{"mkntfs", "ntfs-3g", "fusermount"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s not installed (apt-get install ntfs-3g fuse3): %v", tool, err)
		}
	}
	dir := t.TempDir()
	vol := filepath.Join(dir, "vol.ntfs")
	if err := os.WriteFile(vol, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	os.Truncate(vol, 8<<20)
	mnt := filepath.Join(dir, "mnt")
	os.Mkdir(mnt, 0o755)
	for _, cmd := range [][]string{{"mkntfs", "-F", "-Q", "-q", vol}, {"ntfs-3g", vol, mnt}} {
		if out, err := exec.Command(cmd[0], cmd[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%v: %v\n%s", cmd, err, out)
		}
	}
	files := map[string]string{"Scripts/Run.ps1": "upper", "Scripts/run.ps1": "lower"}
	for p, content := range files {
		os.MkdirAll(filepath.Join(mnt, filepath.Dir(p)), 0o755)
		err := os.WriteFile(filepath.Join(mnt, p), []byte(content), 0o644)
		if err != nil {
			exec.Command("fusermount", "-u", mnt).Run()
			t.Fatal(err)
		}
	}
	if out, err := exec.Command("fusermount", "-u", mnt).CombinedOutput(); err != nil {
		t.Fatalf("fusermount: %v\n%s", err, out)
	}
	ev, err := Open(vol)
	if err != nil {
		t.Fatal(err)
	}
	defer ev.Close()
	got := map[string]string{}
	for _, a := range ev.Artifacts {
		f, err := a.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(f)
		f.Close()
		got[a.Path] = string(b)
	}
	for p, content := range files {
		if got["p0/"+p] != content {
			t.Errorf("%s: got %q, want %q (artifacts %v)", p, got["p0/"+p], content, got)
		}
	}
}
