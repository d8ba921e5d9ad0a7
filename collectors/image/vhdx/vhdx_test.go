package vhdx

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"testing"
	"time"
)

const kib = 1024

// synthetic builds a small VHDX by the spec's layout: headers at 64 and 128
// KiB, region table at 192 KiB, metadata at 256 KiB, BAT at 320 KiB. Block i
// gets state states[i]; fully present blocks are stored from 1 MiB on, filled
// with byte i+1.
func synthetic(diskSize int64, states []uint64, logGUID bool) []byte {
	const blockSize = mib
	present := 0
	for _, s := range states {
		if s == blockFullyPresent {
			present++
		}
	}
	size := 384 * kib
	if present > 0 {
		size = mib + present*blockSize
	}
	b := make([]byte, size)
	copy(b, "vhdxfile")
	for i, off := range []int{64 * kib, 128 * kib} {
		h := b[off : off+headerSize]
		copy(h, "head")
		binary.LittleEndian.PutUint64(h[8:], uint64(2-i))
		if logGUID {
			h[48] = 1
			binary.LittleEndian.PutUint32(h[68:], mib)
			binary.LittleEndian.PutUint64(h[72:], mib)
		}
		binary.LittleEndian.PutUint16(h[66:], 1)
		binary.LittleEndian.PutUint32(h[4:], crc32.Checksum(h, castagnoli))
	}
	rt := b[192*kib : 192*kib+regionTableSize]
	copy(rt, "regi")
	binary.LittleEndian.PutUint32(rt[8:], 2)
	for i, r := range []struct {
		g   [16]byte
		off int
	}{{guidBAT, 320 * kib}, {guidMetadata, 256 * kib}} {
		e := rt[16+32*i:]
		copy(e, r.g[:])
		binary.LittleEndian.PutUint64(e[16:], uint64(r.off))
		binary.LittleEndian.PutUint32(e[24:], 64*kib)
		binary.LittleEndian.PutUint32(e[28:], 1)
	}
	binary.LittleEndian.PutUint32(rt[4:], crc32.Checksum(rt, castagnoli))
	md := b[256*kib : 320*kib]
	copy(md, "metadata")
	binary.LittleEndian.PutUint16(md[10:], 3)
	for i, it := range []struct {
		g [16]byte
		v uint64
		n int
	}{{guidFileParams, blockSize, 8}, {guidDiskSize, uint64(diskSize), 8}, {guidSectorSize, 512, 4}} {
		e := md[32+32*i:]
		copy(e, it.g[:])
		binary.LittleEndian.PutUint32(e[16:], uint32(4096+8*i))
		binary.LittleEndian.PutUint32(e[20:], uint32(it.n))
		if it.n == 8 {
			binary.LittleEndian.PutUint64(md[4096+8*i:], it.v)
		} else {
			binary.LittleEndian.PutUint32(md[4096+8*i:], uint32(it.v))
		}
	}
	next := mib
	for i, s := range states {
		entry := s
		if s == blockFullyPresent {
			entry |= uint64(next)
			copy(b[next:next+blockSize], bytes.Repeat([]byte{byte(i + 1)}, blockSize))
			next += blockSize
		}
		binary.LittleEndian.PutUint64(b[320*kib+8*i:], entry)
	}
	return b
}

func TestSyntheticBlocks(t *testing.T) {
	img := synthetic(3*mib+512, []uint64{blockFullyPresent, blockZero, blockFullyPresent, blockNotPresent}, false)
	v, err := NewReader(bytes.NewReader(img), int64(len(img)))
	if err != nil {
		t.Fatal(err)
	}
	if v.Size() != 3*mib+512 {
		t.Fatalf("size %d", v.Size())
	}
	got, err := io.ReadAll(io.NewSectionReader(v, 0, v.Size()))
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []byte{1, 0, 3} {
		if !bytes.Equal(got[i*mib:(i+1)*mib], bytes.Repeat([]byte{want}, mib)) {
			t.Errorf("block %d: want bytes %d", i, want)
		}
	}
	if !bytes.Equal(got[3*mib:], make([]byte, 512)) {
		t.Error("not-present block did not read as zeros")
	}
}

func TestLogNotEmptyRefused(t *testing.T) {
	img := synthetic(mib, []uint64{blockZero}, true)
	_, err := NewReader(bytes.NewReader(img), int64(len(img)))
	if !errors.Is(err, ErrLogNotEmpty) {
		t.Fatalf("err %v, want ErrLogNotEmpty", err)
	}
}

func TestDamagedHeaders(t *testing.T) {
	img := synthetic(mib, []uint64{blockZero}, false)
	img[64*kib+100] ^= 0xff // the newer header's checksum now fails; the older copy is used
	if _, err := NewReader(bytes.NewReader(img), int64(len(img))); err != nil {
		t.Fatalf("with one good header: %v", err)
	}
	img[128*kib+100] ^= 0xff
	_, err := NewReader(bytes.NewReader(img), int64(len(img)))
	var fe *FormatError
	if !errors.As(err, &fe) || fe.Offset != 64*kib {
		t.Fatalf("both headers damaged: %v", err)
	}
}

func TestTruncatedPayload(t *testing.T) {
	img := synthetic(2*mib, []uint64{blockFullyPresent, blockFullyPresent}, false)
	img = img[:len(img)-mib/2]
	v, err := NewReader(bytes.NewReader(img), int64(len(img)))
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, mib)
	if _, err := v.ReadAt(buf, 0); err != nil {
		t.Fatalf("intact block: %v", err)
	}
	_, err = v.ReadAt(buf, mib)
	var fe *FormatError
	if !errors.As(err, &fe) {
		t.Fatalf("truncated block: %v", err)
	}
}

// fuzzPieces are the parts of an image that FuzzVHDX mutates: small windows
// at the offsets of each structure, so inputs stay a few hundred bytes while
// the image they expand to keeps the real layout.
var fuzzPieces = []struct{ at, n int }{
	{0, 8}, {64 * kib, 128}, {128 * kib, 128}, {192 * kib, 128},
	{256 * kib, 128}, {256*kib + 4096, 32}, {320 * kib, 128},
}

// contract keeps only the fuzzed windows of an image, then up to 4 KiB of
// its first payload block.
func contract(img []byte) []byte {
	out := []byte{1}
	for _, p := range fuzzPieces {
		out = append(out, img[p.at:p.at+p.n]...)
	}
	if len(img) > mib {
		out = append(out, img[mib:mib+4*kib]...)
	}
	return out
}

// expand rebuilds an image from a fuzz input. When the first byte is odd the
// header and region table checksums are recomputed, so mutations reach the
// structures behind them.
func expand(data []byte) []byte {
	if len(data) == 0 {
		return nil
	}
	fix := data[0]&1 == 1
	data = data[1:]
	total := 0
	for _, p := range fuzzPieces {
		total += p.n
	}
	size := 384 * kib
	if len(data) > total {
		size = mib + len(data) - total
	}
	img := make([]byte, size)
	for _, p := range fuzzPieces {
		n := copy(img[p.at:p.at+p.n], data)
		data = data[n:]
	}
	if len(data) > 0 {
		copy(img[mib:], data)
	}
	if fix {
		for _, off := range []int{64 * kib, 128 * kib} {
			h := img[off : off+headerSize]
			clear(h[4:8])
			binary.LittleEndian.PutUint32(h[4:], crc32.Checksum(h, castagnoli))
		}
		rt := img[192*kib : 192*kib+regionTableSize]
		clear(rt[4:8])
		binary.LittleEndian.PutUint32(rt[4:], crc32.Checksum(rt, castagnoli))
	}
	return img
}

func FuzzVHDX(f *testing.F) {
	f.Add(contract(synthetic(4*mib, []uint64{blockZero, blockNotPresent, blockUnmapped, blockZero}, false)))
	f.Add(contract(synthetic(2*mib, []uint64{blockFullyPresent, blockZero}, false)))
	f.Add(contract(synthetic(mib, []uint64{blockZero}, true)))
	f.Fuzz(func(t *testing.T, data []byte) {
		img := expand(data)
		start := time.Now()
		v, err := NewReader(bytes.NewReader(img), int64(len(img)))
		if err != nil {
			return
		}
		buf := make([]byte, 64*kib)
		for off := int64(0); off < min(v.Size(), 8*mib); off += 512 * kib {
			if _, err := v.ReadAt(buf, off); err != nil {
				break
			}
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Fatalf("took %v", d)
		}
	})
}
