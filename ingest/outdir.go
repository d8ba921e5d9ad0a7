package ingest

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"triage/timeline"
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
	TimelineName + "-shm", PartialTimelineName + "-wal", PartialTimelineName + "-shm", ManifestName, LogName, "report.html", "report.pdf", "findings.csv", "timeline.csv",
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
	// ErrNoCase means an --add was pointed at a folder with no case in it.
	ErrNoCase = errors.New("holds no triage case to add to")
	// ErrCaseIncomplete means the case's last run did not complete, so it
	// may hold a root half written: nothing is added to it.
	ErrCaseIncomplete = errors.New("holds a case whose last run did not complete")
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
	f, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	o := &Out{Dir: dir, lock: f}
	if err := o.clear(replace); err != nil {
		o.Close()
		return nil, err
	}
	if err := o.makeTempDir(); err != nil {
		o.Close()
		return nil, err
	}
	return o, nil
}

// OpenCase locks dir, which must hold a complete case, for a run that adds
// evidence to it: nothing in it is removed. A folder with foreign files is
// refused as OpenOut refuses it.
func OpenCase(dir string) (*Out, error) {
	if _, err := os.Stat(filepath.Join(dir, ManifestName)); err != nil {
		return nil, fmt.Errorf("--out %s %w", dir, ErrNoCase)
	}
	f, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	o := &Out{Dir: dir, lock: f}
	fail := func(err error) (*Out, error) {
		o.Close()
		return nil, err
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fail(err)
	}
	if err := o.foreign(entries); err != nil {
		return fail(err)
	}
	m, err := ReadManifest(o.Path(ManifestName))
	switch {
	case err != nil || m.Tool.Name != "triage":
		return fail(fmt.Errorf("--out %s %w", dir, ErrNoCase))
	case m.Status != timeline.RunComplete:
		return fail(fmt.Errorf("--out %s %w (%s)", dir, ErrCaseIncomplete, m.Status))
	}
	if _, err := os.Stat(o.Path(PartialTimelineName)); err == nil {
		return fail(fmt.Errorf("--out %s %w (%s is left)", dir, ErrCaseIncomplete, PartialTimelineName))
	}
	if _, err := os.Stat(o.Path(TimelineName)); err != nil {
		return fail(fmt.Errorf("--out %s %w (no %s)", dir, ErrNoCase, TimelineName))
	}
	// A temporary folder is left only by a run that crashed.
	if err := os.RemoveAll(o.TempDir()); err != nil {
		return fail(err)
	}
	if err := o.makeTempDir(); err != nil {
		return fail(err)
	}
	return o, nil
}

// lockDir takes the exclusive lock on dir that a run holds while it writes.
func lockDir(dir string) (*os.File, error) {
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
	return f, nil
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
	if err := o.foreign(entries); err != nil {
		return err
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

// foreign refuses a folder that holds files a run does not write.
func (o *Out) foreign(entries []os.DirEntry) error {
	known := map[string]bool{}
	for _, name := range runFiles {
		known[name] = true
	}
	if tool, outputs, err := readOutputs(filepath.Join(o.Dir, ManifestName)); err == nil && tool.Name == "triage" {
		for _, out := range outputs {
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
	return nil
}

// isTempName reports a temporary file of outfile.Write's.
func isTempName(name string) bool {
	return strings.HasPrefix(name, ".") && strings.Contains(name, ".tmp-")
}

// makeTempDir makes TempDir and points SQLite's temporary files there,
// which it would put in /var/tmp: the sorts of an index build on a large
// timeline outgrow the page cache.
func (o *Out) makeTempDir() error {
	if err := os.Mkdir(o.TempDir(), 0o755); err != nil {
		return err
	}
	return timeline.UseTempDir(o.TempDir())
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
