package collectors

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// zipEntry describes one entry to write; raw entries are written as given,
// with the sizes and CRC they declare.
type testEntry struct {
	name     string
	data     []byte
	store    bool
	mode     fs.FileMode
	raw      bool // write data as is, declaring the fields below
	method   uint16
	crc      uint32
	declared uint64
	flags    uint16
}

func writeZip(t testing.TB, entries []testEntry) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "evidence.zip")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	for _, e := range entries {
		h := &zip.FileHeader{Name: e.name, Method: zip.Deflate}
		if e.store {
			h.Method = zip.Store
		}
		if e.mode != 0 {
			h.SetMode(e.mode)
		}
		var w io.Writer
		if e.raw {
			h.Method, h.CRC32, h.UncompressedSize64, h.CompressedSize64, h.Flags = e.method, e.crc, e.declared, uint64(len(e.data)), e.flags
			w, err = zw.CreateRaw(h)
		} else {
			w, err = zw.CreateHeader(h)
		}
		if err != nil {
			t.Fatal(err)
		}
		w.Write(e.data)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	return p
}

func deflate(b []byte) []byte {
	var buf bytes.Buffer
	w, _ := flate.NewWriter(&buf, flate.BestSpeed)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

// TestZipDuplicateKeepsFolder: a duplicate entry name no longer drops the
// folder it sits in (issue 12: a zip of a host lost all its logs).
func TestZipDuplicateKeepsFolder(t *testing.T) {
	logs := "C/Windows/System32/winevt/Logs/"
	z := writeZip(t, []testEntry{
		{name: logs + "Security.evtx", data: evtxHead},
		{name: logs + "System.evtx", data: evtxHead},
		{name: logs + "Security.evtx", data: append(evtxHead, 1)},
		{name: "C/Windows/prefetch/", data: nil},
		{name: "C/Windows/prefetch/CMD.EXE-0BD30981.pf", data: pfHead},
	})
	ev, err := Open(z)
	if err != nil {
		t.Fatal(err)
	}
	defer ev.Close()
	var paths []string
	for _, a := range ev.Artifacts {
		paths = append(paths, a.Path)
		if a.Path == logs+"Security.evtx" && a.Size != int64(len(evtxHead)) {
			t.Errorf("the first Security.evtx is the one read, got size %d", a.Size)
		}
	}
	if len(paths) != 3 {
		t.Errorf("artifacts %q", paths)
	}
	if len(ev.Skipped) != 1 || ev.Skipped[0].Reason != SkipDuplicateEntry || !strings.Contains(ev.Skipped[0].Detail, "entry 3") {
		t.Errorf("skipped %v", ev.Skipped)
	}
}

func TestZipEntryKinds(t *testing.T) {
	latin1 := "C/Users/r\xe9sum\xe9.ps1" // no UTF-8 flag: kept as stored
	long := "C/" + strings.Repeat("n", MaxPathLength) + ".ps1"
	z := writeZip(t, []testEntry{
		{name: latin1, data: []byte("iex 1")},
		{name: "C/link.ps1", data: []byte("/etc/passwd"), mode: fs.ModeSymlink | 0o777},
		{name: "C/fifo.bat", data: nil, mode: fs.ModeNamedPipe | 0o644},
		{name: long, data: []byte("x")},
		{name: "C/enc.ps1", data: []byte("xxxx"), raw: true, method: zip.Deflate, flags: 1, declared: 4},
		{name: "C/bzip2.ps1", data: []byte("BZh9"), raw: true, method: 12, declared: 4},
		{name: "C/readme.md", data: []byte("# hi")},
		{name: "C/folder/", data: nil},
		{name: "C/Logs/Security.evtx", data: evtxHead, mode: fs.ModeDir | 0o755}, // a folder attribute does not hide it
		{name: "C/hidden/", data: []byte("data in a folder entry"), raw: true, method: zip.Store, declared: 22, crc: crc32.ChecksumIEEE([]byte("data in a folder entry"))},
	})
	ev, err := Open(z)
	if err != nil {
		t.Fatal(err)
	}
	defer ev.Close()
	got := accounted(t, ev)
	want := map[string]string{
		latin1:                 "artifact",
		"C/link.ps1":           string(SkipSymlink),
		"C/fifo.bat":           string(SkipSpecial),
		long:                   string(SkipNameTooLong),
		"C/enc.ps1":            string(SkipUnreadable),
		"C/bzip2.ps1":          string(SkipUnreadable),
		"C/readme.md":          string(SkipNotArtifact),
		"C/hidden/":            string(SkipNotArtifact),
		"C/Logs/Security.evtx": "artifact",
	}
	for p, how := range want {
		if got[p] != how {
			t.Errorf("%.40q: got %q, want %q", p, got[p], how)
		}
	}
	if len(got) != len(want) {
		t.Errorf("got %d entries, want %d", len(got), len(want))
	}
}

// readAll reads an artifact through, as ingest's hash does, and returns
// the bytes and the problems found.
func readAll(t *testing.T, a *Artifact) ([]byte, []string) {
	t.Helper()
	f, err := a.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		t.Fatalf("%s: %v", a.Path, err)
	}
	return b, a.Problems()
}

func TestZipVerifiesCRCAndSize(t *testing.T) {
	script := []byte(strings.Repeat("Write-Host hello\r\n", 100))
	good := crc32.ChecksumIEEE(script)
	packed := deflate(script)
	n := uint64(len(script))
	tests := []struct {
		name    string
		entry   testEntry
		want    []byte
		problem string
	}{
		{"good", testEntry{data: packed, raw: true, method: zip.Deflate, crc: good, declared: n}, script, ""},
		{"bad crc", testEntry{data: packed, raw: true, method: zip.Deflate, crc: good ^ 1, declared: n}, script, "CRC-32"},
		{"declares less", testEntry{data: packed, raw: true, method: zip.Deflate, crc: good, declared: n - 10}, script[:n-10], "more than its declared"},
		{"declares more", testEntry{data: packed, raw: true, method: zip.Deflate, crc: good, declared: n + 10}, script, "ends after"},
		{"truncated deflate", testEntry{data: packed[:len(packed)/2], raw: true, method: zip.Deflate, crc: good, declared: n}, nil, "damaged after"},
		{"stored bad crc", testEntry{data: script, raw: true, method: zip.Store, crc: good ^ 1, declared: n}, script, "CRC-32"},
		{"stored declares less", testEntry{data: script, raw: true, method: zip.Store, crc: good, declared: n - 1}, script[:n-1], "stored entry with"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.entry.name = "C/Users/bob/a.ps1"
			ev, err := OpenWith(writeZip(t, []testEntry{tt.entry}), Options{TempDir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			defer ev.Close()
			if len(ev.Artifacts) != 1 {
				t.Fatalf("artifacts %v skipped %v", ev.Artifacts, ev.Skipped)
			}
			b, problems := readAll(t, ev.Artifacts[0])
			if tt.want != nil && !bytes.Equal(b, tt.want) {
				t.Errorf("read %d bytes, want %d", len(b), len(tt.want))
			}
			if int64(len(b)) > int64(tt.entry.declared) {
				t.Errorf("read %d bytes past the declared %d", len(b), tt.entry.declared)
			}
			joined := strings.Join(problems, "; ")
			if tt.problem == "" && joined != "" || !strings.Contains(joined, tt.problem) {
				t.Errorf("problems %q, want %q", joined, tt.problem)
			}
			// A second pass does not repeat the problem.
			readAll(t, ev.Artifacts[0])
			if len(ev.Artifacts[0].Problems()) != len(problems) {
				t.Errorf("problems repeated: %q", ev.Artifacts[0].Problems())
			}
		})
	}
}

// TestZipBoundsReported: with small limits, each bound yields a Skipped
// entry naming the limit, before anything is inflated.
func TestZipBoundsReported(t *testing.T) {
	zeros := make([]byte, 4<<20)
	logs := "C/Windows/System32/winevt/Logs/"
	text := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB, 16:1 or so
	z := writeZip(t, []testEntry{
		{name: logs + "bomb.evtx", data: zeros},
		{name: logs + "big.evtx", data: append(append([]byte{}, evtxHead...), text...), store: true},
		{name: logs + "a.evtx", data: append(append([]byte{}, evtxHead...), text[:600<<10]...)},
		{name: logs + "b.evtx", data: append(append([]byte{}, evtxHead...), text[:600<<10]...)},
		{name: "C/zeros.bin", data: zeros}, // not an artifact: never inflated past its head
	})
	ev, err := OpenWith(z, Options{MaxEntrySize: 1 << 20, MaxExpansion: 1 << 20, MaxExpansionRatio: 100})
	if err != nil {
		t.Fatal(err)
	}
	defer ev.Close()
	want := map[string]struct {
		how, detail string
	}{
		logs + "bomb.evtx": {string(SkipTooLarge), "1048576-byte limit for one entry"},
		logs + "big.evtx":  {string(SkipTooLarge), "1048576-byte limit for one entry"},
		logs + "a.evtx":    {"artifact", ""},
		logs + "b.evtx":    {string(SkipExpansionLimit), "1048576-byte expansion limit"},
		"C/zeros.bin":      {string(SkipNotArtifact), ""},
	}
	got := accounted(t, ev)
	for p, w := range want {
		if got[p] != w.how {
			t.Errorf("%s: got %q, want %q", p, got[p], w.how)
		}
	}
	for _, s := range ev.Skipped {
		if w := want[s.Path]; !strings.Contains(s.Detail, w.detail) {
			t.Errorf("%s: detail %q, want %q", s.Path, s.Detail, w.detail)
		}
	}

	// The ratio bound, with room for size.
	ev2, err := OpenWith(z, Options{MaxExpansionRatio: 100})
	if err != nil {
		t.Fatal(err)
	}
	defer ev2.Close()
	for _, s := range ev2.Skipped {
		if s.Path == logs+"bomb.evtx" && (s.Reason != SkipExpansionLimit || !strings.Contains(s.Detail, "100:1")) {
			t.Errorf("bomb: %v", s)
		}
	}
	if got := accounted(t, ev2)[logs+"bomb.evtx"]; got != string(SkipExpansionLimit) {
		t.Errorf("bomb: %q", got)
	}
}

// TestZipRandomAccess: a deflated event log is copied once under TempDir
// (removed by Close) and read from there; without TempDir it streams, and
// random reads still return the right bytes.
func TestZipRandomAccess(t *testing.T) {
	content := append(append([]byte{}, evtxHead...), bytes.Repeat([]byte("chunk data "), 50000)...)
	for i := range content[len(evtxHead):] {
		content[len(evtxHead)+i] ^= byte(i * 7)
	}
	z := writeZip(t, []testEntry{
		{name: "Logs/Security.evtx", data: content},
		{name: "Logs/stored.evtx", data: content, store: true},
		{name: "a.ps1", data: []byte("iex\n")},
	})
	for _, temp := range []string{t.TempDir(), ""} {
		ev, err := OpenWith(z, Options{TempDir: temp})
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range ev.Artifacts {
			f, err := a.Open()
			if err != nil {
				t.Fatal(err)
			}
			all, err := io.ReadAll(f)
			want := content
			if a.Kind == Script {
				want = []byte("iex\n")
			}
			if err != nil || !bytes.Equal(all, want) {
				t.Errorf("%s: read %d bytes, %v", a.Path, len(all), err)
			}
			for _, off := range []int64{300000, 10, 0, 549000, int64(len(want)) - 3} {
				if off >= int64(len(want)) {
					continue
				}
				buf := make([]byte, 8)
				n, err := f.ReadAt(buf, off)
				end := min(off+8, int64(len(want)))
				if !bytes.Equal(buf[:n], want[off:end]) || (n < 8 && err == nil) {
					t.Errorf("%s: ReadAt %d: %q %v", a.Path, off, buf[:n], err)
				}
			}
			f.Close()
			if p := a.Problems(); len(p) > 0 {
				t.Errorf("%s: %q", a.Path, p)
			}
		}
		var copies []string
		if temp != "" {
			copies, _ = filepath.Glob(filepath.Join(temp, "*"))
			if len(copies) != 1 {
				t.Errorf("temporary copies %q, want the deflated event log only", copies)
			}
		}
		ev.Close()
		if temp != "" {
			if left, _ := filepath.Glob(filepath.Join(temp, "*")); len(left) > 0 {
				t.Errorf("left after Close: %q", left)
			}
		}
	}
}

// FuzzZipEvidence opens crafted zip bytes as evidence and reads every
// artifact through and at random: never a panic, never more than the
// declared size, and memory bounded by the small limits given.
func FuzzZipEvidence(f *testing.F) {
	script := []byte("Write-Host hi\r\n")
	seeds := [][]testEntry{
		{{name: "C/Windows/System32/winevt/Logs/Security.evtx", data: evtxHead}, {name: "a.ps1", data: script}},
		{{name: "x.pf", data: pfHead, store: true}, {name: "x.pf", data: script}},
		{{name: "h/PSReadLine/ConsoleHost_history.txt", data: deflate(script), raw: true, method: zip.Deflate, crc: 1, declared: 3}},
	}
	for _, s := range seeds {
		b, _ := os.ReadFile(writeZip(f, s))
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		dir := t.TempDir()
		p := filepath.Join(dir, "f.zip")
		os.WriteFile(p, b, 0o644)
		ev, err := OpenWith(p, Options{TempDir: dir, MaxEntrySize: 1 << 20, MaxExpansion: 4 << 20, MaxExpansionRatio: 50})
		if err != nil {
			return
		}
		defer ev.Close()
		for _, a := range ev.Artifacts {
			r, err := a.Open()
			if err != nil {
				continue
			}
			n, _ := io.Copy(io.Discard, r)
			if n > a.Size {
				t.Fatalf("%q: read %d bytes, declared %d", a.Path, n, a.Size)
			}
			buf := make([]byte, 64)
			r.ReadAt(buf, a.Size/2)
			r.ReadAt(buf, 0)
			r.Close()
			a.Problems()
		}
	})
}
