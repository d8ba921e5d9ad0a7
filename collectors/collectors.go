package collectors

import (
	"archive/zip"
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
	problems []string
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
func (a *Artifact) Problems() []string { return a.problems }

// Options bound what opening evidence may cost.
type Options struct {
	// TempDir receives temporary copies of container entries that must be
	// read at random (never beside the evidence); empty means none may
	// be made.
	TempDir string
	// MaxEntrySize, MaxExpansion and MaxExpansionRatio bound one zip
	// entry, the sum of all entries, and an entry's uncompressed size
	// over its compressed size; zero means the default.
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

// Close releases the evidence's open containers.
func (e *Evidence) Close() error {
	var errs []error
	for _, c := range e.closers {
		errs = append(errs, c.Close())
	}
	return errors.Join(errs...)
}

// maxInMemoryEntry bounds how much of one zip entry is held in memory; the
// artifacts worth parsing are far smaller, larger entries are refused.
const maxInMemoryEntry = 1 << 30

// OpenWith is Open with bounds and a place for temporary files.
func OpenWith(root string, o Options) (*Evidence, error) { return Open(root) }

// Open finds the artifacts under root: a folder (KAPE target output,
// Velociraptor collection, plain logs), a zip of one, a disk image, or a
// single artifact file.
func Open(root string) (*Evidence, error) {
	st, err := os.Stat(root)
	if err != nil {
		return nil, err
	}
	ev := &Evidence{Root: root, HostHint: hostHint(root)}
	switch {
	case st.IsDir():
		ev.Format = "folder"
		err = ev.walk(os.DirFS(root), "", func(p string) (File, error) { return os.Open(filepath.Join(root, filepath.FromSlash(p))) })
	case isZip(root):
		ev.Format = "zip"
		err = ev.openZip(root)
		// A zip holding a disk image (a stored E01 set, a zipped VHDX) has
		// no artifacts of its own: read the image inside it instead.
		if err == nil && len(ev.Artifacts) == 0 && image.Detect(root) {
			ev.Close()
			ev = &Evidence{Root: root, HostHint: hostHint(root), Format: "image"}
			err = ev.openImage(root)
		}
	case image.Detect(root):
		ev.Format = "image"
		err = ev.openImage(root)
	default:
		ev.Format = "file"
		dir, name := filepath.Split(root)
		if dir == "" {
			dir = "."
		}
		err = ev.walk(os.DirFS(dir), "", func(p string) (File, error) { return os.Open(filepath.Join(dir, p)) }, name)
	}
	if err != nil {
		ev.Close()
		return nil, err
	}
	sort.Slice(ev.Artifacts, func(i, j int) bool { return ev.Artifacts[i].Path < ev.Artifacts[j].Path })
	return ev, nil
}

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

// walk classifies every file of fsys (or only the names given) and records
// the artifacts; prefix is prepended to their paths (an image's volume).
func (ev *Evidence) walk(fsys fs.FS, prefix string, open func(string) (File, error), only ...string) error {
	visit := func(p string, d fs.DirEntry) error {
		info, err := d.Info()
		if err != nil {
			ev.Skipped = append(ev.Skipped, Skipped{Path: path.Join(prefix, p), Size: -1, Reason: SkipUnreadable, Detail: err.Error()})
			return nil
		}
		if info.Mode()&fs.ModeSymlink != 0 {
			// A link may point outside the evidence: list it, never follow it.
			ev.Skipped = append(ev.Skipped, Skipped{Path: path.Join(prefix, p), Size: -1, Reason: SkipSymlink, Detail: "symbolic link, not followed"})
			return nil
		}
		if !info.Mode().IsRegular() {
			return nil
		}
		kind, err := classify(p, func() (File, error) { return open(p) })
		if err != nil {
			ev.Skipped = append(ev.Skipped, Skipped{Path: path.Join(prefix, p), Size: -1, Reason: SkipUnreadable, Detail: err.Error()})
			return nil
		}
		if kind == "" {
			return nil
		}
		full := path.Join(prefix, p)
		ev.Artifacts = append(ev.Artifacts, &Artifact{
			Root: ev.Root, Path: full, WinPath: WindowsPath(full), Kind: kind,
			Size: info.Size(), ModTime: info.ModTime().UTC(),
			open: func() (File, error) { return open(p) },
		})
		return nil
	}
	if len(only) > 0 {
		for _, name := range only {
			d, err := fs.Stat(fsys, name)
			if err != nil {
				return err
			}
			if err := visit(name, fs.FileInfoToDirEntry(d)); err != nil {
				return err
			}
		}
		return nil
	}
	return fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			ev.Skipped = append(ev.Skipped, Skipped{Path: path.Join(prefix, p), Size: -1, Reason: SkipUnreadable, Detail: err.Error()})
			if d != nil && d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		return visit(p, d)
	})
}

func (ev *Evidence) openZip(root string) error {
	zr, err := zip.OpenReader(root)
	if err != nil {
		return fmt.Errorf("collectors: %s: %w", root, err)
	}
	ev.closers = append(ev.closers, zr)
	return ev.walk(zr, "", func(p string) (File, error) { return openZipEntry(&zr.Reader, p) })
}

// openZipEntry inflates one entry into memory, since parsers need random
// access; the entry's declared size is checked before allocating.
func openZipEntry(zr *zip.Reader, name string) (File, error) {
	f, err := zr.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.Size() > maxInMemoryEntry {
		return nil, fmt.Errorf("collectors: zip entry %s of %d bytes is too large to read into memory", name, st.Size())
	}
	buf := make([]byte, st.Size())
	if _, err := io.ReadFull(f, buf); err != nil {
		return nil, fmt.Errorf("collectors: zip entry %s: %w", name, err)
	}
	return nopCloser{bytes.NewReader(buf)}, nil
}

type nopCloser struct{ *bytes.Reader }

func (nopCloser) Close() error { return nil }

func (ev *Evidence) openImage(root string) error {
	im, err := image.Open(root)
	if err != nil {
		return err
	}
	ev.Image = im
	ev.closers = append(ev.closers, im)
	for _, v := range im.Volumes {
		fsys := v.FS
		err := ev.walk(fsys, v.Name, func(p string) (File, error) {
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
		})
		if err != nil {
			return err
		}
	}
	return nil
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
