package collectors

import (
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"syscall"
)

// openFolder lists every file under dir. The folder is read through an
// os.Root: names are taken byte for byte as the file system stores them
// (io/fs would refuse a name that is not UTF-8), paths longer than the
// system's PATH_MAX are still opened one folder at a time, and nothing
// outside dir is ever reached.
func (ev *Evidence) openFolder(dir string) error {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return fmt.Errorf("collectors: %w", err)
	}
	ev.closers = append(ev.closers, root)
	ev.walkFolder(root, "")
	return nil
}

// openSingle takes one file as the whole evidence.
func (ev *Evidence) openSingle(file string) error {
	dir, name := filepath.Split(file)
	if dir == "" {
		dir = "."
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return fmt.Errorf("collectors: %w", err)
	}
	ev.closers = append(ev.closers, root)
	info, err := root.Lstat(name)
	if err != nil {
		return fmt.Errorf("collectors: %w", err)
	}
	if !info.Mode().IsRegular() {
		// The root itself was followed by os.Stat: a link to a file is
		// what the examiner pointed at.
		info, err = root.Stat(name)
		if err != nil {
			return fmt.Errorf("collectors: %w", err)
		}
	}
	ev.addFile(name, info.Size(), info.ModTime(), openRegular(root, name))
	return nil
}

// walkFolder lists the folder at the slash path dir ("" for the root) and
// everything below it. Each folder is read whole and closed before its
// subfolders are walked, so the depth of a tree never costs open files.
func (ev *Evidence) walkFolder(root *os.Root, dir string) {
	name := dir
	if name == "" {
		name = "."
	}
	f, err := root.Open(filepath.FromSlash(name))
	if err != nil {
		ev.skipErr(dir+"/", -1, fmt.Errorf("folder not listed: %w", err))
		return
	}
	entries, err := f.ReadDir(-1)
	f.Close()
	if err != nil {
		// The entries read before the error are still walked.
		ev.skipErr(dir+"/", -1, fmt.Errorf("folder not listed to the end: %w", err))
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Name() < entries[j].Name() })
	for _, e := range entries {
		p := path.Join(dir, e.Name())
		if e.IsDir() {
			if len(p) > MaxPathLength {
				ev.skip(p+"/", -1, SkipNameTooLong, fmt.Sprintf("folder path of %d bytes, over the %d-byte limit; its files were not listed", len(p), MaxPathLength))
				continue
			}
			ev.walkFolder(root, p)
			continue
		}
		info, err := e.Info()
		if err != nil {
			ev.skipErr(p, -1, err)
			continue
		}
		if !ev.regular(p, info) {
			continue
		}
		ev.addFile(p, info.Size(), info.ModTime(), openRegular(root, filepath.FromSlash(p)))
	}
}

// openRegular opens a file of the folder read-only, and refuses it unless
// it is still a regular file when opened: a file replaced by a pipe after
// it was listed would block the reader forever, hence O_NONBLOCK, which
// changes nothing for a regular file.
func openRegular(root *os.Root, name string) func() (File, error) {
	return func() (File, error) {
		f, err := root.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK, 0)
		if err != nil {
			return nil, err
		}
		st, err := f.Stat()
		if err != nil {
			f.Close()
			return nil, err
		}
		if !st.Mode().IsRegular() {
			f.Close()
			return nil, &fs.PathError{Op: "open", Path: name, Err: fmt.Errorf("no longer a regular file (%s)", fileType(st.Mode()))}
		}
		return f, nil
	}
}
