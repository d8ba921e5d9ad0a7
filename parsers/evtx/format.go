package evtx

import (
	"encoding/binary"
	"hash/crc32"
)

const (
	fileHeaderSize  = 4096
	chunkSize       = 65536
	chunkHeaderSize = 512
	recordHeaderLen = 24 // magic, size, id, written time
	minRecordSize   = 28 // header plus the trailing size copy
)

var (
	fileMagic   = []byte("ElfFile\x00")
	chunkMagic  = []byte("ElfChnk\x00")
	recordMagic = []byte{0x2a, 0x2a, 0x00, 0x00}
)

// File header flags (offset 120).
const (
	FlagDirty = 0x1
	FlagFull  = 0x2
	FlagNoCRC = 0x4
)

// Header is the file header (the first 4096 bytes).
type Header struct {
	FirstChunk   uint64 // offset 8
	LastChunk    uint64 // offset 16
	NextRecordID uint64 // offset 24
	HeaderSize   uint32 // offset 32, 128
	MinorVersion uint16 // offset 36
	MajorVersion uint16 // offset 38
	BlockSize    uint16 // offset 40, 4096
	ChunkCount   uint16 // offset 42, not trusted: slots are counted from the file size
	Flags        uint32 // offset 120
	CRC          uint32 // offset 124, over bytes 0..119
	CRCValid     bool   // whether CRC matches the header bytes

	Slots int // chunk slots the file size holds
}

// Dirty reports whether the log was not closed cleanly.
func (h Header) Dirty() bool { return h.Flags&FlagDirty != 0 }

// Full reports whether the log reached its maximum size.
func (h Header) Full() bool { return h.Flags&FlagFull != 0 }

// NoCRC reports whether the writer kept no checksums.
func (h Header) NoCRC() bool { return h.Flags&FlagNoCRC != 0 }

func parseHeader(b []byte) Header {
	le := binary.LittleEndian
	h := Header{
		FirstChunk:   le.Uint64(b[8:]),
		LastChunk:    le.Uint64(b[16:]),
		NextRecordID: le.Uint64(b[24:]),
		HeaderSize:   le.Uint32(b[32:]),
		MinorVersion: le.Uint16(b[36:]),
		MajorVersion: le.Uint16(b[38:]),
		BlockSize:    le.Uint16(b[40:]),
		ChunkCount:   le.Uint16(b[42:]),
		Flags:        le.Uint32(b[120:]),
		CRC:          le.Uint32(b[124:]),
	}
	h.CRCValid = crc32.ChecksumIEEE(b[:120]) == h.CRC
	return h
}

// chunkHeader is the first 512 bytes of a chunk.
type chunkHeader struct {
	firstRecordNum uint64 // offset 8
	lastRecordNum  uint64 // offset 16
	firstRecordID  uint64 // offset 24
	lastRecordID   uint64 // offset 32
	lastRecordOff  uint32 // offset 44
	freeSpaceOff   uint32 // offset 48
	recordsCRC     uint32 // offset 52, over [512, free space)
	headerCRC      uint32 // offset 124, over [0,120) ‖ [128,512)
}

func parseChunkHeader(b []byte) chunkHeader {
	le := binary.LittleEndian
	return chunkHeader{
		firstRecordNum: le.Uint64(b[8:]),
		lastRecordNum:  le.Uint64(b[16:]),
		firstRecordID:  le.Uint64(b[24:]),
		lastRecordID:   le.Uint64(b[32:]),
		lastRecordOff:  le.Uint32(b[44:]),
		freeSpaceOff:   le.Uint32(b[48:]),
		recordsCRC:     le.Uint32(b[52:]),
		headerCRC:      le.Uint32(b[124:]),
	}
}

func chunkHeaderCRC(b []byte) uint32 {
	c := crc32.ChecksumIEEE(b[:120])
	return crc32.Update(c, crc32.IEEETable, b[128:chunkHeaderSize])
}
