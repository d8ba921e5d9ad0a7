package main

import (
	"encoding/json"
	"os"
	"strings"

	"triage/collectors/image"
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
	Images         []manifestImage    `json:"images,omitempty"`
	Artifacts      []manifestArtifact `json:"artifacts"`
	Outputs        []manifestOutput   `json:"outputs"`
	Sigma          *manifestSigma     `json:"sigma,omitempty"` // sigma_flags.go
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

// manifestImage describes a disk image given as evidence: its files with
// their hashes, taken before any artifact was read from it, and the hashes
// the image format stores with the result of recomputing them.
type manifestImage struct {
	EvidenceRoot      string            `json:"evidence_root"`
	Format            string            `json:"format"`
	Container         string            `json:"container,omitempty"`
	PartitionScheme   string            `json:"partition_scheme"`
	DiskSize          int64             `json:"disk_size"`
	Segments          []string          `json:"segments"`
	Files             []manifestFile    `json:"files"`
	StoredHashes      map[string]string `json:"stored_hashes,omitempty"`
	ComputedHashes    map[string]string `json:"computed_hashes,omitempty"`
	Verified          *bool             `json:"stored_hashes_verified,omitempty"`
	VerificationError string            `json:"verification_error,omitempty"`
	Inflater          string            `json:"inflater,omitempty"`
	Problems          []string          `json:"problems,omitempty"`
}

type manifestFile struct {
	Path   string `json:"path"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
	MD5    string `json:"md5"`
	Error  string `json:"error,omitempty"`
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

// describeImage records the image behind an evidence root, hashing each
// file it is made of (a zip container is hashed as the one file it is).
func describeImage(root string, im *image.Image) manifestImage {
	mi := manifestImage{
		EvidenceRoot: root, Format: im.Format, Container: im.Container, PartitionScheme: im.Scheme,
		DiskSize: im.Size, Segments: im.Segments, StoredHashes: im.StoredHashes, Inflater: im.Inflater, Problems: im.Problems,
	}
	if v := im.Verification; v != nil {
		ok := v.OK()
		mi.Verified, mi.ComputedHashes, mi.VerificationError = &ok, v.Computed, v.Err
	}
	seen := map[string]bool{}
	for _, seg := range im.Segments {
		path, _, _ := strings.Cut(seg, "!")
		if seen[path] {
			continue
		}
		seen[path] = true
		mi.Files = append(mi.Files, hashFile(path))
	}
	return mi
}

func hashFile(path string) manifestFile {
	mf := manifestFile{Path: path}
	f, err := os.Open(path)
	if err != nil {
		mf.Error = err.Error()
		return mf
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil {
		mf.Size = st.Size()
	}
	if mf.SHA256, mf.MD5, err = hashReader(f); err != nil {
		mf.Error = err.Error()
	}
	return mf
}
