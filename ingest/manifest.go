package ingest

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"triage/collectors/image"
	"triage/internal/outfile"
	"triage/timeline"
)

// Manifest is manifest.json: what was run, on what, by whom, how the run
// ended, the hash of every input and output, and every file under the
// evidence that was not examined, so a second examiner can verify the run.
type Manifest struct {
	Tool          Tool     `json:"tool"`
	CommandLine   []string `json:"command_line"`
	Case          string   `json:"case"`
	Examiner      string   `json:"examiner"`
	TimeZone      string   `json:"time_zone"`
	BusinessHours string   `json:"business_hours"`
	StartedUTC    string   `json:"started_utc"`
	FinishedUTC   string   `json:"finished_utc"`
	// Status is in-progress from the start of the run; only a run that
	// ended normally says complete. StatusDetail says why one did not.
	Status       timeline.RunStatus `json:"status"`
	StatusDetail string             `json:"status_detail,omitempty"`
	// NotClean lists why a complete run is not clean: files it could not
	// examine, evidence that changed while it was read. Empty when clean.
	NotClean []string `json:"not_clean"`
	Evidence []string `json:"evidence"`
	// Hosts names each evidence root's host and says where the name came
	// from (--host, the logs' Computer field or the folder name).
	Hosts          []HostName `json:"hosts"`
	EvidenceErrors []string   `json:"evidence_errors,omitempty"`
	Images         []Image    `json:"images,omitempty"`
	Artifacts      []Artifact `json:"artifacts"`
	// SkippedByReason counts Skipped by reason; both list every file
	// under the evidence roots that is not an artifact examined.
	SkippedByReason map[string]int `json:"skipped_by_reason"`
	Skipped         []Skipped      `json:"skipped"`
	Outputs         []Output       `json:"outputs"`
	// Runs is the case's history: the run that made it, then each run
	// that added evidence to it (triage run --add), in order. The fields
	// above the hosts are the latest run's; the evidence, hosts, artifacts
	// and skipped files are the whole case's.
	Runs []RunRecord `json:"runs"`
	// Sigma records the Sigma rule set the analyzers ran (files, rules
	// loaded and not, the set's hash), as the caller that loaded it wrote
	// it, in MarshalSigma's layout: ingest runs before the analyzers and
	// does not know their types. It is the last field (Write).
	Sigma json.RawMessage `json:"sigma,omitempty"`
}

// RunRecord is one run of a case: what it was given and how it ended.
type RunRecord struct {
	Kind        string   `json:"kind"` // run: made the case; add: added evidence to it
	Tool        Tool     `json:"tool"`
	CommandLine []string `json:"command_line"`
	// Settings are the flags that held for the whole case when the run
	// ended (time zone, business hours, case, examiner, Sigma), as flags,
	// which an --add that does not give them again takes over.
	Settings     []string           `json:"settings"`
	Evidence     []string           `json:"evidence"`
	StartedUTC   string             `json:"started_utc"`
	FinishedUTC  string             `json:"finished_utc"`
	Status       timeline.RunStatus `json:"status"`
	StatusDetail string             `json:"status_detail,omitempty"`
}

// Tool names the program that made the run.
type Tool struct {
	Name      string `json:"name"`
	Version   string `json:"version"`
	Commit    string `json:"commit"`
	GoVersion string `json:"go_version"`
}

// Artifact is one artifact examined, with its hashes and parse outcome.
type Artifact struct {
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

// Skipped is one file under an evidence root that was not examined.
type Skipped struct {
	Host         string `json:"host"`
	EvidenceRoot string `json:"evidence_root"`
	Path         string `json:"path"`
	Size         int64  `json:"size"` // -1 when unknown
	Reason       string `json:"reason"`
	Detail       string `json:"detail,omitempty"`
}

// Image describes a disk image given as evidence: its files with their
// hashes, taken before any artifact was read from it, and the hashes the
// image format stores with the result of recomputing them.
type Image struct {
	EvidenceRoot      string            `json:"evidence_root"`
	Format            string            `json:"format"`
	Container         string            `json:"container,omitempty"`
	PartitionScheme   string            `json:"partition_scheme"`
	DiskSize          int64             `json:"disk_size"`
	Segments          []string          `json:"segments"`
	Files             []ImageFile       `json:"files"`
	StoredHashes      map[string]string `json:"stored_hashes,omitempty"`
	ComputedHashes    map[string]string `json:"computed_hashes,omitempty"`
	Verified          *bool             `json:"stored_hashes_verified,omitempty"`
	VerificationError string            `json:"verification_error,omitempty"`
	Inflater          string            `json:"inflater,omitempty"`
	Problems          []string          `json:"problems,omitempty"`
}

// ImageFile is one file an image is made of.
type ImageFile struct {
	Path   string `json:"path"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
	MD5    string `json:"md5"`
	Error  string `json:"error,omitempty"`
}

// Output is one file the run wrote, with its hash.
type Output struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
}

// Write writes the manifest to path through a temporary file renamed into
// place, so that path holds either the previous manifest or this one,
// never a part of one.
func (m *Manifest) Write(path string) error {
	rest := *m
	rest.Sigma = nil
	b, err := json.MarshalIndent(&rest, "", "  ")
	if err != nil {
		return err
	}
	if m.Sigma != nil {
		// The last field, as MarshalIndent would write it from the text
		// MarshalSigma indented already for its place.
		b = append(b[:len(b)-len("\n}")], ",\n  \"sigma\": "...)
		b = append(append(b, m.Sigma...), "\n}"...)
	}
	return outfile.Write(path, func(w io.Writer) error {
		_, err := w.Write(append(b, '\n'))
		return err
	})
}

// MarshalSigma returns v as Manifest.Sigma holds it: JSON indented for its
// place in the manifest, which Write copies as it is. Compacting and
// indenting the record of some 3,000 rules again on every write was most
// of the time of writing a manifest. A caller may append the same bytes
// itself, without reflection, if a test holds it to these.
func MarshalSigma(v any) (json.RawMessage, error) { return json.MarshalIndent(v, "  ", "  ") }

// ReadManifest reads a manifest written by Write.
func ReadManifest(path string) (*Manifest, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("ingest: %s: %w", path, err)
	}
	return &m, nil
}

// readOutputs reads a manifest's tool and outputs only, which come before
// its long tail: the runs and the Sigma record, some 2.3 MB with
// SigmaHQ's rules, which decoding whole took a run with --force 20 ms.
func readOutputs(path string) (Tool, []Output, error) {
	f, err := os.Open(path)
	if err != nil {
		return Tool{}, nil, err
	}
	defer f.Close()
	dec := json.NewDecoder(bufio.NewReader(f))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return Tool{}, nil, fmt.Errorf("ingest: %s: not a manifest", path)
	}
	var tool Tool
	var outputs []Output
	var seenTool, seenOutputs bool
	for dec.More() && !(seenTool && seenOutputs) {
		key, err := dec.Token()
		if err != nil {
			return Tool{}, nil, fmt.Errorf("ingest: %s: %w", path, err)
		}
		switch key {
		case "tool":
			err, seenTool = dec.Decode(&tool), true
		case "outputs":
			err, seenOutputs = dec.Decode(&outputs), true
		default:
			var skip json.RawMessage
			err = dec.Decode(&skip)
		}
		if err != nil {
			return Tool{}, nil, fmt.Errorf("ingest: %s: %w", path, err)
		}
	}
	return tool, outputs, nil
}

// HashOutputs hashes the named files of dir, reading each as a stream, in
// name order. A file that cannot be hashed is an error: the manifest would
// otherwise leave an output unaccounted for.
func HashOutputs(dir string, names []string) ([]Output, error) {
	names = append([]string(nil), names...)
	sort.Strings(names)
	var out []Output
	for _, name := range names {
		sum, size, err := HashFile(filepath.Join(dir, filepath.FromSlash(name)))
		if err != nil {
			return out, fmt.Errorf("hash output %s: %w", name, err)
		}
		out = append(out, Output{Path: name, SHA256: sum, Size: size})
	}
	return out, nil
}

// CountSkipped counts skipped files by reason, as the manifest's
// skipped_by_reason states them.
func CountSkipped(skipped []Skipped) map[string]int {
	n := map[string]int{}
	for _, s := range skipped {
		n[s.Reason]++
	}
	return n
}

// describeImage records the image behind an evidence root, hashing each
// file it is made of (a zip container is hashed as the one file it is).
func describeImage(root string, im *image.Image) Image {
	mi := Image{
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
		mi.Files = append(mi.Files, hashImageFile(path))
	}
	return mi
}

func hashImageFile(path string) ImageFile {
	mf := ImageFile{Path: path}
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

// logImage puts an image's description and any doubt about it in the run
// log: a stored hash that does not match is as loud as a changed artifact.
func logImage(logf func(string, ...any), mi Image) {
	format := mi.Format
	if mi.Container != "" {
		format += " in " + mi.Container
	}
	logf("image %s: %s, %d bytes, partitions %s, %d files, inflater %q", mi.EvidenceRoot, format,
		mi.DiskSize, mi.PartitionScheme, len(mi.Files), mi.Inflater)
	for _, f := range mi.Files {
		if f.Error != "" {
			logf("ERROR: image file %s: %s", f.Path, f.Error)
		} else {
			logf("  image file %s: %d bytes, sha256 %s, md5 %s", f.Path, f.Size, f.SHA256, f.MD5)
		}
	}
	switch {
	case mi.Verified == nil:
	case *mi.Verified:
		logf("  stored hashes verified: %v", mi.StoredHashes)
	default:
		logf("ERROR: INTEGRITY: image %s: stored hashes %v, computed %v %s", mi.EvidenceRoot, mi.StoredHashes, mi.ComputedHashes, mi.VerificationError)
	}
	for _, p := range mi.Problems {
		logf("error: image %s: %s", mi.EvidenceRoot, p)
	}
}
