package prefetchwrite

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"triage/parsers/prefetch"
)

func sample() File {
	t := time.Date(2026, 3, 14, 9, 31, 2, 123456700, time.UTC)
	return File{
		Executable: "POWERSHELL.EXE",
		Path:       `\WINDOWS\SYSTEM32\WINDOWSPOWERSHELL\V1.0\POWERSHELL.EXE`,
		RunCount:   11,
		LastRuns:   []time.Time{t, t.Add(-time.Hour), t.Add(-26 * time.Hour)},
		Volume:     Volume{Serial: 0x1a484cb6, Created: time.Date(2025, 11, 2, 8, 0, 0, 0, time.UTC)},
		Files: []string{`\WINDOWS\SYSTEM32\NTDLL.DLL`, `\WINDOWS\SYSTEM32\WINDOWSPOWERSHELL\V1.0\POWERSHELL.EXE`,
			`\WINDOWS\SYSTEM32\KERNEL32.DLL`, `\USERS\ALICE\APPDATA\LOCAL\TEMP\A.PS1`},
	}
}

// TestReaders reads a written file, compressed and not, with our parser
// and with sccainfo, and checks every field both report.
func TestReaders(t *testing.T) {
	if _, err := exec.LookPath("sccainfo"); err != nil {
		t.Fatalf("sccainfo not found: this test needs Debian's libscca-utils (apt-get install libscca-utils): %v", err)
	}
	f := sample()
	dir := t.TempDir()
	for _, compressed := range []bool{false, true} {
		var b []byte
		var err error
		if compressed {
			b, err = f.Compressed()
		} else {
			b, err = f.Uncompressed()
		}
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, f.Name())
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		p, err := prefetch.Parse(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatalf("compressed %v: our parser: %v", compressed, err)
		}
		var want []string
		for _, n := range f.Files {
			want = append(want, f.Volume.DevicePath()+n)
		}
		var got []string
		for _, m := range p.Files {
			got = append(got, m.Name)
		}
		if p.Version != 30 || p.Variant != 2 || p.Compressed != compressed || p.Executable != f.Executable ||
			p.Hash != f.Hash() || p.RunCount != f.RunCount || !slices.EqualFunc(p.LastRuns, f.LastRuns, time.Time.Equal) ||
			!slices.Equal(got, want) || len(p.Volumes) != 1 || p.Volumes[0].DevicePath != f.Volume.DevicePath() ||
			p.Volumes[0].Serial != f.Volume.Serial || !p.Volumes[0].Created.Equal(f.Volume.Created) {
			t.Errorf("compressed %v: our parser read %+v", compressed, p)
		}
		if !slices.Contains(p.Directories, f.Volume.DevicePath()+`\USERS\ALICE\APPDATA\LOCAL\TEMP`) {
			t.Errorf("directories %q", p.Directories)
		}
		out, err := exec.Command("sccainfo", path).CombinedOutput()
		if err != nil {
			t.Fatalf("sccainfo: %v\n%s", err, out)
		}
		info := string(out)
		checks := []string{
			"Format version\t\t\t: 30\n",
			"Prefetch hash\t\t\t: 0x" + strings.ToLower(f.Name()[len(f.Executable)+1:len(f.Executable)+9]) + "\n",
			"Executable filename\t\t: POWERSHELL.EXE\n",
			"Run count\t\t\t: 11\n",
			"Last run time: 1\t\t: Mar 14, 2026 09:31:02.123456700 UTC\n",
			"Last run time: 3\t\t: Mar 13, 2026 07:31:02.123456700 UTC\n",
			"Number of filenames\t\t: 4\n",
			"Filename: 4\t\t\t: " + want[3] + "\n",
			"Number of volumes\t\t: 1\n",
			"Device path\t\t\t: " + f.Volume.DevicePath() + "\n",
			"Creation time\t\t\t: Nov 02, 2025 08:00:00.000000000 UTC\n",
			"Serial number\t\t\t: 0x1a484cb6\n",
		}
		for _, c := range checks {
			if !strings.Contains(info, c) {
				t.Errorf("compressed %v: sccainfo output lacks %q:\n%s", compressed, c, info)
			}
		}
		if os.Getenv("SHOW") != "" {
			t.Log(info)
		}
		if strings.Contains(info, "Last run time: 4\t\t: M") {
			t.Errorf("sccainfo reads a fourth run time")
		}
	}
}

// TestHash checks the hash against a real file's name: the KAPE host's
// CMD.EXE-0BD30981.pf, whose volume and path sccainfo prints.
func TestHash(t *testing.T) {
	f := File{Executable: "CMD.EXE", Path: `\WINDOWS\SYSTEM32\CMD.EXE`,
		Volume: Volume{Serial: 0x1a484cb6, Created: time.Date(2022, 3, 10, 19, 30, 21, 350385900, time.UTC)}}
	if got := f.Volume.DevicePath(); got != `\VOLUME{01d834b54842fb73-1a484cb6}` {
		t.Errorf("device path %s", got)
	}
	if got := f.Name(); got != "CMD.EXE-0BD30981.pf" {
		t.Errorf("name %s, want CMD.EXE-0BD30981.pf", got)
	}
}
