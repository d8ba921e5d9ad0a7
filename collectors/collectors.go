package collectors

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"triage/collectors/image"
)

// Kind is what an artifact holds.
type Kind string

// Artifact kinds.
const (
	EVTX     Kind = "evtx"
	Prefetch Kind = "prefetch"
	History  Kind = "history"
	Batch    Kind = "batch"
	Script   Kind = "script"
)

// Artifact is one file of evidence that a parser can read.
type Artifact struct {
	Root    string    // evidence root as given
	Path    string    // slash-separated path relative to Root, as stored in the evidence
	WinPath string    // the Windows path it had on the host, where the layout tells it
	Kind    Kind      //
	Size    int64     //
	ModTime time.Time // as recorded by the evidence container
	open    func() (File, error)
	// problems is container-level damage found while the artifact was
	// read: a zip CRC-32 or size that does not match what was stored.
	problemsMu sync.Mutex
	problems   []string
}

// File is an opened artifact: random access for the binary parsers and a
// stream for hashing and text.
type File interface {
	io.Reader
	io.ReaderAt
	io.Closer
}

// Open opens the artifact read-only.
func (a *Artifact) Open() (File, error) { return a.open() }

// Problems returns the container-level damage found so far while the
// artifact was read (a zip entry's CRC-32 or size not as stored). Call it
// after the artifact has been read to the end: a non-empty list makes the
// artifact damaged, with these reasons.
func (a *Artifact) Problems() []string {
	a.problemsMu.Lock()
	defer a.problemsMu.Unlock()
	return append([]string(nil), a.problems...)
}

// addProblem records container damage once, however often the artifact is
// read through.
func (a *Artifact) addProblem(p string) {
	a.problemsMu.Lock()
	defer a.problemsMu.Unlock()
	for _, q := range a.problems {
		if q == p {
			return
		}
	}
	a.problems = append(a.problems, p)
}

// Options bound what opening evidence may cost.
type Options struct {
	// TempDir receives temporary copies of container entries that must be
	// read at random (never beside the evidence); empty means none may
	// be made.
	TempDir string
	// MaxEntrySize, MaxExpansion and MaxExpansionRatio bound one zip
	// entry, the sum of all entries, and an entry's uncompressed size
	// over its compressed size; zero means the default
	// (DefaultMaxEntrySize, DefaultMaxExpansion, DefaultMaxExpansionRatio).
	// An entry past a bound is Skipped as too-large or expansion-limit,
	// with the limit in its Detail.
	MaxEntrySize      int64
	MaxExpansion      int64
	MaxExpansionRatio int64
}

// Evidence is one evidence root: one host.
type Evidence struct {
	Root      string
	Format    string // folder, zip, file or image
	HostHint  string // from the folder or file name
	Artifacts []*Artifact
	// Skipped lists every file under the root that is not an artifact
	// examined, with why, so that nothing is left out silently.
	Skipped []Skipped
	// Image is the disk image the artifacts were read from (Format
	// "image"): its format, files, stored and verified hashes and damage.
	Image   *image.Image
	closers []io.Closer
	opts    Options
	// expanded is the sum of the declared sizes of the zip entries taken
	// as artifacts, bounded by opts.MaxExpansion.
	expanded int64
	// temp lists the temporary copies of zip entries, removed by Close.
	tempMu sync.Mutex
	temp   []string
}

// SkipReason says why a file under an evidence root was not examined.
type SkipReason string

// Reasons a file is not examined. The manifest, the database and the report
// use these words as they are.
const (
	SkipNotArtifact    SkipReason = "not-artifact"    // not a kind we read
	SkipUnreadable     SkipReason = "unreadable"      // permission or I/O error
	SkipTooLarge       SkipReason = "too-large"       // over a configured limit, named in Detail
	SkipSymlink        SkipReason = "symlink"         // a link, never followed
	SkipSpecial        SkipReason = "special-file"    // device, pipe, socket
	SkipNameTooLong    SkipReason = "name-too-long"   //
	SkipDuplicateEntry SkipReason = "duplicate-entry" // a zip entry name seen before
	SkipExpansionLimit SkipReason = "expansion-limit" // a container's expansion bound was reached
)

// Skipped is one file under an evidence root that was not examined.
type Skipped struct {
	Path   string // slash-separated path relative to Root, as stored in the evidence
	Size   int64  // as the container states it; -1 when unknown
	Reason SkipReason
	Detail string // the error or the limit, in words
}

func (s Skipped) String() string {
	if s.Detail == "" {
		return fmt.Sprintf("%s: %s", s.Path, s.Reason)
	}
	return fmt.Sprintf("%s: %s: %s", s.Path, s.Reason, s.Detail)
}

// Close releases the evidence's open containers and removes the temporary
// copies made of its zip entries.
func (e *Evidence) Close() error {
	var errs []error
	for _, c := range e.closers {
		errs = append(errs, c.Close())
	}
	e.closers = nil
	e.tempMu.Lock()
	for _, t := range e.temp {
		errs = append(errs, os.Remove(t))
	}
	e.temp = nil
	e.tempMu.Unlock()
	return errors.Join(errs...)
}

// MaxPathLength bounds the path of a file under an evidence root, in bytes.
// It is Windows' longest path (32,767 UTF-16 units): a longer path cannot
// come from a Windows host, and holding it would let one crafted name swell
// the manifest, the database and the report. Such a file is listed as
// name-too-long.
const MaxPathLength = 32767

// OpenWith finds the artifacts under root, as Open does, within the bounds
// of o and with o.TempDir for the temporary copies of zip entries that are
// read at random.
func OpenWith(root string, o Options) (*Evidence, error) {
	st, err := os.Stat(root)
	if err != nil {
		return nil, err
	}
	ev := &Evidence{Root: root, HostHint: hostHint(root), opts: o.withDefaults()}
	switch {
	case st.IsDir():
		ev.Format = "folder"
		err = ev.openFolder(root)
	case !st.Mode().IsRegular():
		return nil, fmt.Errorf("collectors: %s: not a folder or a regular file (%s)", root, st.Mode().Type())
	case isZip(root):
		ev.Format = "zip"
		err = ev.openZip(root)
		// A zip holding a disk image (a stored E01 set, a zipped VHDX) has
		// no artifacts of its own: read the image inside it instead.
		if err == nil && len(ev.Artifacts) == 0 && image.Detect(root) {
			ev.Close()
			ev = &Evidence{Root: root, HostHint: hostHint(root), Format: "image", opts: ev.opts}
			err = ev.openImage(root)
		}
	case image.Detect(root):
		ev.Format = "image"
		err = ev.openImage(root)
	default:
		ev.Format = "file"
		err = ev.openSingle(root)
	}
	if err != nil {
		ev.Close()
		return nil, err
	}
	sort.SliceStable(ev.Artifacts, func(i, j int) bool { return ev.Artifacts[i].Path < ev.Artifacts[j].Path })
	sort.SliceStable(ev.Skipped, func(i, j int) bool { return ev.Skipped[i].Path < ev.Skipped[j].Path })
	return ev, nil
}

// Open finds the artifacts under root: a folder (KAPE target output,
// Velociraptor collection, plain logs), a zip of one, a disk image, or a
// single artifact file. It is OpenWith with the default bounds and no
// temporary folder: a deflated zip entry read at random is then inflated
// again from its start for every backward read, slow but in bounded memory.
func Open(root string) (*Evidence, error) { return OpenWith(root, Options{}) }

func hostHint(root string) string {
	base := filepath.Base(filepath.Clean(root))
	for _, ext := range []string{".zip", ".e01", ".vhdx", ".vhd", ".raw", ".dd", ".img"} {
		if strings.HasSuffix(strings.ToLower(base), ext) {
			return base[:len(base)-len(ext)]
		}
	}
	return base
}

func isZip(p string) bool {
	f, err := os.Open(p)
	if err != nil {
		return false
	}
	defer f.Close()
	head := make([]byte, 4)
	n, _ := io.ReadFull(f, head)
	return n == 4 && bytes.Equal(head, []byte("PK\x03\x04"))
}

// skip lists a file that is not examined.
func (ev *Evidence) skip(p string, size int64, reason SkipReason, detail string) {
	ev.Skipped = append(ev.Skipped, Skipped{Path: p, Size: size, Reason: reason, Detail: detail})
}

// skipErr lists a file that could not be read, with the reason the error
// gives.
func (ev *Evidence) skipErr(p string, size int64, err error) {
	reason := SkipUnreadable
	if errors.Is(err, syscall.ENAMETOOLONG) {
		reason = SkipNameTooLong
	}
	ev.skip(p, size, reason, err.Error())
}

// addFile classifies one regular file from its first bytes and records it
// as an artifact or as not examined.
func (ev *Evidence) addFile(p string, size int64, mtime time.Time, open func() (File, error)) {
	if len(p) > MaxPathLength {
		ev.skip(p, size, SkipNameTooLong, fmt.Sprintf("path of %d bytes, over the %d-byte limit", len(p), MaxPathLength))
		return
	}
	f, err := open()
	if err != nil {
		ev.skipErr(p, size, err)
		return
	}
	head, err := readHead(f)
	f.Close()
	if err != nil {
		ev.skipErr(p, size, err)
		return
	}
	kind := classify(p, head)
	if kind == "" {
		ev.skip(p, size, SkipNotArtifact, "")
		return
	}
	ev.Artifacts = append(ev.Artifacts, &Artifact{
		Root: ev.Root, Path: p, WinPath: WindowsPath(p), Kind: kind,
		Size: size, ModTime: mtime.UTC(), open: open,
	})
}

func (ev *Evidence) openImage(root string) error {
	im, err := image.OpenWith(root, image.Options{TempDir: ev.opts.TempDir})
	if err != nil {
		return err
	}
	ev.Image = im
	ev.closers = append(ev.closers, im)
	for _, v := range im.Volumes {
		ev.walkFS(v.FS, v.Name)
	}
	return nil
}

// walkFS lists every file of an image volume under prefix.
func (ev *Evidence) walkFS(fsys fs.FS, prefix string) {
	open := func(p string) func() (File, error) {
		return func() (File, error) {
			f, err := fsys.Open(p)
			if err != nil {
				return nil, err
			}
			file, ok := f.(File)
			if !ok {
				f.Close()
				return nil, fmt.Errorf("collectors: %s: image file has no random access", p)
			}
			return file, nil
		}
	}
	fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		full := path.Join(prefix, p)
		if err != nil {
			if d != nil && d.IsDir() {
				ev.skipErr(full+"/", -1, fmt.Errorf("folder not listed: %w", err))
				return fs.SkipDir
			}
			ev.skipErr(full, -1, err)
			return nil
		}
		if d.IsDir() {
			if len(full) > MaxPathLength {
				ev.skip(full+"/", -1, SkipNameTooLong, fmt.Sprintf("folder path of %d bytes, over the %d-byte limit; its files were not listed", len(full), MaxPathLength))
				return fs.SkipDir
			}
			return nil
		}
		info, err := d.Info()
		if err != nil {
			ev.skipErr(full, -1, err)
			return nil
		}
		if !ev.regular(full, info) {
			return nil
		}
		ev.addFile(full, info.Size(), info.ModTime(), open(p))
		return nil
	})
}

// regular reports whether info is a regular file, and lists it as skipped
// when it is not: a link is never followed (it may point outside the
// evidence), a device or pipe never read (it may never end).
func (ev *Evidence) regular(p string, info fs.FileInfo) bool {
	mode := info.Mode()
	switch {
	case mode.IsRegular():
		return true
	case mode&fs.ModeSymlink != 0:
		ev.skip(p, -1, SkipSymlink, "symbolic link, not followed")
	default:
		ev.skip(p, -1, SkipSpecial, fileType(mode))
	}
	return false
}

func fileType(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "named pipe"
	case m&fs.ModeSocket != 0:
		return "socket"
	case m&fs.ModeCharDevice != 0:
		return "character device"
	case m&fs.ModeDevice != 0:
		return "block device"
	}
	return fmt.Sprintf("not a regular file (mode %s)", m)
}

// WindowsPath turns a collection path into the path the file had on the
// host: KAPE's "C/Windows/…", Velociraptor's "uploads/auto/C%3A/…" and
// "uploads/ntfs/%5C%5C.%5CC%3A/…" all become "C:\Windows\…". Paths whose
// layout says nothing about the drive are returned with backslashes.
func WindowsPath(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		if u, err := url.PathUnescape(s); err == nil {
			segs[i] = u
		}
	}
	for i := 0; i < len(segs); i++ {
		s := segs[i]
		s = strings.TrimPrefix(s, `\\.\`)
		if len(s) == 2 && s[1] == ':' && isLetter(s[0]) {
			return strings.ToUpper(s[:1]) + `:\` + strings.Join(segs[i+1:], `\`)
		}
		if len(s) == 1 && isLetter(s[0]) && i+1 < len(segs) && isWindowsTop(segs[i+1]) {
			return strings.ToUpper(s) + `:\` + strings.Join(segs[i+1:], `\`)
		}
	}
	return strings.Join(segs, `\`)
}

func isLetter(c byte) bool { return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' }

// isWindowsTop reports names found at the root of a Windows system volume,
// which mark a one-letter folder as a drive in KAPE's layout.
func isWindowsTop(s string) bool {
	switch strings.ToLower(s) {
	case "windows", "windows.old", "users", "programdata", "program files", "program files (x86)",
		"$recycle.bin", "documents and settings", "inetpub", "temp", "perflogs":
		return true
	}
	return false
}
