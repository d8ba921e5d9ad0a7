//go:build evtxdiff

// The differential test still reports unexplained differences (see the
// report to the lead); run it with -tags sqlite_fts5,evtxdiff.

package evtx

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// pyTimeout bounds one evtx_dump.py run: python-evtx reads about 1 MB/s, so
// the largest logs are compared up to where it got, and the test stays
// within go test's default timeout.
const pyTimeout = 20 * time.Second

// pyEvent is the part of python-evtx's rendering the differential test
// compares.
type pyEvent struct {
	System struct {
		EventID       uint16 `xml:"EventID"`
		EventRecordID uint64 `xml:"EventRecordID"`
	} `xml:"System"`
	EventData *struct {
		Data []struct {
			Name  string `xml:"Name,attr"`
			Value string `xml:",chardata"`
		} `xml:"Data"`
	} `xml:"EventData"`
}

// pyDump runs evtx_dump.py and decodes each <Event> on its own, so that one
// event Go's XML decoder refuses (python-evtx writes control characters
// as-is, which XML 1.0 forbids) does not hide the others.
func pyDump(path string) (events []pyEvent, undecodable int, runErr error) {
	ctx, cancel := context.WithTimeout(context.Background(), pyTimeout)
	defer cancel()
	out, runErr := exec.CommandContext(ctx, "evtx_dump.py", path).Output()
	body := out
	if i := bytes.Index(body, []byte("<Events>")); i >= 0 {
		body = body[i+len("<Events>"):]
	}
	for _, part := range bytes.Split(body, []byte("</Event>")) {
		part = bytes.TrimSpace(part)
		if !bytes.HasPrefix(part, []byte("<Event")) {
			continue
		}
		var ev pyEvent
		if err := xml.Unmarshal(append(part, "</Event>"...), &ev); err != nil {
			undecodable++
			continue
		}
		events = append(events, ev)
	}
	return events, undecodable, runErr
}

// normalizePy maps python-evtx's renderings onto Windows' where the two are
// known to differ (see TestDifferentialPythonEVTX).
func normalizePy(v string) string {
	v = strings.TrimRight(v, "\x00")
	if v == "True" || v == "False" {
		return strings.ToLower(v)
	}
	if (len(v) == 10 || len(v) == 18) && strings.HasPrefix(v, "0x") {
		if n, err := strconv.ParseUint(v[2:], 16, 64); err == nil {
			return "0x" + strconv.FormatUint(n, 16)
		}
	}
	if len(v) == 38 && v[0] == '{' && v[37] == '}' {
		return strings.ToUpper(v)
	}
	return v
}

// normalizeOurs applies XML's end-of-line normalization, which the XML
// decoder applied to python-evtx's text.
func normalizeOurs(v string) string {
	return strings.ReplaceAll(v, "\r\n", "\n")
}

// TestDifferentialPythonEVTX compares every live record with python-evtx's
// evtx_dump.py on the whole corpus: same record ids, event ids and EventData
// values. Known, justified differences:
//   - booleans: python-evtx prints True/False; Windows true/false.
//   - hex integers: python-evtx zero-pads HexInt32/64 and SizeT to 8/16 digits; Windows
//     prints 0x3e7. GUIDs: python-evtx prints lower case; Windows upper.
//   - line ends: XML decoding turns python-evtx's CR LF into LF.
//   - arrays: python-evtx renders an array substitution (e.g. the classic
//     PowerShell log's string arrays) as one <Data>; Windows, and we, give one
//     <Data> per element, so such records have more values here; they are
//     counted and their values not compared.
//   - recovered records: python-evtx does not carve slack, so only live
//     records are compared.
//   - events python-evtx renders with characters XML 1.0 forbids cannot be
//     decoded here; they are counted, not compared.
//   - files python-evtx aborts on, or does not finish within pyTimeout, are
//     compared up to where it stopped.
//
// Files: all of evtx/ and the KAPE host's PowerShell logs (the rest of the
// KAPE logs would take python-evtx several minutes).
func TestDifferentialPythonEVTX(t *testing.T) {
	if _, err := exec.LookPath("evtx_dump.py"); err != nil {
		t.Fatal("evtx_dump.py (Debian package python3-evtx) is required for the differential test: ", err)
	}
	root := corpusDir(t)
	var files []string
	for _, sub := range []string{"evtx", "kape"} {
		filepath.WalkDir(filepath.Join(root, sub), func(path string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() && filepath.Ext(path) == ".evtx" && d.Name() != "not-evtx-16-bytes.evtx" && !(sub == "kape" && !strings.Contains(d.Name(), "PowerShell")) {
				files = append(files, path)
			}
			return err
		})
	}
	if len(files) < 20 {
		t.Fatalf("only %d evtx files in the corpus", len(files))
	}
	results := make([]diffResult, len(files))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 2)
	for i, path := range files {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			results[i] = diffFile(path)
		}()
	}
	wg.Wait()
	total, undecodable, arrays := 0, 0, 0
	for i, res := range results {
		rel, _ := filepath.Rel(root, files[i])
		total += res.compared
		undecodable += res.undecodable
		arrays += res.arrays
		if res.pyFailed != nil {
			t.Logf("%s: evtx_dump.py failed (%v); compared %d events it printed", rel, res.pyFailed, res.compared)
		}
		for _, d := range res.diffs {
			t.Errorf("%s: %s", rel, d)
		}
	}
	t.Logf("compared %d events in %d files; %d python-evtx events not decodable as XML 1.0; %d with array values", total, len(files), undecodable, arrays)
	if total < 7000 {
		t.Errorf("only %d events compared", total)
	}
}

type diffResult = struct {
	compared, undecodable, arrays int
	pyFailed                      error
	diffs                         []string
}

func diffFile(path string) (res diffResult) {
	py, undecodable, pyErr := pyDump(path)
	res.undecodable, res.pyFailed = undecodable, pyErr
	f, err := Open(path)
	if err != nil {
		res.diffs = append(res.diffs, fmt.Sprintf("open: %v", err))
		return res
	}
	defer f.Close()
	ours := map[uint64]*Record{}
	for rec, err := range f.Records() {
		if err == nil && !rec.Recovered {
			ours[rec.System.EventRecordID] = rec
		}
	}
	seen := map[uint64]bool{}
	for _, ev := range py {
		id := ev.System.EventRecordID
		seen[id] = true
		rec, ok := ours[id]
		if !ok {
			res.diffs = append(res.diffs, fmt.Sprintf("record %d: missing (python-evtx has it)", id))
			continue
		}
		res.compared++
		if rec.System.EventID != ev.System.EventID {
			res.diffs = append(res.diffs, fmt.Sprintf("record %d: event id %d, python-evtx %d", id, rec.System.EventID, ev.System.EventID))
		}
		if ev.EventData == nil || rec.DataKind != "EventData" {
			continue
		}
		if len(rec.Data) > len(ev.EventData.Data) {
			res.arrays++
			continue
		}
		if len(rec.Data) != len(ev.EventData.Data) {
			res.diffs = append(res.diffs, fmt.Sprintf("record %d: %d data values, python-evtx %d", id, len(rec.Data), len(ev.EventData.Data)))
			continue
		}
		for j, d := range ev.EventData.Data {
			got := rec.Data[j]
			if got.Name != d.Name || normalizeOurs(got.Value) != normalizePy(d.Value) {
				res.diffs = append(res.diffs, fmt.Sprintf("record %d: data %q=%q, python-evtx %q=%q", id, got.Name, got.Value, d.Name, d.Value))
			}
		}
	}
	if pyErr == nil && undecodable == 0 && len(py) > 0 {
		var extra []uint64
		for id := range ours {
			if !seen[id] {
				extra = append(extra, id)
			}
		}
		sort.Slice(extra, func(a, b int) bool { return extra[a] < extra[b] })
		if len(extra) > 0 {
			res.diffs = append(res.diffs, fmt.Sprintf("records %v: ours only", extra))
		}
	}
	return res
}
