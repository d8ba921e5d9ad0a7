// Package outfile writes a run's output files so that none is ever seen
// half written: each goes to a temporary name beside its final one, is
// synced, and is renamed into place only when whole. Every stage that
// writes outputs uses it.
package outfile

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
)

var buffers = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 64<<10) }}

// Write calls write on a temporary file beside path, syncs and closes it,
// and renames it to path. On any error the temporary file is removed and
// path is left as it was.
func Write(path string, write func(io.Writer) error) error {
	return writeFile(path, write, true)
}

func writeFile(path string, write func(io.Writer) error, sync bool) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	// Templates and encoders write in many small pieces: unbuffered, each
	// was a system call, a twentieth of a run's CPU on the corpus host. The
	// buffers are pooled: a report writes up to 10,000 script files.
	buf := buffers.Get().(*bufio.Writer)
	buf.Reset(f)
	err = write(buf)
	if err == nil {
		err = buf.Flush()
	}
	buf.Reset(nil)
	buffers.Put(buf)
	if err == nil && sync {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(f.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	return nil
}

// Batch writes many small outputs of one folder as Write does, but makes
// them durable together, in Sync: a sync per file was most of the time
// writing a few hundred thousand scripts took. Until Sync returns, what the
// batch wrote may not survive a crash, so nothing that vouches for the
// files (the manifest) may be written before it.
type Batch struct {
	dir string
}

// NewBatch starts a batch of outputs written under dir.
func NewBatch(dir string) *Batch { return &Batch{dir: dir} }

// Write writes one output of the batch whole or not at all.
func (b *Batch) Write(path string, write func(io.Writer) error) error {
	return writeFile(path, write, !canSyncAll)
}

// Sync makes every file the batch wrote, and their names, durable.
func (b *Batch) Sync() error {
	if err := syncAll(b.dir); err != nil {
		return fmt.Errorf("sync %s: %w", filepath.Base(b.dir), err)
	}
	return nil
}
