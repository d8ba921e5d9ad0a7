package ingest

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// Names of a run's files in its output folder.
const (
	TimelineName = "timeline.db"
	// PartialTimelineName is the timeline while the run writes it: it is
	// renamed TimelineName once the run ends, complete or interrupted, so
	// that a timeline.db is never one a crash or a full disk cut short.
	PartialTimelineName = "timeline.db.partial"
	ManifestName        = "manifest.json"
	LogName             = "run.log"
	tempDirName         = ".tmp"
)

// runFiles are the names a run may leave in its output folder besides the
// outputs its manifest lists; --force removes them and nothing else.
var runFiles = []string{TimelineName, PartialTimelineName, TimelineName + "-journal", TimelineName + "-wal",
	TimelineName + "-shm", ManifestName, LogName, "report.html", "report.pdf", "findings.csv", "timeline.csv",
	"scripts", tempDirName}

// Errors of OpenOut.
var (
	// ErrOutNotRun means the folder holds files that are not a previous
	// run's; it is never written into, with --force or not.
	ErrOutNotRun = errors.New("holds files that are not a triage run's")
	// ErrOutHoldsRun means the folder holds a previous run and the caller
	// did not ask to replace it.
	ErrOutHoldsRun = errors.New("already holds a run")
	// ErrOutLocked means another run is writing into the folder.
	ErrOutLocked = errors.New("is being written by another triage run")
)

// Out is a run's output folder, locked for the run.
type Out struct {
	Dir  string
	lock *os.File
}

// OpenOut creates or reuses dir for a run and takes an exclusive lock on it
// that lasts until Close, so two runs never mix their outputs. A folder
// that holds anything but a previous run's files is refused; a previous run
// is replaced only with replace, and then only its files are removed.
func OpenOut(dir string, replace bool) (*Out, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("--out %s %w", dir, ErrOutLocked)
		}
		return nil, fmt.Errorf("lock --out %s: %w", dir, err)
	}
	o := &Out{Dir: dir, lock: f}
	if err := o.clear(replace); err != nil {
		o.Close()
		return nil, err
	}
	if err := os.Mkdir(o.TempDir(), 0o755); err != nil {
		o.Close()
		return nil, err
	}
	return o, nil
}

// clear checks what the folder holds and, with replace, removes a
// previous run's files.
func (o *Out) clear(replace bool) error {
	entries, err := os.ReadDir(o.Dir)
	if err != nil {
		return err
	}
	if len(entries) == 0 {
		return nil
	}
	known := map[string]bool{}
	for _, name := range runFiles {
		known[name] = true
	}
	if m, err := ReadManifest(filepath.Join(o.Dir, ManifestName)); err == nil && m.Tool.Name == "triage" {
		for _, out := range m.Outputs {
			known[strings.SplitN(out.Path, "/", 2)[0]] = true
		}
	}
	var foreign []string
	for _, e := range entries {
		name := e.Name()
		if !known[name] && !isTempName(name) {
			foreign = append(foreign, name)
		}
	}
	if len(foreign) > 0 {
		if len(foreign) > 3 {
			foreign = append(foreign[:3], "…")
		}
		return fmt.Errorf("--out %s %w (%s)", o.Dir, ErrOutNotRun, strings.Join(foreign, ", "))
	}
	if !replace {
		return fmt.Errorf("--out %s %w", o.Dir, ErrOutHoldsRun)
	}
	for _, e := range entries {
		if err := os.RemoveAll(filepath.Join(o.Dir, e.Name())); err != nil {
			return err
		}
	}
	return nil
}

// isTempName reports a temporary file of outfile.Write's.
func isTempName(name string) bool {
	return strings.HasPrefix(name, ".") && strings.Contains(name, ".tmp-")
}

// TempDir is where the run's temporary files go: under the output folder,
// never beside the evidence, and removed by Close.
func (o *Out) TempDir() string { return filepath.Join(o.Dir, tempDirName) }

// Path is name inside the folder.
func (o *Out) Path(name string) string { return filepath.Join(o.Dir, name) }

// Close removes the temporary folder and releases the lock.
func (o *Out) Close() error {
	err := os.RemoveAll(o.TempDir())
	if o.lock != nil {
		o.lock.Close() // closing the descriptor releases the lock
		o.lock = nil
	}
	return err
}
