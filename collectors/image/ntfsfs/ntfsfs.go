// Package ntfsfs exposes an NTFS volume as a read-only fs.FS, reading files
// by their data runs through www.velocidex.com/golang/go-ntfs, so a volume
// inside a disk image can be walked exactly like a folder.
package ntfsfs

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"
	"sync"
	"time"

	ntfs "www.velocidex.com/golang/go-ntfs/parser"
)

// rootRecord is the MFT record number of the root directory.
const rootRecord = 5

// maxCachedDirs bounds the directory-listing cache; listings are rebuilt on
// demand once it is flushed.
const maxCachedDirs = 4096

// ErrNotNTFS is returned by New when the volume has no valid NTFS boot sector.
var ErrNotNTFS = errors.New("ntfsfs: not an NTFS volume")

// FS is an NTFS volume. It is safe for concurrent use.
type FS struct {
	mu   sync.Mutex
	ctx  *ntfs.NTFSContext
	dirs map[int64][]*ntfs.FileInfo
}

// New opens the NTFS volume whose boot sector is at offset 0 of r.
// go-ntfs was not written for hostile input, so its panics are turned into
// errors here and in every later call.
func New(r io.ReaderAt, size int64) (fsys *FS, err error) {
	defer recoverInto(&err, "opening volume")
	paged, err := ntfs.NewPagedReader(io.NewSectionReader(r, 0, size), 64*1024, 256)
	if err != nil {
		return nil, fmt.Errorf("ntfsfs: %w", err)
	}
	ctx, err := ntfs.GetNTFSContext(paged, 0)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotNTFS, err)
	}
	if _, err := ctx.GetMFT(rootRecord); err != nil {
		return nil, fmt.Errorf("ntfsfs: root directory (MFT record 5): %w", err)
	}
	return &FS{ctx: ctx, dirs: make(map[int64][]*ntfs.FileInfo)}, nil
}

func recoverInto(err *error, what string) {
	if v := recover(); v != nil {
		*err = fmt.Errorf("ntfsfs: damaged volume while %s: %v", what, v)
	}
}

// recordOf extracts the MFT record number from go-ntfs's "N-T-I" inode id.
func recordOf(info *ntfs.FileInfo) (int64, bool) {
	id := info.MFTId
	if i := strings.IndexByte(id, '-'); i >= 0 {
		id = id[:i]
	}
	var n int64
	if _, err := fmt.Sscanf(id, "%d", &n); err != nil {
		return 0, false
	}
	return n, true
}

// list returns a directory's entries without alternate data streams, one per
// record, preferring the long name.
func (f *FS) list(record int64) (entries []*ntfs.FileInfo, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if cached, ok := f.dirs[record]; ok {
		return cached, nil
	}
	defer recoverInto(&err, fmt.Sprintf("listing MFT record %d", record))
	dir, err := f.ctx.GetMFT(record)
	if err != nil {
		return nil, fmt.Errorf("ntfsfs: MFT record %d: %w", record, err)
	}
	// Names that differ only in case (the POSIX namespace allows them)
	// are distinct files and are all listed; an exact repeat, which only a
	// damaged index gives, is listed once.
	seen := map[string]bool{}
	for _, info := range ntfs.ListDir(f.ctx, dir) {
		if strings.Contains(info.Name, ":") || info.Name == "." || info.Name == "" {
			continue
		}
		if seen[info.Name] {
			continue
		}
		seen[info.Name] = true
		entries = append(entries, info)
	}
	if len(f.dirs) >= maxCachedDirs {
		f.dirs = make(map[int64][]*ntfs.FileInfo)
	}
	f.dirs[record] = entries
	return entries, nil
}

// lookup resolves a slash path to its directory entry; the root has a nil entry.
func (f *FS) lookup(name string) (info *ntfs.FileInfo, record int64, err error) {
	record = rootRecord
	if name == "." {
		return nil, record, nil
	}
	for _, part := range strings.Split(name, "/") {
		if info != nil && !info.IsDir {
			return nil, 0, fs.ErrNotExist
		}
		entries, err := f.list(record)
		if err != nil {
			return nil, 0, err
		}
		// The exact name first, so that names differing only in case each
		// open their own file; then any case, as Windows looks names up.
		var found *ntfs.FileInfo
		for _, e := range entries {
			if e.Name == part {
				found = e
				break
			}
		}
		for _, e := range entries {
			if found == nil && strings.EqualFold(e.Name, part) {
				found = e
			}
		}
		if found == nil {
			return nil, 0, fs.ErrNotExist
		}
		n, ok := recordOf(found)
		if !ok {
			return nil, 0, fmt.Errorf("ntfsfs: bad inode %q for %s", found.MFTId, part)
		}
		info, record = found, n
	}
	return info, record, nil
}

// Open opens the named file or directory.
func (f *FS) Open(name string) (fs.File, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	info, record, err := f.lookup(name)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	fi := fileInfo{name: path.Base(name), dir: true, mode: fs.ModeDir | 0o555}
	if info != nil {
		fi = newFileInfo(info)
	}
	if fi.dir {
		return &dirFile{fsys: f, record: record, info: fi}, nil
	}
	data, err := f.stream(record)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	return &file{info: fi, data: data, section: io.NewSectionReader(data, 0, fi.size)}, nil
}

// ReadDir lists the named directory, sorted by name.
func (f *FS) ReadDir(name string) ([]fs.DirEntry, error) {
	d, err := f.Open(name)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	rd, ok := d.(*dirFile)
	if !ok {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: errors.New("not a directory")}
	}
	return rd.ReadDir(-1)
}

func (f *FS) stream(record int64) (r io.ReaderAt, err error) {
	defer recoverInto(&err, fmt.Sprintf("opening data of MFT record %d", record))
	entry, err := f.ctx.GetMFT(record)
	if err != nil {
		return nil, fmt.Errorf("ntfsfs: MFT record %d: %w", record, err)
	}
	data, err := ntfs.OpenStream(f.ctx, entry, ntfs.ATTR_TYPE_DATA, ntfs.WILDCARD_STREAM_ID, "")
	if errors.Is(err, os.ErrNotExist) {
		// Metadata files such as $Secure keep their content in named streams only.
		return bytes.NewReader(nil), nil
	}
	if err != nil {
		return nil, fmt.Errorf("ntfsfs: $DATA of MFT record %d: %w", record, err)
	}
	return safeReaderAt{data}, nil
}

// safeReaderAt turns a panic inside go-ntfs's run reader into an error.
type safeReaderAt struct{ r io.ReaderAt }

func (s safeReaderAt) ReadAt(p []byte, off int64) (n int, err error) {
	defer recoverInto(&err, fmt.Sprintf("reading at file offset %d", off))
	return s.r.ReadAt(p, off)
}

type fileInfo struct {
	name  string
	size  int64
	mtime time.Time
	mode  fs.FileMode
	dir   bool
	times *ntfs.FileInfo
}

func newFileInfo(info *ntfs.FileInfo) fileInfo {
	fi := fileInfo{name: info.Name, size: info.Size, mtime: info.Mtime, mode: 0o444, dir: info.IsDir, times: info}
	if fi.dir {
		fi.mode = fs.ModeDir | 0o555
		fi.size = 0
	}
	if fi.size < 0 {
		fi.size = 0
	}
	return fi
}

func (fi fileInfo) Name() string       { return fi.name }
func (fi fileInfo) Size() int64        { return fi.size }
func (fi fileInfo) Mode() fs.FileMode  { return fi.mode }
func (fi fileInfo) ModTime() time.Time { return fi.mtime }
func (fi fileInfo) IsDir() bool        { return fi.dir }

// Sys returns the go-ntfs *parser.FileInfo with all four $STANDARD_INFORMATION
// times and the MFT id, or nil for the root.
func (fi fileInfo) Sys() any {
	if fi.times == nil {
		return nil
	}
	return fi.times
}

// file is a regular file; it implements io.ReaderAt and io.Seeker.
type file struct {
	info    fileInfo
	data    io.ReaderAt
	section *io.SectionReader
}

func (f *file) Stat() (fs.FileInfo, error)                   { return f.info, nil }
func (f *file) Read(p []byte) (int, error)                   { return f.section.Read(p) }
func (f *file) ReadAt(p []byte, off int64) (int, error)      { return f.section.ReadAt(p, off) }
func (f *file) Seek(offset int64, whence int) (int64, error) { return f.section.Seek(offset, whence) }
func (f *file) Close() error                                 { return nil }

type dirFile struct {
	fsys    *FS
	record  int64
	info    fileInfo
	entries []fs.DirEntry
	read    bool
}

func (d *dirFile) Stat() (fs.FileInfo, error) { return d.info, nil }
func (d *dirFile) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: d.info.name, Err: errors.New("is a directory")}
}
func (d *dirFile) Close() error { return nil }

// ReadDir implements fs.ReadDirFile.
func (d *dirFile) ReadDir(n int) ([]fs.DirEntry, error) {
	if !d.read {
		list, err := d.fsys.list(d.record)
		if err != nil {
			return nil, err
		}
		for _, info := range list {
			d.entries = append(d.entries, fs.FileInfoToDirEntry(newFileInfo(info)))
		}
		sortEntries(d.entries)
		d.read = true
	}
	if n <= 0 {
		out := d.entries
		d.entries = nil
		return out, nil
	}
	if len(d.entries) == 0 {
		return nil, io.EOF
	}
	if n > len(d.entries) {
		n = len(d.entries)
	}
	out := d.entries[:n]
	d.entries = d.entries[n:]
	return out, nil
}

func sortEntries(e []fs.DirEntry) {
	for i := 1; i < len(e); i++ {
		for j := i; j > 0 && e[j].Name() < e[j-1].Name(); j-- {
			e[j], e[j-1] = e[j-1], e[j]
		}
	}
}
