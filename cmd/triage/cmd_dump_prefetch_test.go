package main

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"triage/internal/testcorpus"
)

func TestDumpPrefetch(t *testing.T) {
	corpus := testcorpus.Dir(t, "prefetch")
	good := filepath.Join(corpus, "plaso", "TASKHOST.EXE-3AE259FC.pf")
	compressed := filepath.Join(corpus, "plaso", "NOTEPAD.EXE-D8414F97.pf")
	bad := filepath.Join(corpus, "ez", "Bad", "notAPrefetch.pf")
	var stdout, stderr bytes.Buffer
	status := runDump([]string{"prefetch", good, bad, compressed}, &stdout, &stderr)
	if status != exitFail {
		t.Errorf("status %d with one bad file, want %d", status, exitFail)
	}
	if want := "triage: " + bad + ": prefetch: not a prefetch file"; !strings.HasPrefix(stderr.String(), want) {
		t.Errorf("stderr %q, want it to start %q", stderr.String(), want)
	}
	lines := strings.Split(strings.TrimSuffix(stdout.String(), "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d output lines, want 2:\n%s", len(lines), stdout.String())
	}
	var got struct {
		File         string   `json:"file"`
		Version      int      `json:"version"`
		Executable   string   `json:"executable"`
		Hash         string   `json:"hash"`
		RunCount     uint32   `json:"run_count"`
		LastRunTimes []string `json:"last_run_times"`
		Volumes      []struct {
			DevicePath string `json:"device_path"`
			Serial     string `json:"serial"`
			Created    string `json:"created"`
		} `json:"volumes"`
		Files       []struct{ Name string } `json:"files"`
		Directories []string                `json:"directories"`
	}
	if err := json.Unmarshal([]byte(lines[0]), &got); err != nil {
		t.Fatal(err)
	}
	if got.File != good || got.Version != 26 || got.Executable != "TASKHOST.EXE" || got.Hash != "0x3AE259FC" || got.RunCount != 4 {
		t.Errorf("header fields: %+v", got)
	}
	if len(got.LastRunTimes) != 4 || got.LastRunTimes[0] != "2013-10-04T15:40:09.0378333Z" {
		t.Errorf("last run times %v", got.LastRunTimes)
	}
	if len(got.Volumes) != 1 || got.Volumes[0].Serial != "686C4249" || got.Volumes[0].Created != "2013-10-04T15:57:26.1465476Z" ||
		got.Volumes[0].DevicePath != `\DEVICE\HARDDISKVOLUME2` {
		t.Errorf("volumes %+v", got.Volumes)
	}
	if len(got.Files) != 51 || len(got.Directories) == 0 {
		t.Errorf("%d files, %d directories", len(got.Files), len(got.Directories))
	}
	if !strings.Contains(lines[1], `"executable":"NOTEPAD.EXE"`) || !strings.Contains(lines[1], `"compressed":true`) {
		t.Errorf("second line %s", lines[1])
	}
}

func TestDumpPrefetchUsage(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if status := runDump([]string{"prefetch"}, &stdout, &stderr); status != exitUsage {
		t.Errorf("no files: status %d, want %d", status, exitUsage)
	}
	if status := runDump([]string{"prefetch", "-nosuchflag", "x.pf"}, &stdout, &stderr); status != exitUsage {
		t.Errorf("bad flag: status %d, want %d", status, exitUsage)
	}
	if status := runDump([]string{"prefetch", filepath.Join(t.TempDir(), "missing.pf")}, &stdout, &stderr); status != exitFail {
		t.Errorf("missing file: status %d, want %d", status, exitFail)
	}
}
