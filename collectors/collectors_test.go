package collectors

import (
	"archive/zip"
	"os"
	"path/filepath"
	"sort"
	"testing"
)

func write(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

var (
	evtxHead = append([]byte("ElfFile\x00"), make([]byte, 120)...)
	pfHead   = append([]byte{30, 0, 0, 0}, []byte("SCCA")...)
)

type found struct{ path, win string }

func kinds(t *testing.T, ev *Evidence) map[Kind][]found {
	out := map[Kind][]found{}
	for _, a := range ev.Artifacts {
		out[a.Kind] = append(out[a.Kind], found{a.Path, a.WinPath})
	}
	for _, v := range out {
		sort.Slice(v, func(i, j int) bool { return v[i].path < v[j].path })
	}
	return out
}

func TestLayouts(t *testing.T) {
	tests := []struct {
		name  string
		files map[string][]byte
		want  map[Kind][]found
	}{
		{"kape", map[string][]byte{
			"C/Windows/System32/winevt/Logs/Security.evtx":                                                evtxHead,
			"C/Windows/prefetch/CMD.EXE-0BD30981.pf":                                                      pfHead,
			"C/Users/bob/AppData/Roaming/Microsoft/Windows/PowerShell/PSReadLine/ConsoleHost_history.txt": []byte("whoami\n"),
			"C/Users/bob/Downloads/run.BAT":                                                               []byte("@echo off\n"),
			"C/Windows.old/Windows/System32/winevt/Logs/System.evtx":                                      evtxHead,
			"C/Users/bob/Desktop/notes.txt":                                                               []byte("not an artifact"),
			"C/Users/bob/Desktop/renamed.dat":                                                             evtxHead, // found by content
		}, map[Kind][]found{
			EVTX: {
				{"C/Users/bob/Desktop/renamed.dat", `C:\Users\bob\Desktop\renamed.dat`},
				{"C/Windows.old/Windows/System32/winevt/Logs/System.evtx", `C:\Windows.old\Windows\System32\winevt\Logs\System.evtx`},
				{"C/Windows/System32/winevt/Logs/Security.evtx", `C:\Windows\System32\winevt\Logs\Security.evtx`},
			},
			Prefetch: {{"C/Windows/prefetch/CMD.EXE-0BD30981.pf", `C:\Windows\prefetch\CMD.EXE-0BD30981.pf`}},
			History: {{"C/Users/bob/AppData/Roaming/Microsoft/Windows/PowerShell/PSReadLine/ConsoleHost_history.txt",
				`C:\Users\bob\AppData\Roaming\Microsoft\Windows\PowerShell\PSReadLine\ConsoleHost_history.txt`}},
			Batch: {{"C/Users/bob/Downloads/run.BAT", `C:\Users\bob\Downloads\run.BAT`}},
		}},
		{"velociraptor", map[string][]byte{
			"uploads/auto/C%3A/Windows/System32/winevt/Logs/Security.evtx":     evtxHead,
			"uploads/ntfs/%5C%5C.%5CC%3A/Windows/prefetch/CMD.EXE-0BD30981.pf": pfHead,
			"uploads/auto/C%3A/Users/Public/x.vbs":                             []byte("WScript.Echo 1\n"),
		}, map[Kind][]found{
			EVTX:     {{"uploads/auto/C%3A/Windows/System32/winevt/Logs/Security.evtx", `C:\Windows\System32\winevt\Logs\Security.evtx`}},
			Prefetch: {{"uploads/ntfs/%5C%5C.%5CC%3A/Windows/prefetch/CMD.EXE-0BD30981.pf", `C:\Windows\prefetch\CMD.EXE-0BD30981.pf`}},
			Script:   {{"uploads/auto/C%3A/Users/Public/x.vbs", `C:\Users\Public\x.vbs`}},
		}},
		{"plain folder", map[string][]byte{
			"logs/Security.evtx": evtxHead,
			"a.cmd":              []byte("dir\r\n"),
			"binary.bat":         {0x4d, 0x5a, 0, 0}, // collected by name whatever it holds
		}, map[Kind][]found{
			EVTX:  {{"logs/Security.evtx", `logs\Security.evtx`}},
			Batch: {{"a.cmd", `a.cmd`}, {"binary.bat", `binary.bat`}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			for p, b := range tt.files {
				write(t, filepath.Join(root, filepath.FromSlash(p)), b)
			}
			check := func(ev *Evidence) {
				got := kinds(t, ev)
				for k, want := range tt.want {
					if len(got[k]) != len(want) {
						t.Fatalf("%s: got %v, want %v", k, got[k], want)
					}
					for i := range want {
						if got[k][i] != want[i] {
							t.Errorf("%s[%d]: got %v, want %v", k, i, got[k][i], want[i])
						}
					}
				}
				if len(got) != len(tt.want) {
					t.Errorf("kinds %v, want %v", got, tt.want)
				}
			}
			ev, err := Open(root)
			if err != nil {
				t.Fatal(err)
			}
			check(ev)
			ev.Close()

			// The same tree zipped.
			zpath := filepath.Join(t.TempDir(), "collection.zip")
			zf, _ := os.Create(zpath)
			zw := zip.NewWriter(zf)
			for p, b := range tt.files {
				w, _ := zw.Create(p)
				w.Write(b)
			}
			zw.Close()
			zf.Close()
			ev, err = Open(zpath)
			if err != nil {
				t.Fatal(err)
			}
			defer ev.Close()
			if ev.Format != "zip" || ev.HostHint != "collection" {
				t.Errorf("format %q host %q", ev.Format, ev.HostHint)
			}
			check(ev)
			for _, a := range ev.Artifacts {
				f, err := a.Open()
				if err != nil {
					t.Fatal(err)
				}
				buf := make([]byte, 4)
				if _, err := f.ReadAt(buf, 0); err != nil {
					t.Errorf("%s: ReadAt: %v", a.Path, err)
				}
				f.Close()
			}
		})
	}
}

func TestSingleFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "Security.evtx")
	write(t, p, evtxHead)
	ev, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer ev.Close()
	if ev.Format != "file" || len(ev.Artifacts) != 1 || ev.Artifacts[0].Path != "Security.evtx" {
		t.Fatalf("%+v", ev)
	}
}

func TestUnreadableFileIsListed(t *testing.T) {
	// Tests run as root, who reads any file; a dangling link is unreadable
	// for everyone.
	root := t.TempDir()
	write(t, filepath.Join(root, "C/Windows/System32/winevt/Logs/Security.evtx"), evtxHead)
	if err := os.Symlink(filepath.Join(root, "missing"), filepath.Join(root, "C/Windows/prefetch.pf")); err != nil {
		t.Fatal(err)
	}
	ev, err := Open(root)
	if err != nil {
		t.Fatal(err)
	}
	defer ev.Close()
	if len(ev.Artifacts) != 1 || len(ev.Skipped) != 1 {
		t.Fatalf("artifacts %d, skipped %v", len(ev.Artifacts), ev.Skipped)
	}
}
