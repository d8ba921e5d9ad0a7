package ingest

import (
	"context"
	"database/sql"
	"fmt"

	"triage/timeline"
)

// rehash is an artifact's SHA-256 and size at the end of the run.
type rehash struct {
	digest
	skipped bool // the run was stopped before this artifact was hashed again
}

// rehashInBackground hashes every artifact that was written again, on its
// own goroutine, after calling before if set; the result is indexed like
// hosts and each host's rows. It overlaps the index builds and the
// analyzers, which read only the timeline.
func rehashInBackground(ctx context.Context, hosts []*Host, before func()) <-chan [][]rehash {
	done := make(chan [][]rehash, 1)
	go func() {
		if before != nil {
			before()
		}
		out := make([][]rehash, len(hosts))
		for i, h := range hosts {
			out[i] = make([]rehash, min(len(h.Artifacts), len(h.files)))
			for j := range out[i] {
				r := &out[i][j]
				if r.skipped = ctx.Err() != nil; !r.skipped {
					r.digest = rehashArtifact(h.files[j])
				}
			}
		}
		done <- out
	}()
	return done
}

// Verify waits for the second hashing and compares every artifact's
// SHA-256 and size with those taken while it was parsed: evidence must not
// change while it is read. A change, or an artifact that cannot be read again, is an
// integrity error: it is logged, recorded in the artifacts table and in
// the artifacts Verify returns for the manifest, and makes the run not
// clean. For a Result whose ingest was interrupted, Verify compares
// nothing and returns the artifacts as written.
func (r *Result) Verify(db *sql.DB, logf func(string, ...any)) ([]Artifact, error) {
	if r.verified != nil {
		return r.verified, nil // verified already: the same answer again
	}
	if logf == nil {
		logf = func(string, ...any) {}
	}
	var after [][]rehash
	if r.rehashed != nil {
		after = <-r.rehashed
		r.rehashed = nil
	}
	out := []Artifact{}
	for i, h := range r.Hosts {
		for j, row := range h.Artifacts {
			a := h.files[j]
			ma := Artifact{
				Host: h.Name, EvidenceRoot: h.Root, Path: a.Path, WindowsPath: a.WinPath, Kind: row.Kind,
				Size: a.Size, ModTime: timeline.FormatTime(a.ModTime), SHA256: row.SHA256, MD5: row.MD5,
				Status: row.Status, Records: row.Records, Recovered: row.Recovered, Errors: row.Errors,
			}
			if ma.Errors == nil {
				ma.Errors = []string{}
			}
			if after != nil && j < len(after[i]) {
				ma.IntegrityError = integrityError(row, after[i][j])
			}
			if ma.IntegrityError != "" {
				logf("ERROR: INTEGRITY: %s: %s", a.Path, ma.IntegrityError)
				if err := timeline.SetIntegrityError(db, row.ID, ma.IntegrityError); err != nil {
					return out, err
				}
			}
			out = append(out, ma)
		}
	}
	r.verified = out
	return out, nil
}

// integrityError compares an artifact's hashes before and after the run.
// The second read computes SHA-256 only: the same SHA-256 means the same
// bytes, and so the same MD5.
func integrityError(row timeline.Artifact, r rehash) string {
	switch {
	case r.skipped:
		return "" // the run is marked interrupted instead
	case row.SHA256 == "" && r.err != nil:
		return "" // never read at all: the artifact is failed, not changed
	case r.err != nil:
		return "re-hash failed: " + r.err.Error()
	case r.sha256 != row.SHA256:
		return fmt.Sprintf("CHANGED DURING THE RUN: sha256 %s before, %s after", row.SHA256, r.sha256)
	}
	return ""
}
