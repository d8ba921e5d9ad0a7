package prefetch

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"triage/internal/testcorpus"
	"unicode/utf16"
)

func corpusFiles(t testing.TB) []string {
	var out []string
	filepath.WalkDir(filepath.Join(testcorpus.Dir(t), "prefetch"), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(strings.ToLower(p), ".pf") {
			out = append(out, p)
		}
		return err
	})
	if len(out) < 70 {
		t.Fatalf("only %d prefetch files in the corpus", len(out))
	}
	return out
}

// kapeFiles are the prefetch files of the KAPE collection in the corpus:
// one real Windows 10 host's C:\Windows\Prefetch (version 30 variant 2).
func kapeFiles(t testing.TB) []string {
	out, err := filepath.Glob(filepath.Join(testcorpus.Dir(t), "kape", "APTSIM-WIN10", "C", "Windows", "prefetch", "*.pf"))
	if err != nil || len(out) < 150 {
		t.Fatalf("only %d prefetch files in the KAPE collection (%v)", len(out), err)
	}
	return out
}

// allFiles is every .pf file in the corpus.
func allFiles(t testing.TB) []string {
	return append(corpusFiles(t), kapeFiles(t)...)
}

// notPrefetch are the corpus files that are not prefetch at all.
var notPrefetch = map[string]bool{
	"notAPrefetch.pf": true,
	"zero-filled-SEARCHFILTERHOST.EXE-AA7A1FDD.pf": true,
}

func TestCorpusParses(t *testing.T) {
	for _, p := range allFiles(t) {
		pf, err := Open(p)
		if notPrefetch[filepath.Base(p)] {
			if !errors.Is(err, ErrNotPrefetch) {
				t.Errorf("%s: err = %v, want ErrNotPrefetch", p, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", p, err)
			continue
		}
		if pf.Executable == "" || len(pf.Files) == 0 || len(pf.Volumes) == 0 || pf.RunCount == 0 {
			t.Errorf("%s: incomplete: %+v", p, pf)
		}
	}
}

// TestPlasoValues checks the values log2timeline/plaso's own tests assert
// for the plaso sample files (tests/parsers/winprefetch.py, testParse17 to
// testParse31TruncatedFilename, as of plaso commit 0110bb8d8ce5): executable,
// hash, run count, last run times, mapped file count, and the first
// volume's device path, serial and creation time. It covers the version 31
// file that sccainfo cannot read; plaso asserts no run time for that one.
func TestPlasoValues(t *testing.T) {
	dir := filepath.Join(testcorpus.Dir(t), "prefetch", "plaso")
	tests := []struct {
		file       string
		version    int
		executable string
		hash       uint32
		runCount   uint32 // 0: plaso asserts none
		lastRuns   []string
		metrics    int // 0: plaso asserts none
		device     string
		serial     uint32
		created    string // "": plaso asserts none
	}{
		{"CMD.EXE-087B4001.pf", 17, "CMD.EXE", 0x087B4001, 0, []string{"2013-03-10T10:11:49.2812500Z"}, 33,
			`\DEVICE\HARDDISKVOLUME1`, 0x24CB074B, "2013-03-10T10:19:46.2343750Z"},
		{"PING.EXE-B29F6629.pf", 23, "PING.EXE", 0xB29F6629, 14, []string{"2012-04-06T19:00:55.9329556Z"}, 0,
			`\DEVICE\HARDDISKVOLUME1`, 0xAC036525, "2010-11-10T17:37:26.4843750Z"},
		{"WUAUCLT.EXE-830BCC14.pf", 23, "WUAUCLT.EXE", 0x830BCC14, 25, []string{"2012-03-15T21:17:39.8079963Z"}, 0,
			`\DEVICE\HARDDISKVOLUME1`, 0xAC036525, "2010-11-10T17:37:26.4843750Z"},
		{"TASKHOST.EXE-3AE259FC.pf", 26, "TASKHOST.EXE", 0x3AE259FC, 4, []string{"2013-10-04T15:40:09.0378333Z",
			"2013-10-04T15:28:09.0103565Z", "2013-10-04T06:19:54.5960606Z", "2013-10-04T06:11:13.6429375Z"}, 51,
			`\DEVICE\HARDDISKVOLUME2`, 0x686C4249, "2013-10-04T15:57:26.1465476Z"},
		{"BYTECODEGENERATOR.EXE-C1E9BCE6.pf", 30, "BYTECODEGENERATOR.EXE", 0xC1E9BCE6, 7, []string{"2015-05-14T22:11:58.0911341Z",
			"2015-05-14T22:11:55.3576520Z", "2015-05-14T22:11:45.5135991Z", "2015-05-14T22:11:25.8427278Z",
			"2015-05-14T22:11:19.8586549Z", "2015-05-14T22:11:05.9066547Z", "2015-05-14T22:10:38.2515193Z"}, 1085,
			`\VOLUME{01d08edc0cbccaad-3e0d2d25}`, 0x3E0D2D25, "2015-05-15T06:54:55.1392941Z"},
		{"ONEDRIVE.EXE-7E152375.pf", 30, "ONEDRIVE.EXE", 0x7E152375, 2, []string{"2015-05-14T22:11:05.4852771Z",
			"2015-05-14T22:10:28.6747101Z"}, 134,
			`\VOLUME{01d08edc0cbccaad-3e0d2d25}`, 0x3E0D2D25, "2015-05-15T06:54:55.1392941Z"},
		{"NOTEPAD.EXE-D8414F97.pf", 30, "NOTEPAD.EXE", 0xD8414F97, 2, []string{"2019-06-05T19:55:04.8777787Z",
			"2019-06-05T19:23:00.8157052Z"}, 56,
			`\VOLUME{01d3096ba3a46863-2ca3d1ae}`, 0x2CA3D1AE, "2017-07-30T19:40:03.5487843Z"},
		{"AM_DELTA_PATCH_1.443.990.0.EX-7037CF86.pf", 31, "AM_DELTA_PATCH_1.443.990.0.EX", 0x7037CF86, 1, nil, 0,
			`\VOLUME{01dc94cf1f08c4a4-bc1f1bfc}`, 0xBC1F1BFC, ""},
	}
	const ticks = "2006-01-02T15:04:05.0000000Z"
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			pf, err := Open(filepath.Join(dir, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if pf.Version != tt.version || pf.Executable != tt.executable || pf.Hash != tt.hash {
				t.Errorf("got v%d %q %08X", pf.Version, pf.Executable, pf.Hash)
			}
			if tt.runCount != 0 && pf.RunCount != tt.runCount {
				t.Errorf("run count %d, want %d", pf.RunCount, tt.runCount)
			}
			if tt.lastRuns != nil {
				var got []string
				for _, r := range pf.LastRuns {
					got = append(got, r.Format(ticks))
				}
				if strings.Join(got, " ") != strings.Join(tt.lastRuns, " ") {
					t.Errorf("last runs %v, want %v", got, tt.lastRuns)
				}
			}
			if tt.metrics != 0 && len(pf.Files) != tt.metrics {
				t.Errorf("%d files, want %d", len(pf.Files), tt.metrics)
			}
			if len(pf.Volumes) == 0 {
				t.Fatal("no volumes")
			}
			v := pf.Volumes[0]
			if v.DevicePath != tt.device || v.Serial != tt.serial {
				t.Errorf("volume %q %08X, want %q %08X", v.DevicePath, v.Serial, tt.device, tt.serial)
			}
			if tt.created != "" && v.Created.Format(ticks) != tt.created {
				t.Errorf("volume created %s, want %s", v.Created.Format(ticks), tt.created)
			}
		})
	}
	// plaso prints the reference as [MFT entry-sequence]: NTDLL.DLL [46299-1].
	pf, err := Open(filepath.Join(dir, "TASKHOST.EXE-3AE259FC.pf"))
	if err != nil {
		t.Fatal(err)
	}
	if m := pf.Files[0]; m.Name != `\DEVICE\HARDDISKVOLUME2\WINDOWS\SYSTEM32\NTDLL.DLL` || m.FileReference != 1<<48|46299 {
		t.Errorf("first file %q %#x", m.Name, m.FileReference)
	}
	pf, _ = Open(filepath.Join(dir, "AM_DELTA_PATCH_1.443.990.0.EX-7037CF86.pf"))
	if !pf.ExecutableTruncated {
		t.Error("the 29-character v31 name is not flagged as truncated")
	}
}

// sccainfoFacts is what the differential test compares.
type sccainfoFacts struct {
	executable string
	runCount   uint32
	lastRuns   []time.Time
	serials    []uint32
	files      int
}

var (
	sccaLine = regexp.MustCompile(`^\s*([A-Za-z ]+?)(?::\s*\d+)?\s*:?\s*:\s(.*)$`)
	sccaTime = "Jan 2, 2006 15:04:05.000000000 MST"
)

func runSccainfo(t *testing.T, path string) (sccainfoFacts, error) {
	out, err := exec.Command("sccainfo", path).Output()
	if err != nil {
		return sccainfoFacts{}, err
	}
	var f sccainfoFacts
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		key, val, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		key = strings.TrimSpace(key)
		val = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(val), ":"))
		if i := strings.Index(val, ": "); strings.HasPrefix(key, "Last run time") && i >= 0 {
			val = strings.TrimSpace(val[i+1:])
		}
		switch {
		case key == "Executable filename":
			f.executable = val
		case key == "Run count":
			n, _ := strconv.ParseUint(val, 10, 32)
			f.runCount = uint32(n)
		case strings.HasPrefix(key, "Last run time") && !strings.HasPrefix(val, "Not set"):
			ts, err := time.Parse(sccaTime, val)
			if err != nil {
				return f, fmt.Errorf("sccainfo time %q: %v", val, err)
			}
			f.lastRuns = append(f.lastRuns, ts)
		case key == "Serial number":
			n, _ := strconv.ParseUint(strings.TrimPrefix(val, "0x"), 16, 32)
			f.serials = append(f.serials, uint32(n))
		case key == "Number of filenames":
			f.files, _ = strconv.Atoi(val)
		}
	}
	return f, nil
}

// TestDifferentialSccainfo compares with libscca's sccainfo on every file it
// reads (versions 17–30; it cannot read version 31 or the decompressed museum
// files, which TestPlasoValues and TestCorpusParses cover).
func TestDifferentialSccainfo(t *testing.T) {
	if _, err := exec.LookPath("sccainfo"); err != nil {
		t.Fatal("sccainfo not found: install Debian's libscca-utils (.ci/run does)")
	}
	compared := 0
	for _, p := range allFiles(t) {
		want, err := runSccainfo(t, p)
		pf, ourErr := Open(p)
		if err != nil {
			// sccainfo reads neither version 31 nor non-prefetch files;
			// anything else it refuses must not be skipped silently.
			if !(ourErr == nil && pf.Version == 31 || errors.Is(ourErr, ErrNotPrefetch)) {
				t.Errorf("%s: sccainfo fails (%v); we give %v", p, err, ourErr)
			}
			continue
		}
		err = ourErr
		if err != nil {
			t.Errorf("%s: sccainfo reads it, we fail: %v", p, err)
			continue
		}
		compared++
		if pf.Executable != want.executable || pf.RunCount != want.runCount || len(pf.Files) != want.files {
			t.Errorf("%s: got %q runs=%d files=%d, sccainfo %q runs=%d files=%d", p,
				pf.Executable, pf.RunCount, len(pf.Files), want.executable, want.runCount, want.files)
		}
		if len(pf.LastRuns) != len(want.lastRuns) {
			t.Errorf("%s: %d last runs, sccainfo %d", p, len(pf.LastRuns), len(want.lastRuns))
		} else {
			for i := range want.lastRuns {
				// sccainfo prints nanoseconds computed from 100 ns ticks.
				if !pf.LastRuns[i].Equal(want.lastRuns[i]) {
					t.Errorf("%s: last run %d %v, sccainfo %v", p, i, pf.LastRuns[i], want.lastRuns[i])
				}
			}
		}
		if len(pf.Volumes) != len(want.serials) {
			t.Errorf("%s: %d volumes, sccainfo %d", p, len(pf.Volumes), len(want.serials))
		} else {
			for i, s := range want.serials {
				if pf.Volumes[i].Serial != s {
					t.Errorf("%s: volume %d serial %08X, sccainfo %08X", p, i, pf.Volumes[i].Serial, s)
				}
			}
		}
	}
	if compared < 250 {
		t.Errorf("compared only %d files with sccainfo", compared)
	}
	t.Logf("compared %d files with sccainfo", compared)
}

func TestTruncatedGivesPartialAndError(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(testcorpus.Dir(t), "prefetch", "plaso", "TASKHOST.EXE-3AE259FC.pf"))
	if err != nil {
		t.Fatal(err)
	}
	cut := b[:len(b)/2]
	pf, err := Parse(bytes.NewReader(cut), int64(len(cut)))
	var fe *FormatError
	if !errors.As(err, &fe) {
		t.Fatalf("err = %v, want a FormatError", err)
	}
	if pf == nil || pf.Executable != "TASKHOST.EXE" || pf.RunCount != 4 {
		t.Fatalf("partial result %+v", pf)
	}
}

func TestDamagedEntryIsReportedAndSkipped(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(testcorpus.Dir(t), "prefetch", "plaso", "TASKHOST.EXE-3AE259FC.pf"))
	if err != nil {
		t.Fatal(err)
	}
	// Point the third file metrics entry's name (v26: offset 12 in a
	// 32-byte entry) far outside the filename strings.
	metrics := int(binary.LittleEndian.Uint32(b[84:]))
	entry := metrics + 2*32
	binary.LittleEndian.PutUint32(b[entry+12:], 0x7fffff00)
	pf, err := Parse(bytes.NewReader(b), int64(len(b)))
	var fe *FormatError
	if !errors.As(err, &fe) || fe.Offset != int64(entry) {
		t.Fatalf("err = %v, want a FormatError at 0x%x", err, entry)
	}
	if len(pf.Files) != 50 || len(pf.Volumes) != 1 || pf.Volumes[0].Serial != 0x686C4249 {
		t.Fatalf("%d files, volumes %+v", len(pf.Files), pf.Volumes)
	}
}

func TestTruncatedCompressedGivesPartialAndError(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(testcorpus.Dir(t), "prefetch", "plaso", "BYTECODEGENERATOR.EXE-C1E9BCE6.pf"))
	if err != nil {
		t.Fatal(err)
	}
	cut := b[:len(b)/2]
	pf, err := Parse(bytes.NewReader(cut), int64(len(cut)))
	if err == nil || !strings.Contains(err.Error(), "decompress") {
		t.Fatalf("err = %v, want a decompression error", err)
	}
	if pf == nil || pf.Executable != "BYTECODEGENERATOR.EXE" || pf.RunCount != 7 || len(pf.LastRuns) != 7 {
		t.Fatalf("partial result %+v", pf)
	}
	if _, err := Parse(bytes.NewReader(b[:100]), 100); err == nil {
		t.Fatal("no error for a stream cut inside its first code table")
	}
}

func TestNotPrefetch(t *testing.T) {
	for _, data := range [][]byte{nil, make([]byte, 4096), []byte("MZ\x90\x00 not a prefetch file at all")} {
		pf, err := Parse(bytes.NewReader(data), int64(len(data)))
		if !errors.Is(err, ErrNotPrefetch) || pf != nil && pf.Version != 0 {
			t.Errorf("%d bytes: %v, %+v", len(data), err, pf)
		}
	}
	if _, err := Parse(bytes.NewReader(nil), -1); err == nil {
		t.Error("negative size accepted")
	}
}

func FuzzParse(f *testing.F) {
	for _, p := range corpusFiles(f) {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		if len(b) <= 64<<10 {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		pf, err := Parse(bytes.NewReader(data), int64(len(data)))
		if err == nil && (pf == nil || pf.Version == 0) {
			t.Fatalf("no error and no version: %+v", pf)
		}
	})
}

// BenchmarkCorpus parses every .pf file in the corpus once per iteration.
func BenchmarkCorpus(b *testing.B) {
	files := allFiles(b)
	var data [][]byte
	var total int64
	for _, p := range files {
		d, _ := os.ReadFile(p)
		data = append(data, d)
		total += int64(len(d))
	}
	b.SetBytes(total)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, d := range data {
			Parse(bytes.NewReader(d), int64(len(d)))
		}
	}
}

// utf16zReference is the first, obviously right utf16z: utf16.Decode over
// the units before the first NUL.
func utf16zReference(b []byte) string {
	var u []uint16
	for i := 0; i+1 < len(b); i += 2 {
		c := binary.LittleEndian.Uint16(b[i:])
		if c == 0 {
			break
		}
		u = append(u, c)
	}
	return string(utf16.Decode(u))
}

// TestUTF16ZMatchesDecode: utf16z must give utf16.Decode's result for any
// units, surrogates paired, unpaired, reversed or cut off by a NUL or the
// end included.
func TestUTF16ZMatchesDecode(t *testing.T) {
	units := []uint16{0, 'a', 0x7f, 0x80, 0x7ff, 0x800, 0xe9, 0xfffd, 0xffff, 0xd800, 0xdbff, 0xdc00, 0xdfff, 0xd83d, 0xde00}
	r := rand.New(rand.NewPCG(3, 4))
	for range 200000 {
		b := make([]byte, r.IntN(12))
		for i := 0; i+1 < len(b); i += 2 {
			binary.LittleEndian.PutUint16(b[i:], units[r.IntN(len(units))])
		}
		if got, want := utf16z(b), utf16zReference(b); got != want {
			t.Fatalf("utf16z(% x) = %q, want %q", b, got, want)
		}
	}
}

func FuzzUTF16Z(f *testing.F) {
	f.Add([]byte("a\x00\x3d\xd8\x00\xde\x00\xd8"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := utf16z(b), utf16zReference(b); got != want {
			t.Fatalf("utf16z(% x) = %q, want %q", b, got, want)
		}
	})
}
