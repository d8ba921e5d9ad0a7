package prefetchwrite_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"triage/internal/demo"
	"triage/parsers/prefetch"
)

// TestDemoPrefetchReaders reads every prefetch file of the demo evidence
// (compressed, as Windows 10 writes them) with our parser and sccainfo and
// compares what both print: version, executable, hash, run count, each run
// time, each file name and the volume.
func TestDemoPrefetchReaders(t *testing.T) {
	if _, err := exec.LookPath("sccainfo"); err != nil {
		t.Fatalf("sccainfo not found: this test needs Debian's libscca-utils (apt-get install libscca-utils): %v", err)
	}
	files, err := demo.Files()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	n := 0
	for _, f := range files {
		if !strings.HasSuffix(f.Path, ".pf") {
			continue
		}
		n++
		name := filepath.Base(f.Path)
		p, err := prefetch.Parse(bytes.NewReader(f.Data), int64(len(f.Data)))
		if err != nil {
			t.Errorf("%s: our parser: %v", name, err)
			continue
		}
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, f.Data, 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command("sccainfo", path).CombinedOutput()
		if err != nil {
			t.Errorf("%s: sccainfo: %v\n%s", name, err, out)
			continue
		}
		want := ourInfo(p)
		got := sccaFields(string(out))
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%s: %s: sccainfo %q, ours %q", name, k, got[k], v)
			}
		}
		for k := range got {
			if _, ok := want[k]; !ok && !strings.HasPrefix(k, "Last run time") {
				t.Errorf("%s: sccainfo prints %s = %q, ours nothing", name, k, got[k])
			}
		}
		if !p.Compressed || p.Version != 30 {
			t.Errorf("%s: compressed %v, version %d", name, p.Compressed, p.Version)
		}
	}
	if n != 21 {
		t.Errorf("%d prefetch files in the demo, want 21", n)
	}
}

// ourInfo renders what our parser read in sccainfo's words.
func ourInfo(p *prefetch.File) map[string]string {
	m := map[string]string{
		"Format version": fmt.Sprint(p.Version), "Prefetch hash": fmt.Sprintf("0x%08x", p.Hash),
		"Executable filename": p.Executable, "Run count": fmt.Sprint(p.RunCount),
		"Number of filenames": fmt.Sprint(len(p.Files)), "Number of volumes": fmt.Sprint(len(p.Volumes)),
	}
	for i, r := range p.LastRuns {
		m[fmt.Sprintf("Last run time: %d", i+1)] = sccaTime(r)
	}
	for i, f := range p.Files {
		m[fmt.Sprintf("Filename: %d", i+1)] = f.Name
	}
	for _, v := range p.Volumes {
		m["Device path"] = v.DevicePath
		m["Creation time"] = sccaTime(v.Created)
		m["Serial number"] = fmt.Sprintf("0x%08x", v.Serial)
	}
	return m
}

func sccaTime(t time.Time) string { return t.UTC().Format("Jan 02, 2006 15:04:05.000000000 UTC") }

// sccaFields reads sccainfo's "name : value" lines; unused run time slots
// ("Not set (0)") are left out, as our parser leaves them out.
func sccaFields(out string) map[string]string {
	m := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		k, v, ok := strings.Cut(line, ":")
		k = strings.TrimSpace(k)
		if !ok || k == "" || k == "Volume" || strings.HasPrefix(k, "sccainfo") { // "Volume: 1 information:" heads a section
			continue
		}
		if strings.HasPrefix(k, "Last run time") || strings.HasPrefix(k, "Filename") {
			// "Last run time: 1		: …": the number is after the first colon.
			num, rest, _ := strings.Cut(v, ":")
			k, v = k+": "+strings.TrimSpace(num), rest
		}
		v = strings.TrimSpace(v)
		if v == "" || v == "Not set (0)" {
			continue
		}
		m[k] = v
	}
	return m
}
