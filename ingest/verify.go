package ingest

import (
	"context"
	"database/sql"
	"fmt"
	"sync"

	"triage/timeline"
)

// rehash is an artifact's SHA-256 and size at the end of the run.
type rehash struct {
	digest
	skipped bool // the run was stopped before this artifact was hashed again
}

// rehasher hashes every artifact of each host it is given again, on a
// goroutine of its own, from the time the indexes are built: then the last
// root's few remaining artifacts, mostly prefetch files, are all that is
// parsed, and one core would be idle. Started earlier, beside the parsing
// of later roots, it only slowed their ingest by what it saved beside the
// analyzers. It reads only the evidence, never the timeline.
type rehasher struct {
	hosts   chan *Host
	started chan struct{}
	once    sync.Once
	cancel  context.CancelFunc
	done    chan [][]rehash // per host given, per artifact written
}

// startRehash starts the rehasher for up to roots hosts, which waits for
// start; before, if set, is called before the first host is hashed again.
func startRehash(ctx context.Context, roots int, before func()) *rehasher {
	r := &rehasher{hosts: make(chan *Host, roots), started: make(chan struct{}), done: make(chan [][]rehash, 1)}
	ctx, r.cancel = context.WithCancel(ctx)
	go func() {
		defer r.cancel()
		<-r.started
		if before != nil {
			before()
		}
		var out [][]rehash
		for h := range r.hosts {
			got := make([]rehash, min(len(h.Artifacts), len(h.files)))
			for j := range got {
				if got[j].skipped = ctx.Err() != nil; !got[j].skipped {
					got[j].digest = rehashArtifact(h.files[j])
				}
			}
			out = append(out, got)
		}
		r.done <- out
	}()
	return r
}

// start lets the hashing begin; once is enough.
func (r *rehasher) start() { r.once.Do(func() { close(r.started) }) }

// add queues h, written to the end, to be hashed again.
func (r *rehasher) add(h *Host) { r.hosts <- h }

// finish says that every host is added, starts the hashing if the index
// build has not, and returns where the hashes come.
func (r *rehasher) finish() <-chan [][]rehash {
	close(r.hosts)
	r.start()
	return r.done
}

// stop gives the hashing up, for an ingest that failed.
func (r *rehasher) stop() {
	r.cancel()
	r.finish()
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
			if i < len(after) && j < len(after[i]) {
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
