package evtx

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"triage/internal/testcorpus"
	"unicode/utf16"
)

type fileCount struct {
	live, recovered int
	errors          int
}

func countFile(t testing.TB, path string) (fileCount, error) {
	f, err := Open(path)
	if err != nil {
		return fileCount{}, err
	}
	defer f.Close()
	var c fileCount
	for rec, err := range f.Records() {
		switch {
		case err != nil:
			c.errors++
		case rec.Recovered:
			c.recovered++
		default:
			c.live++
		}
	}
	return c, nil
}

// TestDamagedCounts checks the live record counts against the table in the
// corpus README (the Rust evtx crate's expectations). Differences, explained:
//   - recovered: records carved from chunk slack, which that parser does not
//     recover; they are marked Recovered and never repeat a live id.
//   - sample-with-zero-data-size-event.evtx: record 3 (offset 0x1820) has size
//     0; its end is taken from the next record, so records 3..450 are read as
//     live (450, as the other parser the README names), not 336.
//   - HelloForBusiness record 6 and LanguagePackSetup record 17 have a zeroed
//     trailing size copy; they decode fully, so they count (as in the table),
//     and the mismatch is reported as an error.
func TestDamagedCounts(t *testing.T) {
	dir := filepath.Join(testcorpus.Dir(t), "evtx", "damaged")
	tests := []struct {
		file      string
		live      int
		recovered int
		errors    int
	}{
		{"2-vss_0-Microsoft-Windows-RemoteDesktopServices-RdpCoreTS%4Operational.evtx", 1910, 63, 4},
		{"2-vss_0-Microsoft-Windows-TerminalServices-RemoteConnectionManager%4Operational.evtx", 1774, 267, 3},
		{"2-vss_7-System.evtx", 1160, 25, 0},
		{"Application_no_crc32.evtx", 17, 20, 0},
		{"E_ShadowCopy6_windows_system32_winevt_logs_Microsoft-Windows-CAPI2%4Operational.evtx", 459, 0, 0},
		{"E_Windows_system32_winevt_logs_Microsoft-Windows-CAPI2%4Operational.evtx", 340, 0, 0},
		{"E_Windows_system32_winevt_logs_Microsoft-Windows-Shell-Core%4Operational.evtx", 1146, 0, 0},
		{"MSExchange_Management_wec.evtx", 1, 0, 0},
		{"Microsoft-Windows-HelloForBusiness%4Operational.evtx", 6, 0, 2},
		{"Microsoft-Windows-LanguagePackSetup%4Operational.evtx", 17, 0, 2},
		{"Security_with_size_t.evtx", 636, 0, 0},
		{"plaso-System2-truncated.evtx", 283, 0, 2},
		{"post-Security.evtx", 126, 0, 0},
		{"sample-with-irregular-bool-values.evtx", 3028, 0, 0},
		{"sample-with-zero-data-size-event.evtx", 450, 0, 2},
		{"sample_with_a_bad_chunk_magic.evtx", 270, 81, 8},
		{"security_bad_string_cache.evtx", 2261, 0, 1},
		{"sysmon.evtx", 358, 0, 8},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, err := countFile(t, filepath.Join(dir, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			want := fileCount{tt.live, tt.recovered, tt.errors}
			if got != want {
				t.Errorf("got %+v, want %+v", got, want)
			}
		})
	}
}

func TestNotEVTX(t *testing.T) {
	_, err := Open(filepath.Join(testcorpus.Dir(t), "evtx", "damaged", "not-evtx-16-bytes.evtx"))
	if !errors.Is(err, ErrNotEVTX) {
		t.Fatalf("err = %v, want ErrNotEVTX", err)
	}
}

func TestTruncatedIsReported(t *testing.T) {
	f, err := Open(filepath.Join(testcorpus.Dir(t), "evtx", "damaged", "plaso-System2-truncated.evtx"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	truncated := 0
	for _, err := range f.Records() {
		if errors.Is(err, ErrTruncated) {
			truncated++
		}
	}
	if truncated != 1 || !f.Stats().Truncated {
		t.Fatalf("truncation reports = %d, stats %+v", truncated, f.Stats())
	}
	if h := f.Header(); h.ChunkCount != 96 && h.Slots != 3 {
		t.Logf("header %+v", h)
	}
}

// TestCleanCorpus reads the attack recordings and the KAPE host's logs: they
// are undamaged, so every record must decode without an error.
func TestCleanCorpus(t *testing.T) {
	root := testcorpus.Dir(t)
	total := 0
	for _, sub := range []string{"evtx/attack", "evtx/powershell", "kape"} {
		filepath.WalkDir(filepath.Join(root, sub), func(path string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || filepath.Ext(path) != ".evtx" {
				return err
			}
			c, err := countFile(t, path)
			if err != nil {
				t.Errorf("%s: %v", path, err)
			}
			if c.errors != 0 {
				t.Errorf("%s: %d errors", path, c.errors)
			}
			total += c.live + c.recovered
			return nil
		})
	}
	if total < 38000 {
		t.Errorf("only %d records in the clean corpus", total)
	}
}

// TestXMLAfterIteration renders records long after their chunk was decoded,
// with later chunks decoded in between by other workers: a record's XML must
// not depend on buffers the reader has since reused.
func TestXMLAfterIteration(t *testing.T) {
	path := filepath.Join(testcorpus.Dir(t), "kape", "APTSIM-WIN10", "C", "Windows", "System32", "winevt", "Logs", "Security.evtx")
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.SetWorkers(2)
	var recs []*Record
	var inline []string
	for rec := range f.Records() {
		if rec != nil {
			recs = append(recs, rec)
			inline = append(inline, rec.XML())
		}
	}
	if len(recs) < 1000 {
		t.Fatalf("only %d records", len(recs))
	}
	for i, rec := range recs {
		if got := rec.XML(); got != inline[i] {
			t.Fatalf("record %d: XML changed after iteration:\n%s\nwas\n%s", rec.ID, got, inline[i])
		}
	}
}

func TestFieldKeys(t *testing.T) {
	var many []Field
	var manyWant []string
	for i := range 40 {
		many = append(many, Field{Name: "X"})
		if i == 0 {
			manyWant = append(manyWant, "X")
		} else {
			manyWant = append(manyWant, "X#"+strconv.Itoa(i+1))
		}
	}
	tests := []struct {
		names []string
		want  []string
	}{
		{nil, []string{}},
		{[]string{"A", "B"}, []string{"A", "B"}},
		{[]string{"", "", "A"}, []string{"Data[0]", "Data[1]", "A"}},
		{[]string{"A", "A", "B", "A"}, []string{"A", "A#2", "B", "A#3"}},
		{[]string{"A", "A", "A#2"}, []string{"A", "A#2", "A#2"}},
		{[]string{"Data[1]", ""}, []string{"Data[1]", "Data[1]#2"}},
	}
	for _, tt := range tests {
		var fields []Field
		for _, n := range tt.names {
			fields = append(fields, Field{Name: n})
		}
		if got := FieldKeys(fields); !slices.Equal(got, tt.want) {
			t.Errorf("FieldKeys(%q) = %q, want %q", tt.names, got, tt.want)
		}
	}
	if got := FieldKeys(many); !slices.Equal(got, manyWant) {
		t.Errorf("40 repeats: got %q", got)
	}
}

// TestDecodeUTF16 checks the word-at-a-time ASCII path against a plain
// decode, on lengths around the word size and with non-ASCII units mixed in.
func TestDecodeUTF16(t *testing.T) {
	plain := func(b []byte) string {
		var u []uint16
		for i := 0; i+1 < len(b); i += 2 {
			u = append(u, uint16(b[i])|uint16(b[i+1])<<8)
		}
		return string(utf16.Decode(u))
	}
	for n := 0; n < 40; n++ {
		for _, odd := range []uint16{0, 'a', 0x7f, 0x80, 0xff, 0x100, 0x4142, 0xd800, 0xdc00, 0xfffd} {
			for at := 0; at <= n; at += 3 {
				b := make([]byte, 2*n+n%2)
				for i := 0; i < n; i++ {
					b[2*i] = byte('A' + i%26)
				}
				if at < n {
					b[2*at], b[2*at+1] = byte(odd), byte(odd>>8)
				}
				if got, want := decodeUTF16(b), plain(b); got != want {
					t.Fatalf("%x: got %q, want %q", b, got, want)
				}
			}
		}
	}
}

func TestFormatGUID(t *testing.T) {
	d := []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0xa, 0xb, 0xc, 0xd, 0xe, 0xf}
	if got, want := string(appendGUID(nil, d)), "{03020100-0504-0706-0809-0A0B0C0D0E0F}"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}
