package ingest

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"sync"

	"triage/collectors"
)

// hashArtifact computes SHA-256 and MD5 of the artifact's bytes in one pass.
func hashArtifact(a *collectors.Artifact) (string, string, error) {
	f, err := a.Open()
	if err != nil {
		return "", "", err
	}
	defer f.Close()
	return hashReader(f)
}

// hashReader returns the SHA-256 and MD5 of everything r holds, read once.
func hashReader(r io.Reader) (string, string, error) {
	buf := hashBuffers.Get().(*[]byte)
	defer hashBuffers.Put(buf)
	s, m := sha256.New(), md5.New()
	for {
		n, err := r.Read(*buf)
		s.Write((*buf)[:n])
		m.Write((*buf)[:n])
		if err == io.EOF {
			break
		}
		if err != nil {
			return "", "", fmt.Errorf("read: %w", err)
		}
	}
	return hex.EncodeToString(s.Sum(nil)), hex.EncodeToString(m.Sum(nil)), nil
}

// hashBuffers hold 1 MiB reads: io.Copy's 32 KiB reads made a system call
// per 32 KiB of evidence, twice per artifact.
var hashBuffers = sync.Pool{New: func() any { b := make([]byte, 1<<20); return &b }}

// HashFile returns the SHA-256 and size of the file at path, read as a
// stream: outputs such as timeline.db can be larger than the memory a run
// may use.
func HashFile(path string) (sha string, size int64, err error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	buf := hashBuffers.Get().(*[]byte)
	defer hashBuffers.Put(buf)
	h := sha256.New()
	size, err = io.CopyBuffer(h, struct{ io.Reader }{f}, *buf)
	if err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(h.Sum(nil)), size, nil
}
