// Package image reads disk images (raw/dd with MBR or GPT, E01, VHD, VHDX,
// or any of these inside a zip) without mounting them, and exposes each NTFS
// volume as an fs.FS.
package image

import (
	"errors"
	"io/fs"
)

// ErrNotImage is returned by Open for a file that is not a disk image.
var ErrNotImage = errors.New("image: not a disk image")

// Image is an opened disk image.
type Image struct {
	Format       string            // "raw", "e01", "vhd", "vhdx"
	Size         int64             // logical size of the disk in bytes
	Segments     []string          // the files that make up the image
	StoredHashes map[string]string // hashes the image format records ("md5", "sha1"), lowercase hex
	Volumes      []Volume
}

// Volume is one NTFS partition of an image. Files opened from FS implement
// io.ReaderAt, and their Stat gives size and modification time.
type Volume struct {
	Name   string // "p1", "p2", … in partition-table order; "p0" for a bare volume
	Offset int64  // byte offset of the volume in the disk
	Size   int64
	FS     fs.FS
}

// Detect reports whether path looks like a disk image (by content), without
// opening it fully.
func Detect(path string) bool { return false }

// Open opens the disk image at path.
func Open(path string) (*Image, error) { return nil, ErrNotImage }

// Close releases the image's files.
func (im *Image) Close() error { return nil }
