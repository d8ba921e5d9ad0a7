package evtx

import (
	"errors"
	"fmt"
)

// ErrNotEVTX is wrapped by NewReader when the input is not an EVTX file.
var ErrNotEVTX = errors.New("evtx: not an evtx file")

// FormatError reports damaged data and where it was found.
type FormatError struct {
	Offset int64  // file offset of the damaged structure
	Msg    string // what is wrong, lowercase
}

func (e *FormatError) Error() string {
	return fmt.Sprintf("evtx: %s at offset 0x%x", e.Msg, e.Offset)
}

// Kinds of damage, matched with errors.Is against a *FormatError.
var (
	ErrChunkMagic = errors.New("bad chunk magic")
	ErrChunkCRC   = errors.New("chunk crc mismatch")
	ErrRecord     = errors.New("bad record")
	ErrTruncated  = errors.New("truncated file")
)

// Is lets errors.Is classify a FormatError by the kind named at the start of
// its message.
func (e *FormatError) Is(target error) bool {
	switch target {
	case ErrChunkMagic, ErrChunkCRC, ErrRecord, ErrTruncated:
		msg := target.Error()
		return len(e.Msg) >= len(msg) && e.Msg[:len(msg)] == msg
	}
	return false
}

func formatErr(off int64, format string, args ...any) *FormatError {
	return &FormatError{Offset: off, Msg: fmt.Sprintf(format, args...)}
}
