// Package image reads disk images (raw/dd with MBR or GPT, E01, VHD, VHDX,
// or any of these inside a zip) without mounting them, and exposes each NTFS
// volume as an fs.FS.
package image

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"triage/collectors/image/ewf"
	"triage/collectors/image/ntfsfs"
	"triage/collectors/image/partition"
	"triage/collectors/image/vhd"
	"triage/collectors/image/vhdx"
)

// ErrNotImage is returned by Open for a file that is not a disk image.
var ErrNotImage = errors.New("image: not a disk image")

// ErrNoVolume is returned by Open when an image holds no readable NTFS volume.
var ErrNoVolume = errors.New("image: no readable NTFS volume")

// Image is an opened disk image.
type Image struct {
	Format       string            // "raw", "e01", "vhd", "vhdx"
	Size         int64             // logical size of the disk in bytes
	Segments     []string          // the files that make up the image
	StoredHashes map[string]string // hashes the image format records ("md5", "sha1"), lowercase hex
	Volumes      []Volume

	// Scheme is the partition table: "mbr", "gpt" or "none" (a bare volume).
	Scheme string
	// Container is "zip" when the image was read from inside a zip archive.
	Container string
	// Inflater names the decoder of compressed E01 chunks (ewf.Inflater):
	// "libdeflate (<file>)" or "go (<why libdeflate is not used>)"; empty
	// for other formats.
	Inflater string
	// Verification is the result of recomputing StoredHashes over the whole
	// disk; nil when the format stores no hash or verification was off.
	Verification *Verification
	// Problems lists damage found while opening (skipped partitions, missing
	// chunks, unreadable volumes), each naming its offset.
	Problems []string

	disk    io.ReaderAt
	closers []io.Closer
	temp    []string
}

// Verification compares the hashes stored in the image with those computed.
type Verification struct {
	Computed map[string]string // "md5", "sha1" → lowercase hex
	Match    map[string]bool   // per stored hash
	Err      string            // non-empty when the disk could not be read to the end
}

// OK reports whether every stored hash matched.
func (v *Verification) OK() bool {
	if v == nil || v.Err != "" || len(v.Match) == 0 {
		return false
	}
	for _, ok := range v.Match {
		if !ok {
			return false
		}
	}
	return true
}

// Volume is one NTFS partition of an image. Files opened from FS implement
// io.ReaderAt, and their Stat gives size and modification time.
type Volume struct {
	Name   string // "p1", "p2", … in partition-table order; "p0" for a bare volume
	Offset int64  // byte offset of the volume in the disk
	Size   int64
	FS     fs.FS
}

// Options tunes Open.
type Options struct {
	// TempDir receives a deflated zip entry spilled to disk; os.TempDir()
	// when empty. The spilled file is removed by Close.
	TempDir string
	// SkipVerify skips recomputing the stored E01 hashes (which reads the
	// whole image once).
	SkipVerify bool
}

// Detect reports whether path looks like a disk image (by content), without
// opening it fully.
func Detect(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		return false
	}
	if sniff(f, st.Size()) != "" {
		return true
	}
	zr, err := zip.NewReader(f, st.Size())
	if err != nil {
		return false
	}
	for _, zf := range zr.File {
		if imageName(zf.Name) {
			return true
		}
	}
	return false
}

// imageName is the extension test used only for entries inside a zip, whose
// content cannot be sniffed without decompressing.
func imageName(name string) bool {
	ext := strings.ToLower(filepath.Ext(name))
	switch ext {
	case ".vhd", ".vhdx", ".dd", ".raw", ".img":
		return true
	}
	return len(ext) == 4 && ext[1] == 'e' // .e01 … .e99, .eaa … segments

}

// sniff returns the format of r by its content, or "".
func sniff(r io.ReaderAt, size int64) string {
	head := make([]byte, 512)
	n, _ := r.ReadAt(head, 0)
	head = head[:n]
	switch {
	case bytes.HasPrefix(head, []byte("EVF\x09\x0d\x0a\xff\x00")):
		return "e01"
	case bytes.HasPrefix(head, []byte("vhdxfile")):
		return "vhdx"
	case vhd.IsVHD(r, size):
		return "vhd"
	case n == 512 && bytes.Equal(head[3:11], []byte("NTFS    ")):
		return "raw"
	case n == 512 && head[510] == 0x55 && head[511] == 0xAA && size%512 == 0 && size >= 64*1024:
		// A boot-sector signature alone is common in non-images; require a
		// partition that the table actually describes.
		if parts, scheme, err := partition.Read(r, size); err == nil && scheme != "none" && len(parts) > 0 {
			return "raw"
		}
	}
	return ""
}

// Open opens the disk image at path with default options.
func Open(path string) (*Image, error) { return OpenWith(path, Options{}) }

// OpenWith opens the disk image at path.
func OpenWith(path string, opt Options) (im *Image, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("image: %w", err)
	}
	im = &Image{closers: []io.Closer{f}, StoredHashes: map[string]string{}, Segments: []string{path}}
	defer func() {
		if err != nil {
			im.Close()
			im = nil
		}
	}()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("image: %w", err)
	}
	format := sniff(f, st.Size())
	if format == "" {
		zr, zerr := zip.NewReader(f, st.Size())
		if zerr != nil {
			return nil, ErrNotImage
		}
		return im, im.openZip(path, zr, f, opt)
	}
	var more func(string) (io.ReaderAt, int64, error)
	if format == "e01" {
		more = func(name string) (io.ReaderAt, int64, error) {
			g, err := os.Open(filepath.Join(filepath.Dir(path), name))
			if err != nil {
				return nil, 0, err
			}
			im.closers = append(im.closers, g)
			im.Segments = append(im.Segments, g.Name())
			gs, err := g.Stat()
			if err != nil {
				return nil, 0, err
			}
			return g, gs.Size(), nil
		}
	}
	return im, im.openDisk(format, filepath.Base(path), f, st.Size(), more, opt)
}

// openDisk decodes the container format and finds the volumes. more opens a
// sibling E01 segment by base name.
func (im *Image) openDisk(format, name string, r io.ReaderAt, size int64, more func(string) (io.ReaderAt, int64, error), opt Options) error {
	im.Format = format
	switch format {
	case "raw":
		im.disk, im.Size = r, size
	case "vhd":
		v, err := vhd.NewReader(r, size)
		if err != nil {
			return fmt.Errorf("image: %s: %w", name, err)
		}
		im.disk, im.Size = v, v.Size()
	case "vhdx":
		v, err := vhdx.NewReader(r, size)
		if err != nil {
			return fmt.Errorf("image: %s: %w", name, err)
		}
		im.disk, im.Size = v, v.Size()
	case "e01":
		segs := []ewf.Segment{{R: r, Size: size}}
		for _, next := range ewf.SegmentNames(name) {
			if more == nil {
				break
			}
			sr, ss, err := more(next)
			if err != nil {
				break
			}
			segs = append(segs, ewf.Segment{R: sr, Size: ss})
		}
		e, err := ewf.NewReader(segs)
		if err != nil {
			return fmt.Errorf("image: %s: %w", name, err)
		}
		for _, p := range e.Problems {
			im.Problems = append(im.Problems, p.Error())
		}
		im.disk, im.Size, im.Inflater = e, e.Size(), ewf.Inflater()
		if e.StoredMD5 != "" {
			im.StoredHashes["md5"] = e.StoredMD5
		}
		if e.StoredSHA1 != "" {
			im.StoredHashes["sha1"] = e.StoredSHA1
		}
		if !opt.SkipVerify && len(im.StoredHashes) > 0 {
			im.Verification = verify(e)
		}
	default:
		return ErrNotImage
	}
	return im.findVolumes()
}

func verify(e *ewf.Reader) *Verification {
	v := &Verification{Computed: map[string]string{}, Match: map[string]bool{}}
	res, err := e.Verify()
	if err != nil {
		v.Err = err.Error()
		return v
	}
	v.Computed["md5"], v.Computed["sha1"] = res.MD5, res.SHA1
	if res.StoredMD5 != "" {
		v.Match["md5"] = res.MD5Match
	}
	if res.StoredSHA1 != "" {
		v.Match["sha1"] = res.SHA1Match
	}
	return v
}

func (im *Image) findVolumes() error {
	parts, scheme, err := partition.Read(im.disk, im.Size)
	im.Scheme = scheme
	if err != nil {
		im.Problems = append(im.Problems, err.Error())
	}
	if scheme == "none" {
		parts = []partition.Partition{{Index: 0, Offset: 0, Size: im.Size}}
	}
	for _, p := range parts {
		name := fmt.Sprintf("p%d", p.Index)
		fsys, err := ntfsfs.New(io.NewSectionReader(im.disk, p.Offset, p.Size), p.Size)
		if err != nil {
			if !errors.Is(err, ntfsfs.ErrNotNTFS) {
				im.Problems = append(im.Problems, fmt.Sprintf("image: volume %s at offset %#x: %v", name, p.Offset, err))
			}
			continue
		}
		im.Volumes = append(im.Volumes, Volume{Name: name, Offset: p.Offset, Size: p.Size, FS: fsys})
	}
	if len(im.Volumes) == 0 {
		return fmt.Errorf("%w (%s, %s partition table, %d partitions)", ErrNoVolume, im.Format, scheme, len(parts))
	}
	return nil
}

// openZip opens the first disk image inside a zip archive. Stored entries
// are read in place; deflated ones are spilled to a temporary file.
func (im *Image) openZip(path string, zr *zip.Reader, f *os.File, opt Options) error {
	im.Container = "zip"
	byName := map[string]*zip.File{}
	var names []string
	for _, zf := range zr.File {
		if imageName(zf.Name) {
			byName[strings.ToLower(zf.Name)] = zf
			names = append(names, zf.Name)
		}
	}
	sort.Strings(names)
	if len(names) == 0 {
		return ErrNotImage
	}
	open := func(zf *zip.File) (io.ReaderAt, int64, error) {
		im.Segments = append(im.Segments, path+"!"+zf.Name)
		size := int64(zf.UncompressedSize64)
		if zf.Method == zip.Store {
			off, err := zf.DataOffset()
			if err != nil {
				return nil, 0, fmt.Errorf("image: zip entry %s: %w", zf.Name, err)
			}
			return io.NewSectionReader(f, off, size), size, nil
		}
		return im.spill(zf, opt.TempDir)
	}
	first := byName[strings.ToLower(names[0])]
	// Prefer the first segment of an E01 set.
	for _, n := range names {
		if strings.EqualFold(filepath.Ext(n), ".e01") {
			first = byName[strings.ToLower(n)]
			break
		}
	}
	r, size, err := open(first)
	if err != nil {
		return err
	}
	format := sniff(r, size)
	if format == "" {
		return fmt.Errorf("%w: zip entry %s", ErrNotImage, first.Name)
	}
	// Segment names derive from the first entry's full name, directory included.
	more := func(name string) (io.ReaderAt, int64, error) {
		zf, ok := byName[strings.ToLower(name)]
		if !ok {
			return nil, 0, fs.ErrNotExist
		}
		return open(zf)
	}
	return im.openDisk(format, first.Name, r, size, more, Options{TempDir: opt.TempDir, SkipVerify: opt.SkipVerify})
}

func (im *Image) spill(zf *zip.File, dir string) (io.ReaderAt, int64, error) {
	rc, err := zf.Open()
	if err != nil {
		return nil, 0, fmt.Errorf("image: zip entry %s: %w", zf.Name, err)
	}
	defer rc.Close()
	tmp, err := os.CreateTemp(dir, "triage-image-*")
	if err != nil {
		return nil, 0, fmt.Errorf("image: spilling zip entry %s: %w", zf.Name, err)
	}
	im.closers = append(im.closers, tmp)
	im.temp = append(im.temp, tmp.Name())
	n, err := io.Copy(tmp, rc)
	if err != nil {
		return nil, 0, fmt.Errorf("image: spilling zip entry %s to %s after %d bytes: %w", zf.Name, tmp.Name(), n, err)
	}
	return tmp, n, nil
}

// Close releases the image's files and removes spilled temporary files.
func (im *Image) Close() error {
	if im == nil {
		return nil
	}
	var first error
	for _, c := range im.closers {
		if err := c.Close(); err != nil && first == nil {
			first = err
		}
	}
	im.closers = nil
	for _, t := range im.temp {
		if err := os.Remove(t); err != nil && first == nil {
			first = err
		}
	}
	im.temp = nil
	return first
}
