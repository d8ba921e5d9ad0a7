package evtxwrite

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
)

// Value types of MS-EVEN6's type system that the writer produces.
const (
	typeNull       = 0x00
	typeString     = 0x01
	typeUint8      = 0x04
	typeUint16     = 0x06
	typeInt32      = 0x07
	typeUint32     = 0x08
	typeInt64      = 0x09
	typeUint64     = 0x0a
	typeBool       = 0x0d
	typeBinary     = 0x0e
	typeGUID       = 0x0f
	typeFileTime   = 0x11
	typeSystemTime = 0x12
	typeSID        = 0x13
	typeHexInt32   = 0x14
	typeHexInt64   = 0x15
)

// A Value is one typed substitution value. The zero Value is an empty
// string.
type Value struct {
	typ  byte
	data []byte
	err  error // a value that could not be encoded; Add reports it
}

// Type is the value's MS-EVEN6 type code.
func (v Value) Type() byte {
	if v.typ == typeNull {
		return typeString
	}
	return v.typ
}

// String is a UTF-16 string value, written without a terminating NUL.
func String(s string) Value {
	return Value{typ: typeString, data: utf16le(s)}
}

// UInt8 is an unsigned 8-bit value.
func UInt8(n uint8) Value { return Value{typ: typeUint8, data: []byte{n}} }

// UInt16 is an unsigned 16-bit value.
func UInt16(n uint16) Value {
	return Value{typ: typeUint16, data: binary.LittleEndian.AppendUint16(nil, n)}
}

// UInt32 is an unsigned 32-bit value.
func UInt32(n uint32) Value {
	return Value{typ: typeUint32, data: binary.LittleEndian.AppendUint32(nil, n)}
}

// UInt64 is an unsigned 64-bit value.
func UInt64(n uint64) Value {
	return Value{typ: typeUint64, data: binary.LittleEndian.AppendUint64(nil, n)}
}

// Int32 is a signed 32-bit value.
func Int32(n int32) Value {
	return Value{typ: typeInt32, data: binary.LittleEndian.AppendUint32(nil, uint32(n))}
}

// Int64 is a signed 64-bit value.
func Int64(n int64) Value {
	return Value{typ: typeInt64, data: binary.LittleEndian.AppendUint64(nil, uint64(n))}
}

// HexInt32 is a 32-bit value Windows renders in hexadecimal (0x…).
func HexInt32(n uint32) Value {
	return Value{typ: typeHexInt32, data: binary.LittleEndian.AppendUint32(nil, n)}
}

// HexInt64 is a 64-bit value Windows renders in hexadecimal, such as a
// logon id.
func HexInt64(n uint64) Value {
	return Value{typ: typeHexInt64, data: binary.LittleEndian.AppendUint64(nil, n)}
}

// Bool is a boolean, stored in 4 bytes as Windows does.
func Bool(b bool) Value {
	var n uint32
	if b {
		n = 1
	}
	return Value{typ: typeBool, data: binary.LittleEndian.AppendUint32(nil, n)}
}

// Binary is a byte string Windows renders as upper-case hex.
func Binary(b []byte) Value {
	return Value{typ: typeBinary, data: append([]byte(nil), b...)}
}

// FileTime is a FILETIME: 100 ns intervals since 1601-01-01 UTC.
func FileTime(t time.Time) Value {
	return Value{typ: typeFileTime, data: binary.LittleEndian.AppendUint64(nil, filetime(t))}
}

// SystemTime is a SYSTEMTIME (eight 16-bit fields, millisecond precision)
// of t in UTC.
func SystemTime(t time.Time) Value {
	t = t.UTC()
	var b []byte
	for _, f := range []int{t.Year(), int(t.Month()), int(t.Weekday()), t.Day(),
		t.Hour(), t.Minute(), t.Second(), t.Nanosecond() / int(time.Millisecond)} {
		b = binary.LittleEndian.AppendUint16(b, uint16(f))
	}
	return Value{typ: typeSystemTime, data: b}
}

// SID is a security identifier given in its S-1-… form.
func SID(s string) Value {
	parts := strings.Split(s, "-")
	if len(parts) < 3 || parts[0] != "S" || len(parts)-3 > 15 {
		return Value{err: fmt.Errorf("evtxwrite: bad sid %q", s)}
	}
	rev, err1 := strconv.ParseUint(parts[1], 10, 8)
	auth, err2 := strconv.ParseUint(parts[2], 10, 48)
	if err1 != nil || err2 != nil {
		return Value{err: fmt.Errorf("evtxwrite: bad sid %q", s)}
	}
	b := []byte{byte(rev), byte(len(parts) - 3)}
	b = append(b, byte(auth>>40), byte(auth>>32), byte(auth>>24), byte(auth>>16), byte(auth>>8), byte(auth))
	for _, p := range parts[3:] {
		n, err := strconv.ParseUint(p, 10, 32)
		if err != nil {
			return Value{err: fmt.Errorf("evtxwrite: bad sid %q", s)}
		}
		b = binary.LittleEndian.AppendUint32(b, uint32(n))
	}
	return Value{typ: typeSID, data: b}
}

// GUID is a GUID given as {8-4-4-4-12} hex digits, braces optional; the
// first three groups are stored little-endian.
func GUID(s string) Value {
	b, err := guidBytes(s)
	if err != nil {
		return Value{err: err}
	}
	return Value{typ: typeGUID, data: b}
}

func guidBytes(s string) ([]byte, error) {
	raw, err := hex.DecodeString(strings.ReplaceAll(strings.Trim(s, "{}"), "-", ""))
	if err != nil || len(raw) != 16 || len(strings.Trim(s, "{}")) != 36 {
		return nil, fmt.Errorf("evtxwrite: bad guid %q", s)
	}
	b := make([]byte, 16)
	binary.LittleEndian.PutUint32(b, binary.BigEndian.Uint32(raw))
	binary.LittleEndian.PutUint16(b[4:], binary.BigEndian.Uint16(raw[4:]))
	binary.LittleEndian.PutUint16(b[6:], binary.BigEndian.Uint16(raw[6:]))
	copy(b[8:], raw[8:])
	return b, nil
}

// filetime converts t to a FILETIME; times before 1601 give 0.
func filetime(t time.Time) uint64 {
	const epochDiff = 116444736000000000 // 1601-01-01 to 1970-01-01 in 100 ns
	ns := t.UnixNano()
	if t.IsZero() || ns/100 < -epochDiff {
		return 0
	}
	return uint64(ns/100 + epochDiff)
}

func utf16le(s string) []byte {
	units := utf16.Encode([]rune(s))
	b := make([]byte, 0, 2*len(units))
	for _, u := range units {
		b = binary.LittleEndian.AppendUint16(b, u)
	}
	return b
}

// String renders the value as Windows does in an event's XML: decimal
// integers, 0x-prefixed lower-case hex for hex integers, upper-case hex for
// binary, {GUID} in upper case, times in UTC with 7 fractional digits.
func (v Value) String() string {
	le := binary.LittleEndian
	d := v.data
	switch v.typ {
	case typeNull, typeString:
		units := make([]uint16, len(d)/2)
		for i := range units {
			units[i] = le.Uint16(d[2*i:])
		}
		return string(utf16.Decode(units))
	case typeUint8:
		return strconv.FormatUint(uint64(d[0]), 10)
	case typeUint16:
		return strconv.FormatUint(uint64(le.Uint16(d)), 10)
	case typeUint32:
		return strconv.FormatUint(uint64(le.Uint32(d)), 10)
	case typeUint64:
		return strconv.FormatUint(le.Uint64(d), 10)
	case typeInt32:
		return strconv.FormatInt(int64(int32(le.Uint32(d))), 10)
	case typeInt64:
		return strconv.FormatInt(int64(le.Uint64(d)), 10)
	case typeHexInt32:
		return "0x" + strconv.FormatUint(uint64(le.Uint32(d)), 16)
	case typeHexInt64:
		return "0x" + strconv.FormatUint(le.Uint64(d), 16)
	case typeBool:
		return strconv.FormatBool(le.Uint32(d) != 0)
	case typeBinary:
		return strings.ToUpper(hex.EncodeToString(d))
	case typeGUID:
		return fmt.Sprintf("{%08X-%04X-%04X-%X-%X}", le.Uint32(d), le.Uint16(d[4:]), le.Uint16(d[6:]), d[8:10], d[10:16])
	case typeFileTime:
		return fromFiletime(le.Uint64(d)).Format(timeLayout)
	case typeSystemTime:
		f := func(i int) int { return int(le.Uint16(d[2*i:])) }
		return time.Date(f(0), time.Month(f(1)), f(3), f(4), f(5), f(6), f(7)*int(time.Millisecond), time.UTC).Format(timeLayout)
	case typeSID:
		var auth uint64
		for _, c := range d[2:8] {
			auth = auth<<8 | uint64(c)
		}
		s := fmt.Sprintf("S-%d-%d", d[0], auth)
		for i := 0; i < int(d[1]); i++ {
			s += "-" + strconv.FormatUint(uint64(le.Uint32(d[8+4*i:])), 10)
		}
		return s
	}
	return hex.EncodeToString(d)
}

// timeLayout is how Windows renders times: UTC, 7 fractional digits.
const timeLayout = "2006-01-02T15:04:05.0000000Z"

func fromFiletime(ft uint64) time.Time {
	const epochDiff = 116444736000000000
	return time.Unix(0, 0).UTC().Add(time.Duration(int64(ft)-epochDiff) * 100)
}
