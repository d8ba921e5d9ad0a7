package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"time"

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
}

func runDumpPrefetch(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("dump prefetch", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprintln(stderr, "usage: triage dump prefetch FILE...") }
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return exitUsage
	}
	w := bufio.NewWriter(stdout)
	defer w.Flush()
	status := exitOK
	for _, name := range fs.Args() {
		pf, err := prefetch.Open(name)
		if err != nil {
			fmt.Fprintf(stderr, "triage: %s: %v\n", name, err)
			status = exitFail
		}
		if pf == nil || pf.Version == 0 {
			continue
		}
		line, _ := json.Marshal(dumpPrefetch(name, pf))
		w.Write(line)
		w.WriteByte('\n')
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
		d.LastRunTimes = append(d.LastRunTimes, t.UTC().Format(time.RFC3339Nano))
	}
	for _, v := range pf.Volumes {
		d.Volumes = append(d.Volumes, dumpedVolume{
			DevicePath: v.DevicePath, Serial: fmt.Sprintf("%08X", v.Serial),
			Created: v.Created.UTC().Format(time.RFC3339Nano), Directories: append([]string{}, v.Directories...),
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
