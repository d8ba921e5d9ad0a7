package main

import (
	"encoding/json"
	"os"
)

// manifest is manifest.json: what was run, on what, by whom, and the hash
// of every input and output, so a second examiner can verify the run.
type manifest struct {
	Tool           toolInfo           `json:"tool"`
	CommandLine    []string           `json:"command_line"`
	Case           string             `json:"case"`
	Examiner       string             `json:"examiner"`
	TimeZone       string             `json:"time_zone"`
	BusinessHours  string             `json:"business_hours"`
	StartedUTC     string             `json:"started_utc"`
	FinishedUTC    string             `json:"finished_utc"`
	Evidence       []string           `json:"evidence"`
	EvidenceErrors []string           `json:"evidence_errors,omitempty"`
	Artifacts      []manifestArtifact `json:"artifacts"`
	Outputs        []manifestOutput   `json:"outputs"`
}

type toolInfo struct {
	Name      string `json:"name"`
	Version   string `json:"version"`
	Commit    string `json:"commit"`
	GoVersion string `json:"go_version"`
}

type manifestArtifact struct {
	Host           string   `json:"host"`
	EvidenceRoot   string   `json:"evidence_root"`
	Path           string   `json:"path"`
	WindowsPath    string   `json:"windows_path"`
	Kind           string   `json:"kind"`
	Size           int64    `json:"size"`
	ModTime        string   `json:"mtime"`
	SHA256         string   `json:"sha256"`
	MD5            string   `json:"md5"`
	Status         string   `json:"status"`
	Records        int      `json:"records"`
	Recovered      int      `json:"recovered"`
	Errors         []string `json:"errors"`
	IntegrityError string   `json:"integrity_error,omitempty"`
}

type manifestOutput struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
}

func (m *manifest) write(path string) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}
