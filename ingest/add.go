package ingest

import (
	"crypto/sha256"
	"database/sql"
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"triage/collectors"
	"triage/timeline"
)

// InCaseError refuses a root that a run adding to a case was given but the
// case holds already.
type InCaseError struct {
	Root string // as given
	Why  string
}

func (e *InCaseError) Error() string {
	return fmt.Sprintf("evidence %s is already in the case: %s", e.Root, e.Why)
}

// checkNotInCase refuses, unless o.ForceAdd, a root that is in the case
// already: one whose path is, contains or lies inside a root of the case,
// or whose artifacts have the paths, sizes and modification times of a
// case root's, which is a copy of that evidence. Hashes would say it
// surely but only after reading it all, and the run would then have
// appended it; paths, sizes and times are known before anything is read,
// and no two hosts' logs agree in all of them. A forced root is logged.
func checkNotInCase(db *sql.DB, hosts []*Host, o Options) error {
	roots, err := caseRoots(db)
	if err != nil {
		return err
	}
	for _, h := range hosts {
		why := ""
		for _, r := range roots {
			switch {
			case r.path != "" && (within(h.path, r.path) || within(r.path, h.path)):
				why = fmt.Sprintf("its path %s is, or overlaps, evidence root %s of host %s", h.path, r.root, r.host)
			case len(h.files) > 0 && r.fingerprint == fingerprint(h.files):
				why = fmt.Sprintf("its %d artifacts have the paths, sizes and times of evidence root %s of host %s", len(h.files), r.root, r.host)
			default:
				continue
			}
			break
		}
		if why == "" {
			continue
		}
		if !o.ForceAdd {
			return &InCaseError{Root: h.Root, Why: why}
		}
		o.Logf("evidence %s is already in the case, added again as --force-add asks: %s", h.Root, why)
	}
	return nil
}

// caseRoot is an evidence root of the case, as the timeline records it.
type caseRoot struct {
	host, root, path string
	fingerprint      [sha256.Size]byte
}

func caseRoots(db *sql.DB) ([]caseRoot, error) {
	paths := map[[2]string]string{}
	rows, err := db.Query(`SELECT name, evidence_root, evidence_path FROM hosts`)
	if err != nil {
		return nil, fmt.Errorf("ingest: the case's hosts: %w", err)
	}
	for rows.Next() {
		var host, root, path string
		if err := rows.Scan(&host, &root, &path); err != nil {
			rows.Close()
			return nil, err
		}
		paths[[2]string{host, root}] = path
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows, err = db.Query(`SELECT host, evidence_root, path, size, mtime_ts FROM artifacts ORDER BY host, evidence_root`)
	if err != nil {
		return nil, fmt.Errorf("ingest: the case's artifacts: %w", err)
	}
	defer rows.Close()
	files := map[[2]string][]string{}
	for rows.Next() {
		var host, root, path, mtime string
		var size int64
		if err := rows.Scan(&host, &root, &path, &size, &mtime); err != nil {
			return nil, err
		}
		k := [2]string{host, root}
		files[k] = append(files[k], fileKey(path, size, mtime))
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var out []caseRoot
	for k, p := range paths {
		out = append(out, caseRoot{host: k[0], root: k[1], path: p, fingerprint: fingerprintKeys(files[k])})
		delete(files, k)
	}
	for k, keys := range files { // roots of a case the hosts table does not name
		out = append(out, caseRoot{host: k[0], root: k[1], fingerprint: fingerprintKeys(keys)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].host+"\x00"+out[i].root < out[j].host+"\x00"+out[j].root })
	return out, nil
}

func fileKey(path string, size int64, mtime string) string {
	return fmt.Sprintf("%s\x00%d\x00%s", path, size, mtime)
}

func fingerprint(files []*collectors.Artifact) [sha256.Size]byte {
	keys := make([]string, len(files))
	for i, a := range files {
		keys[i] = fileKey(a.Path, a.Size, timeline.FormatTime(a.ModTime))
	}
	return fingerprintKeys(keys)
}

// fingerprintKeys hashes the sorted keys, so that the order files were
// listed or written in does not matter.
func fingerprintKeys(keys []string) [sha256.Size]byte {
	keys = append([]string(nil), keys...)
	sort.Strings(keys)
	return sha256.Sum256([]byte(strings.Join(keys, "\n")))
}

// resolvedPath is root made absolute with links resolved, as far as it
// exists.
func resolvedPath(root string) string {
	p, err := filepath.Abs(root)
	if err != nil {
		return root
	}
	if r, err := filepath.EvalSymlinks(p); err == nil {
		return r
	}
	return p
}

// within reports whether p is root or lies below it.
func within(p, root string) bool {
	rel, err := filepath.Rel(root, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}
