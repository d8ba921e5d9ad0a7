// Package outfile writes a run's output files so that none is ever seen
// half written: each goes to a temporary name beside its final one, is
// synced, and is renamed into place only when whole. Every stage that
// writes outputs uses it.
package outfile

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Write calls write on a temporary file beside path, syncs and closes it,
// and renames it to path. On any error the temporary file is removed and
// path is left as it was.
func Write(path string, write func(io.Writer) error) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	err = write(f)
	if err == nil {
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
