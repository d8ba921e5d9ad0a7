// Package prefetchwrite writes Windows Prefetch files in the version 30
// layout of Windows 10 1903 and later (file metrics at 0x128, run count at
// 0xC8), uncompressed or as Windows stores them: MAM\x04, the size, and an
// LZXPRESS Huffman stream (MS-XCA §2.2.4) made by this package's encoder.
// It follows libyal's "Windows Prefetch File (PF) format" document and
// shares no code with parsers/prefetch, so that tests built on its files
// check the parser against the format.
//
// Fields the readers do not interpret (trace chains, durations, NTFS file
// references of the loaded files) are written empty or zero.
package prefetchwrite

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf16"
)

// File is the content of one prefetch file.
type File struct {
	Executable string      // upper case, as Windows records it: CMD.EXE
	Path       string      // the executable's full path below the volume, e.g. \WINDOWS\SYSTEM32\CMD.EXE; gives the hash
	RunCount   uint32      // times run
	LastRuns   []time.Time // newest first, at most 8
	Volume     Volume
	Files      []string // files loaded in the first seconds, below the volume (\WINDOWS\SYSTEM32\NTDLL.DLL)
}

// Volume is the one volume the program and its files were on.
type Volume struct {
	Serial  uint32
	Created time.Time
	// Device is the kernel's name for the volume, which the hash is taken
	// over; \DEVICE\HARDDISKVOLUME3 (the system volume of a default
	// Windows 10 install) when empty.
	Device string
}

func (v Volume) device() string {
	if v.Device == "" {
		return `\DEVICE\HARDDISKVOLUME3`
	}
	return v.Device
}

// DevicePath is the volume's device path as Windows 10 writes it in
// prefetch files: \VOLUME{<creation FILETIME>-<serial>}.
func (v Volume) DevicePath() string {
	return fmt.Sprintf(`\VOLUME{%016x-%08x}`, filetime(v.Created), v.Serial)
}

const (
	version      = 30
	metricsStart = 0x128 // the end of the header and file information
	metricSize   = 32
	volumeSize   = 96
)

// Hash is the prefetch hash of the executable's kernel path, which names
// the file (CMD.EXE-0BD30981.pf): 314159, then for each byte of the path in
// upper-case UTF-16LE, times 37 plus the byte.
func (f *File) Hash() uint32 {
	h := uint32(314159)
	for _, b := range utf16le(strings.ToUpper(f.Volume.device() + f.Path)) {
		h = h*37 + uint32(b)
	}
	return h
}

// Name is the file name Windows gives the prefetch file.
func (f *File) Name() string {
	return fmt.Sprintf("%s-%08X.pf", f.Executable, f.Hash())
}

// Uncompressed returns the SCCA data of f.
func (f *File) Uncompressed() ([]byte, error) {
	if len(f.LastRuns) > 8 {
		return nil, errors.New("prefetchwrite: more than 8 run times")
	}
	name := utf16le(f.Executable)
	if len(name) > 58 {
		return nil, fmt.Errorf("prefetchwrite: executable name %q longer than 29 characters", f.Executable)
	}
	le := binary.LittleEndian
	dev := f.Volume.DevicePath()

	// Filename strings: each loaded file's full path, NUL-terminated.
	var names []byte
	var metrics []byte
	for i, p := range f.Files {
		full := dev + p
		m := make([]byte, metricSize)
		le.PutUint32(m[0:], uint32(i)) // start time, as a trace chain index
		le.PutUint32(m[12:], uint32(len(names)))
		le.PutUint32(m[16:], uint32(len(utf16.Encode([]rune(full)))))
		metrics = append(metrics, m...)
		names = append(names, utf16le(full)...)
		names = append(names, 0, 0)
	}
	volumes := f.volumeInfo(dev)

	namesOff := metricsStart + len(metrics) // no trace chains are written
	volumesOff := align8(namesOff + len(names))
	size := volumesOff + len(volumes)
	b := make([]byte, size)
	le.PutUint32(b[0:], version)
	copy(b[4:], "SCCA")
	le.PutUint32(b[8:], 0x11) // constant in every version 30 file
	le.PutUint32(b[12:], uint32(size))
	copy(b[16:76], name)
	le.PutUint32(b[76:], f.Hash())
	le.PutUint32(b[84:], metricsStart)
	le.PutUint32(b[88:], uint32(len(f.Files)))
	le.PutUint32(b[92:], uint32(namesOff)) // trace chain array: empty
	le.PutUint32(b[100:], uint32(namesOff))
	le.PutUint32(b[104:], uint32(len(names)))
	le.PutUint32(b[108:], uint32(volumesOff))
	le.PutUint32(b[112:], 1)
	le.PutUint32(b[116:], uint32(len(volumes)))
	for i, t := range f.LastRuns {
		le.PutUint64(b[0x80+8*i:], filetime(t))
	}
	le.PutUint32(b[0xc8:], f.RunCount)
	copy(b[metricsStart:], metrics)
	copy(b[namesOff:], names)
	copy(b[volumesOff:], volumes)
	return b, nil
}

// volumeInfo is the volume information section: the one entry, its device
// path, and the directory strings of every folder the files lie in.
func (f *File) volumeInfo(dev string) []byte {
	le := binary.LittleEndian
	e := make([]byte, volumeSize)
	path := utf16le(dev)
	le.PutUint32(e[0:], volumeSize)
	le.PutUint32(e[4:], uint32(len(path)/2))
	le.PutUint64(e[8:], filetime(f.Volume.Created))
	le.PutUint32(e[16:], f.Volume.Serial)
	out := append(e, path...)
	out = append(out, 0, 0)
	dirs := f.directories(dev)
	le.PutUint32(out[28:], uint32(len(out)))
	le.PutUint32(out[32:], uint32(len(dirs)))
	for _, d := range dirs {
		u := utf16le(d)
		out = le.AppendUint16(out, uint16(len(u)/2))
		out = append(out, u...)
		out = append(out, 0, 0)
	}
	return out
}

// directories lists the folders holding the files and the executable, each
// with its parents, in the order first seen.
func (f *File) directories(dev string) []string {
	seen := map[string]bool{}
	var dirs []string
	for _, p := range append([]string{f.Path}, f.Files...) {
		parts := strings.Split(strings.Trim(p, `\`), `\`)
		for i := 1; i < len(parts); i++ {
			d := dev + `\` + strings.Join(parts[:i], `\`)
			if !seen[d] {
				seen[d] = true
				dirs = append(dirs, d)
			}
		}
	}
	return dirs
}

// Compressed returns f as Windows 10 stores it: MAM\x04, the uncompressed
// size, and the LZXPRESS Huffman stream.
func (f *File) Compressed() ([]byte, error) {
	raw, err := f.Uncompressed()
	if err != nil {
		return nil, err
	}
	out := []byte("MAM\x04")
	out = binary.LittleEndian.AppendUint32(out, uint32(len(raw)))
	return append(out, CompressHuffman(raw)...), nil
}

func align8(n int) int { return (n + 7) &^ 7 }

func filetime(t time.Time) uint64 {
	if t.IsZero() {
		return 0
	}
	return uint64(t.UnixNano()/100 + 116444736000000000)
}

func utf16le(s string) []byte {
	var b []byte
	for _, u := range utf16.Encode([]rune(s)) {
		b = binary.LittleEndian.AppendUint16(b, u)
	}
	return b
}
