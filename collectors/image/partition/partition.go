// Package partition reads MBR and GPT partition tables.
package partition

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
)

// Partition is one entry of a partition table.
type Partition struct {
	Index  int    // 1-based position in the table
	Offset int64  // bytes from the start of the disk
	Size   int64  // bytes
	Type   string // MBR type byte as "0x07", or the GPT type GUID
}

// FormatError reports a malformed partition table.
type FormatError struct {
	Offset int64
	Msg    string
}

func (e *FormatError) Error() string {
	return fmt.Sprintf("partition: %s at offset %#x", e.Msg, e.Offset)
}

const sectorSize = 512

// maxGPTEntries bounds the entry array read from a hostile header.
const maxGPTEntries = 1024

// Read returns the partitions of a disk of the given size, or (nil, "none",
// nil) when sector 0 carries no partition table. scheme is "mbr" or "gpt".
func Read(r io.ReaderAt, size int64) (parts []Partition, scheme string, err error) {
	mbr := make([]byte, sectorSize)
	if _, err := r.ReadAt(mbr, 0); err != nil {
		return nil, "none", fmt.Errorf("partition: reading sector 0: %w", err)
	}
	if mbr[510] != 0x55 || mbr[511] != 0xAA || bytes.Equal(mbr[3:11], []byte("NTFS    ")) {
		return nil, "none", nil
	}
	protective := false
	for i := 0; i < 4; i++ {
		e := mbr[446+16*i : 446+16*(i+1)]
		kind := e[4]
		start := int64(binary.LittleEndian.Uint32(e[8:])) * sectorSize
		count := int64(binary.LittleEndian.Uint32(e[12:])) * sectorSize
		if kind == 0 || count == 0 {
			continue
		}
		if kind == 0xEE {
			protective = true
			continue
		}
		if start >= size {
			return parts, "mbr", &FormatError{int64(446 + 16*i), fmt.Sprintf("partition %d starts beyond the disk", i+1)}
		}
		if start+count > size {
			count = size - start
		}
		parts = append(parts, Partition{Index: i + 1, Offset: start, Size: count, Type: fmt.Sprintf("0x%02x", kind)})
	}
	if protective {
		return readGPT(r, size)
	}
	return parts, "mbr", nil
}

func readGPT(r io.ReaderAt, size int64) ([]Partition, string, error) {
	hdr := make([]byte, 92)
	if _, err := r.ReadAt(hdr, sectorSize); err != nil {
		return nil, "gpt", fmt.Errorf("partition: reading GPT header at offset 0x200: %w", err)
	}
	if string(hdr[:8]) != "EFI PART" {
		return nil, "gpt", &FormatError{sectorSize, "bad GPT header signature"}
	}
	entriesLBA := int64(binary.LittleEndian.Uint64(hdr[72:]))
	count := binary.LittleEndian.Uint32(hdr[80:])
	entrySize := binary.LittleEndian.Uint32(hdr[84:])
	if count > maxGPTEntries || entrySize < 128 || entrySize > 4096 || entriesLBA <= 0 || entriesLBA > size/sectorSize {
		return nil, "gpt", &FormatError{sectorSize + 72, "implausible GPT entry array"}
	}
	table := make([]byte, int64(count)*int64(entrySize))
	if _, err := r.ReadAt(table, entriesLBA*sectorSize); err != nil && err != io.EOF {
		return nil, "gpt", fmt.Errorf("partition: reading GPT entries at offset %#x: %w", entriesLBA*sectorSize, err)
	}
	var parts []Partition
	for i := 0; i < int(count); i++ {
		e := table[i*int(entrySize):]
		if bytes.Equal(e[:16], make([]byte, 16)) {
			continue
		}
		first := int64(binary.LittleEndian.Uint64(e[32:]))
		last := int64(binary.LittleEndian.Uint64(e[40:]))
		if first <= 0 || last < first || first > size/sectorSize {
			continue
		}
		length := (last - first + 1) * sectorSize
		if first*sectorSize+length > size {
			length = size - first*sectorSize
		}
		parts = append(parts, Partition{Index: i + 1, Offset: first * sectorSize, Size: length, Type: guidString(e[:16])})
	}
	return parts, "gpt", nil
}

// guidString formats a GUID stored in Microsoft's mixed-endian layout.
func guidString(b []byte) string {
	return fmt.Sprintf("%08x-%04x-%04x-%x-%x", binary.LittleEndian.Uint32(b), binary.LittleEndian.Uint16(b[4:]),
		binary.LittleEndian.Uint16(b[6:]), b[8:10], b[10:16])
}
