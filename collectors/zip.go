package collectors

import (
	"archive/zip"
	"compress/flate"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"strings"
	"sync"
)

// Default bounds of a zip's expansion (Options). An entry is never held in
// memory whatever its size; these bound the disk and time spent on
// temporary copies and hashing, and stop a zip bomb before it is inflated.
const (
	// DefaultMaxEntrySize is above any event log a Windows host keeps.
	DefaultMaxEntrySize = 4 << 30
	// DefaultMaxExpansion bounds the sum of the entries read from one zip.
	DefaultMaxExpansion = 64 << 30
	// DefaultMaxExpansionRatio is three times the most compressible event
	// log of the corpus (65:1); deflate reaches about 1,030:1 on zeros.
	DefaultMaxExpansionRatio = 200
	// ratioFloor is the size up to which an entry is never refused for its
	// ratio: small files of padding compress far better than logs, and cost
	// nothing to inflate.
	ratioFloor = 1 << 20
)

func (o Options) withDefaults() Options {
	if o.MaxEntrySize <= 0 {
		o.MaxEntrySize = DefaultMaxEntrySize
	}
	if o.MaxExpansion <= 0 {
		o.MaxExpansion = DefaultMaxExpansion
	}
	if o.MaxExpansionRatio <= 0 {
		o.MaxExpansionRatio = DefaultMaxExpansionRatio
	}
	return o
}

// openZip lists every entry of the zip at root. The central directory is
// walked entry by entry rather than through io/fs, which refuses a whole
// folder when two entries share a name and every name that is not UTF-8.
// Names are kept as stored, byte for byte (an entry without the UTF-8 flag
// is not re-encoded from code page 437); they label artifacts and are never
// used to write a file.
func (ev *Evidence) openZip(root string) error {
	f, err := os.Open(root)
	if err != nil {
		return fmt.Errorf("collectors: %w", err)
	}
	ev.closers = append(ev.closers, f)
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("collectors: %w", err)
	}
	zr, err := zip.NewReader(f, st.Size())
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		return fmt.Errorf("collectors: %s: %w", root, err)
	}
	seen := make(map[string]int, len(zr.File))
	for i, zf := range zr.File {
		if first, dup := seen[zf.Name]; dup {
			ev.skip(zf.Name, declaredSize(zf), SkipDuplicateEntry,
				fmt.Sprintf("entry %d of the zip has the name of entry %d, which was read", i+1, first+1))
			continue
		}
		seen[zf.Name] = i
		ev.addZipEntry(zf, f, st.Size())
	}
	return nil
}

// declaredSize is the entry's uncompressed size as the central directory
// states it, or -1 when it does not fit an int64.
func declaredSize(zf *zip.File) int64 {
	if zf.UncompressedSize64 > 1<<62 {
		return -1
	}
	return int64(zf.UncompressedSize64)
}

func (ev *Evidence) addZipEntry(zf *zip.File, archive io.ReaderAt, archiveSize int64) {
	name, size := zf.Name, declaredSize(zf)
	mode := zf.Mode()
	switch {
	case (strings.HasSuffix(name, "/") || mode.IsDir()) && zf.UncompressedSize64 == 0:
		return // a folder: its files are entries of their own
	case strings.HasSuffix(name, "/"):
		ev.skip(name, size, SkipNotArtifact, "a folder entry that holds data")
		return
	// An entry with data and a folder attribute but a file's name is read
	// as a file: an attribute must not hide an event log.
	case mode&fs.ModeSymlink != 0:
		ev.skip(name, size, SkipSymlink, "symbolic link entry, not followed")
		return
	case mode&(fs.ModeNamedPipe|fs.ModeSocket|fs.ModeDevice|fs.ModeCharDevice) != 0:
		ev.skip(name, size, SkipSpecial, fileType(mode)+" entry")
		return
	case len(name) > MaxPathLength:
		ev.skip(name, size, SkipNameTooLong, fmt.Sprintf("path of %d bytes, over the %d-byte limit", len(name), MaxPathLength))
		return
	case zf.Flags&0x1 != 0:
		ev.skip(name, size, SkipUnreadable, "encrypted entry")
		return
	case zf.Method != zip.Store && zf.Method != zip.Deflate:
		ev.skip(name, size, SkipUnreadable, fmt.Sprintf("compression method %d is not supported (only stored and deflated entries are)", zf.Method))
		return
	}
	e := &zipEntry{zf: zf, ev: ev, archive: archive}
	r, err := e.stream()
	if err != nil {
		ev.skipErr(name, size, err)
		return
	}
	// Only the first bytes are inflated: a damaged entry is still
	// classified by its name, and its reader reports the damage.
	head, _ := readHead(r)
	r.Close()
	kind := classify(name, head)
	if kind == "" {
		ev.skip(name, size, SkipNotArtifact, "")
		return
	}
	if skipped, detail := ev.overBounds(zf, archiveSize); skipped != "" {
		ev.skip(name, size, skipped, detail)
		return
	}
	ev.expanded += size
	a := &Artifact{Root: ev.Root, Path: name, WinPath: WindowsPath(name), Kind: kind, Size: size, ModTime: zf.Modified.UTC()}
	e.artifact = a
	a.open = e.open
	if zf.Method == zip.Store && zf.CompressedSize64 != zf.UncompressedSize64 {
		a.addProblem(fmt.Sprintf("zip: stored entry with %d bytes of data declares %d bytes", zf.CompressedSize64, zf.UncompressedSize64))
	}
	ev.Artifacts = append(ev.Artifacts, a)
}

// overBounds applies Options to an entry about to become an artifact, from
// its declared sizes; a declared size that lies is caught while the entry is
// read, which never goes past it.
func (ev *Evidence) overBounds(zf *zip.File, archiveSize int64) (SkipReason, string) {
	o := ev.opts
	size := declaredSize(zf)
	if size < 0 || size > o.MaxEntrySize {
		return SkipTooLarge, fmt.Sprintf("declares %d bytes, over the %d-byte limit for one entry", zf.UncompressedSize64, o.MaxEntrySize)
	}
	if zf.Method == zip.Deflate && size > ratioFloor {
		packed := int64(zf.CompressedSize64)
		if zf.CompressedSize64 > uint64(archiveSize) {
			packed = archiveSize // the data cannot be larger than the zip
		}
		if packed <= 0 || size/o.MaxExpansionRatio > packed {
			return SkipExpansionLimit, fmt.Sprintf("declares %d bytes from %d compressed, over the %d:1 expansion ratio limit", size, packed, o.MaxExpansionRatio)
		}
	}
	if ev.expanded+size > o.MaxExpansion {
		return SkipExpansionLimit, fmt.Sprintf("the entries read before it expand to %d bytes; with its %d bytes the zip would pass the %d-byte expansion limit", ev.expanded, size, o.MaxExpansion)
	}
	return "", ""
}

// zipEntry opens one zip entry taken as an artifact.
type zipEntry struct {
	zf       *zip.File
	ev       *Evidence
	archive  io.ReaderAt // the zip file
	artifact *Artifact

	spillOnce sync.Once
	spillPath string
	spillErr  error
}

// stream returns the entry's content as stored (inflated, unverified).
func (e *zipEntry) stream() (io.ReadCloser, error) {
	raw, err := e.zf.OpenRaw()
	if err != nil {
		return nil, err
	}
	if e.zf.Method == zip.Store {
		return io.NopCloser(raw), nil
	}
	return flate.NewReader(raw), nil
}

// verified returns the entry's content checked against its declared size
// and CRC-32; a difference becomes one of the artifact's problems.
func (e *zipEntry) verified() (*verifier, error) {
	r, err := e.stream()
	if err != nil {
		return nil, err
	}
	return &verifier{r: r, size: int64(e.zf.UncompressedSize64), crc: e.zf.CRC32, report: e.artifact.addProblem}, nil
}

// open serves an artifact's reads. A stored entry is read in place. A
// deflated event log or prefetch file, which the parsers read at random, is
// inflated once to a temporary file under Options.TempDir; a deflated text
// file, read from its start, is inflated as a stream (as is everything when
// there is no TempDir).
func (e *zipEntry) open() (File, error) {
	size := int64(e.zf.UncompressedSize64)
	if e.zf.Method == zip.Store {
		off, err := e.zf.DataOffset()
		if err != nil {
			return nil, err
		}
		stored := io.NewSectionReader(e.archive, off, int64(e.zf.CompressedSize64))
		v := &verifier{r: io.NopCloser(io.NewSectionReader(stored, 0, stored.Size())), size: size, crc: e.zf.CRC32, report: e.artifact.addProblem}
		return &storedFile{verifier: v, at: stored}, nil
	}
	if e.ev.opts.TempDir != "" && (e.artifact.Kind == EVTX || e.artifact.Kind == Prefetch) {
		return e.openSpilled()
	}
	return &streamFile{entry: e, size: size}, nil
}

// openSpilled inflates the entry to a temporary file the first time, and
// opens that copy read-only.
func (e *zipEntry) openSpilled() (File, error) {
	e.spillOnce.Do(func() { e.spillPath, e.spillErr = e.spill() })
	if e.spillErr != nil {
		return nil, e.spillErr
	}
	return os.Open(e.spillPath)
}

func (e *zipEntry) spill() (string, error) {
	tmp, err := os.CreateTemp(e.ev.opts.TempDir, "zip-entry-*")
	if err != nil {
		return "", fmt.Errorf("collectors: temporary copy of zip entry: %w", err)
	}
	e.ev.tempMu.Lock()
	e.ev.temp = append(e.ev.temp, tmp.Name())
	e.ev.tempMu.Unlock()
	v, err := e.verified()
	if err == nil {
		_, err = io.Copy(tmp, v)
		v.Close()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", fmt.Errorf("collectors: temporary copy of zip entry in %s: %w", e.ev.opts.TempDir, err)
	}
	return tmp.Name(), nil
}

// verifier reads an entry to its declared size and no further, and at the
// end compares the CRC-32 with the stored one. What does not match is
// reported as a problem and the content read so far is kept: a truncated or
// corrupt entry is parsed as far as it goes and marked damaged, never
// silently taken whole.
type verifier struct {
	r      io.ReadCloser
	size   int64
	crc    uint32
	report func(string)
	sum    uint32
	n      int64
	done   bool
}

func (v *verifier) Read(p []byte) (int, error) {
	if v.done {
		return 0, io.EOF
	}
	if v.n >= v.size {
		v.finish()
		return 0, io.EOF
	}
	if int64(len(p)) > v.size-v.n {
		p = p[:v.size-v.n]
	}
	n, err := v.r.Read(p)
	v.sum = crc32.Update(v.sum, crc32.IEEETable, p[:n])
	v.n += int64(n)
	switch {
	case err == nil:
		return n, nil
	case err == io.EOF:
		v.done = true
		if v.n < v.size {
			v.report(fmt.Sprintf("zip: entry ends after %d of its declared %d bytes", v.n, v.size))
		} else {
			v.check()
		}
		return n, io.EOF
	case errors.As(err, new(flate.CorruptInputError)), errors.Is(err, io.ErrUnexpectedEOF):
		v.done = true
		v.report(fmt.Sprintf("zip: entry damaged after %d of its declared %d bytes: %v", v.n, v.size, err))
		return n, io.EOF
	}
	return n, fmt.Errorf("zip entry at byte %d: %w", v.n, err)
}

// finish runs once the declared size is reached: one byte more means the
// entry holds more than it declares.
func (v *verifier) finish() {
	v.done = true
	var b [1]byte
	if k, _ := io.ReadFull(v.r, b[:]); k > 0 {
		v.report(fmt.Sprintf("zip: entry holds more than its declared %d bytes; read up to the declared size", v.size))
		return
	}
	v.check()
}

func (v *verifier) check() {
	if v.sum != v.crc {
		v.report(fmt.Sprintf("zip: CRC-32 of the entry is %#08x, stored %#08x", v.sum, v.crc))
	}
}

func (v *verifier) Close() error { return v.r.Close() }

// storedFile is a stored entry: read in place at random, and verified when
// read through as a stream.
type storedFile struct {
	*verifier
	at *io.SectionReader
}

func (f *storedFile) ReadAt(p []byte, off int64) (int, error) {
	if off >= f.size {
		return 0, io.EOF
	}
	if int64(len(p)) > f.size-off {
		n, err := f.at.ReadAt(p[:f.size-off], off)
		if err == nil {
			err = io.EOF
		}
		return n, err
	}
	return f.at.ReadAt(p, off)
}

// streamFile is a deflated entry read without a temporary copy: reads go
// forward through the inflater, the last streamWindow bytes are kept so
// that a parser reading back within a chunk does not start over, and a read
// before that inflates again from the start. Text is read from the start to
// the end, so each pass inflates the entry once.
type streamFile struct {
	entry *zipEntry
	size  int64
	mu    sync.Mutex
	v     *verifier // nil until the first read
	pos   int64     // bytes read from v
	win   []byte    // the bytes just before pos, at most streamWindow of them
}

// streamWindow is what a streamFile keeps behind its position: an event
// log chunk is 64 KiB.
const streamWindow = 1 << 20

func (f *streamFile) Read(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.v == nil {
		if err := f.rewind(); err != nil {
			return 0, err
		}
	}
	f.win = f.win[:0] // a stream reader does not read back
	n, err := f.v.Read(p)
	f.pos += int64(n)
	return n, err
}

func (f *streamFile) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("collectors: negative offset %d", off)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	winStart := f.pos - int64(len(f.win))
	switch {
	case f.v != nil && off >= winStart && off < f.pos:
		n = copy(p, f.win[off-winStart:])
	case f.v == nil || off < winStart:
		if err := f.rewind(); err != nil {
			return 0, err
		}
	}
	for n < len(p) {
		if gap := off + int64(n) - f.pos; gap > 0 {
			if err := f.skip(gap); err != nil {
				return n, err
			}
			continue
		}
		k, err := f.v.Read(p[n:])
		f.remember(p[n : n+k])
		f.pos += int64(k)
		n += k
		if err != nil && n < len(p) {
			return n, err
		}
	}
	return n, nil
}

// skip reads n bytes forward, keeping the last of them in the window.
func (f *streamFile) skip(n int64) error {
	buf := make([]byte, min(n, 32<<10))
	for n > 0 {
		k, err := f.v.Read(buf[:min(n, int64(len(buf)))])
		f.remember(buf[:k])
		f.pos += int64(k)
		n -= int64(k)
		if err != nil {
			return err
		}
	}
	return nil
}

// remember keeps b as the last bytes read, within streamWindow.
func (f *streamFile) remember(b []byte) {
	if len(b) >= streamWindow {
		f.win = append(f.win[:0], b[len(b)-streamWindow:]...)
		return
	}
	if f.win == nil {
		f.win = make([]byte, 0, 2*streamWindow)
	}
	if len(f.win)+len(b) > cap(f.win) {
		keep := streamWindow - len(b)
		copy(f.win, f.win[len(f.win)-keep:])
		f.win = f.win[:keep]
	}
	f.win = append(f.win, b...)
}

func (f *streamFile) rewind() error {
	if f.v != nil {
		f.v.Close()
	}
	v, err := f.entry.verified()
	if err != nil {
		return err
	}
	f.v, f.pos, f.win = v, 0, f.win[:0]
	return nil
}

func (f *streamFile) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.v != nil {
		return f.v.Close()
	}
	return nil
}
