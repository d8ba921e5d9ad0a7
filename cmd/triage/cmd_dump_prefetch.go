package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"triage/internal/printable"
	"triage/parsers/prefetch"
)

func init() { dumpers["prefetch"] = runDumpPrefetch }

type dumpedVolume struct {
	DevicePath  string   `json:"device_path"`
	Serial      string   `json:"serial"`
	Created     string   `json:"created"`
	Directories []string `json:"directories"`
}

type dumpedFileMetric struct {
	Name          string `json:"name"`
	FileReference string `json:"file_reference,omitempty"`
}

type dumpedPrefetch struct {
	File                string             `json:"file"`
	Version             int                `json:"version"`
	Variant             int                `json:"variant,omitempty"`
	Compressed          bool               `json:"compressed"`
	Executable          string             `json:"executable"`
	ExecutableTruncated bool               `json:"executable_truncated"`
	Hash                string             `json:"hash"`
	RunCount            uint32             `json:"run_count"`
	LastRunTimes        []string           `json:"last_run_times"`
	Volumes             []dumpedVolume     `json:"volumes"`
	Files               []dumpedFileMetric `json:"files"`
	Directories         []string           `json:"directories"`
	Error               string             `json:"error,omitempty"` // set when only part of the file could be read
}

func runDumpPrefetch(args []string, stdout, stderr io.Writer) int {
	fs := newVerbFlags("dump prefetch", "FILE...",
		"prints one JSON object per prefetch file (versions 17 to 31, compressed or not);",
		"a file read only in part still prints what was read, with its error")
	files, code, ok := fs.parse(args, stdout, stderr)
	if !ok {
		return code
	}
	if len(files) == 0 {
		return fs.fail(stderr, &usageError{msg: "no FILE to dump"})
	}
	w := bufio.NewWriter(stdout)
	status := exitOK
	for _, name := range files {
		pf, err := prefetch.Open(name)
		if err != nil {
			fmt.Fprintf(stderr, "triage: %s: %s\n", printable.Escape(name), printable.Escape(err.Error()))
			status = exitFail
		}
		if pf == nil || pf.Version == 0 {
			continue
		}
		d := dumpPrefetch(name, pf)
		if err != nil {
			d.Error = err.Error()
		}
		line, _ := json.Marshal(d)
		w.Write(line)
		if err := w.WriteByte('\n'); err != nil {
			break // the writer keeps the error for Flush to report
		}
	}
	if err := w.Flush(); err != nil {
		fmt.Fprintf(stderr, "triage: dump prefetch: %v\n", writeError{err})
		return exitFail
	}
	return status
}

func dumpPrefetch(name string, pf *prefetch.File) dumpedPrefetch {
	d := dumpedPrefetch{
		File: name, Version: pf.Version, Variant: pf.Variant, Compressed: pf.Compressed,
		Executable: pf.Executable, ExecutableTruncated: pf.ExecutableTruncated,
		Hash: fmt.Sprintf("0x%08X", pf.Hash), RunCount: pf.RunCount,
		LastRunTimes: []string{}, Volumes: []dumpedVolume{}, Files: []dumpedFileMetric{},
		Directories: append([]string{}, pf.Directories...),
	}
	for _, t := range pf.LastRuns {
		d.LastRunTimes = append(d.LastRunTimes, rfc3339(t))
	}
	for _, v := range pf.Volumes {
		d.Volumes = append(d.Volumes, dumpedVolume{
			DevicePath: v.DevicePath, Serial: fmt.Sprintf("%08X", v.Serial),
			Created: rfc3339(v.Created), Directories: append([]string{}, v.Directories...),
		})
	}
	for _, m := range pf.Files {
		fm := dumpedFileMetric{Name: m.Name}
		if m.FileReference != 0 {
			fm.FileReference = fmt.Sprintf("0x%016X", m.FileReference)
		}
		d.Files = append(d.Files, fm)
	}
	return d
}

// rfc3339 keeps the full 100 ns precision; an unset time is "".
func rfc3339(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}
