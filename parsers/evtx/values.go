package evtx

import (
	"encoding/binary"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Value types (MS-EVEN6 "Type System"); 0x80 marks an array of the base type.
const (
	typeNull       = 0x00
	typeString     = 0x01
	typeANSI       = 0x02
	typeInt8       = 0x03
	typeUint8      = 0x04
	typeInt16      = 0x05
	typeUint16     = 0x06
	typeInt32      = 0x07
	typeUint32     = 0x08
	typeInt64      = 0x09
	typeUint64     = 0x0a
	typeFloat32    = 0x0b
	typeFloat64    = 0x0c
	typeBool       = 0x0d
	typeBinary     = 0x0e
	typeGUID       = 0x0f
	typeSizeT      = 0x10
	typeFileTime   = 0x11
	typeSystemTime = 0x12
	typeSID        = 0x13
	typeHexInt32   = 0x14
	typeHexInt64   = 0x15
	typeEvtHandle  = 0x20
	typeBinXml     = 0x21
	typeEvtXml     = 0x23
	typeArray      = 0x80
)

// fixedSize is the size of one item of a fixed-size type, 0 for variable.
func fixedSize(t byte) int {
	switch t {
	case typeInt8, typeUint8:
		return 1
	case typeInt16, typeUint16:
		return 2
	case typeInt32, typeUint32, typeFloat32, typeBool, typeHexInt32:
		return 4
	case typeInt64, typeUint64, typeFloat64, typeFileTime, typeHexInt64:
		return 8
	case typeGUID, typeSystemTime:
		return 16
	}
	return 0
}

func (v value) isEmpty() bool { return v.typ == typeNull || len(v.data) == 0 }

func (v value) isArray() bool { return v.typ&typeArray != 0 }

// items splits an array value into its elements: strings are NUL-separated,
// fixed-size types are cut by size, SIDs by their own length.
func (v value) items() []value {
	base := v.typ &^ typeArray
	var out []value
	switch base {
	case typeString:
		b := v.data
		for i := 0; i+1 < len(b); {
			j := i
			for j+1 < len(b) && (b[j] != 0 || b[j+1] != 0) {
				j += 2
			}
			out = append(out, value{typ: base, data: b[i:j], off: v.off + i})
			i = j + 2
		}
	case typeANSI:
		for i, s := range strings.Split(strings.TrimRight(string(v.data), "\x00"), "\x00") {
			_ = i
			out = append(out, value{typ: base, data: []byte(s)})
		}
	case typeSID:
		for b := v.data; len(b) >= 8; {
			n := 8 + 4*int(b[1])
			if n > len(b) {
				n = len(b)
			}
			out = append(out, value{typ: base, data: b[:n]})
			b = b[n:]
		}
	case typeSizeT:
		return v.fixedItems(base, 8)
	default:
		if size := fixedSize(base); size > 0 {
			return v.fixedItems(base, size)
		}
		out = append(out, value{typ: base, data: v.data, off: v.off})
	}
	return out
}

func (v value) fixedItems(base byte, size int) []value {
	out := make([]value, 0, len(v.data)/size)
	for i := 0; i+size <= len(v.data); i += size {
		out = append(out, value{typ: base, data: v.data[i : i+size], off: v.off + i})
	}
	return out
}

// String renders the value as Windows renders it in event XML. Arrays are
// joined with ", "; element content repeats the element per item instead.
func (v value) String() string {
	if v.typ == typeString {
		// The commonest value, decoded into a string of its exact size.
		return strings.TrimRight(decodeUTF16(v.data), "\x00")
	}
	var buf [64]byte // holds the text of every other type that is not long
	return string(appendText(buf[:0], v))
}

// appendText appends v as Windows renders it; items of an array are joined
// with ", ". It is the one renderer of values: the dump and the interner
// call it directly, without the string in between.
func appendText(dst []byte, v value) []byte {
	if v.isArray() {
		for i, item := range v.items() {
			if i > 0 {
				dst = append(dst, ", "...)
			}
			dst = appendText(dst, item)
		}
		return dst
	}
	d := v.data
	le := binary.LittleEndian
	switch v.typ {
	case typeNull:
		return dst
	case typeString:
		start := len(dst)
		return trimNULs(appendUTF16(dst, d), start)
	case typeANSI:
		start := len(dst)
		for _, c := range d {
			dst = utf8.AppendRune(dst, rune(c)) // Latin-1
		}
		return trimNULs(dst, start)
	case typeInt8:
		if len(d) >= 1 {
			return strconv.AppendInt(dst, int64(int8(d[0])), 10)
		}
	case typeUint8:
		if len(d) >= 1 {
			return strconv.AppendUint(dst, uint64(d[0]), 10)
		}
	case typeInt16:
		if len(d) >= 2 {
			return strconv.AppendInt(dst, int64(int16(le.Uint16(d))), 10)
		}
	case typeUint16:
		if len(d) >= 2 {
			return strconv.AppendUint(dst, uint64(le.Uint16(d)), 10)
		}
	case typeInt32:
		if len(d) >= 4 {
			return strconv.AppendInt(dst, int64(int32(le.Uint32(d))), 10)
		}
	case typeUint32:
		if len(d) >= 4 {
			return strconv.AppendUint(dst, uint64(le.Uint32(d)), 10)
		}
	case typeInt64:
		if len(d) >= 8 {
			return strconv.AppendInt(dst, int64(le.Uint64(d)), 10)
		}
	case typeUint64:
		if len(d) >= 8 {
			return strconv.AppendUint(dst, le.Uint64(d), 10)
		}
	case typeFloat32:
		if len(d) >= 4 {
			return strconv.AppendFloat(dst, float64(math.Float32frombits(le.Uint32(d))), 'g', -1, 32)
		}
	case typeFloat64:
		if len(d) >= 8 {
			return strconv.AppendFloat(dst, math.Float64frombits(le.Uint64(d)), 'g', -1, 64)
		}
	case typeBool:
		for _, b := range d {
			if b != 0 {
				return append(dst, "true"...)
			}
		}
		return append(dst, "false"...)
	case typeGUID:
		if len(d) >= 16 {
			return appendGUID(dst, d)
		}
	case typeSizeT, typeHexInt32, typeHexInt64:
		switch len(d) {
		case 4:
			return strconv.AppendUint(append(dst, "0x"...), uint64(le.Uint32(d)), 16)
		case 8:
			return strconv.AppendUint(append(dst, "0x"...), le.Uint64(d), 16)
		}
	case typeFileTime:
		if len(d) >= 8 {
			// Zero is the epoch itself, as Windows shows it: the value is
			// there, so it is not rendered as absent.
			if ft := le.Uint64(d); ft != 0 {
				return appendTime(dst, filetime(ft))
			}
			return appendTime(dst, time.Date(1601, 1, 1, 0, 0, 0, 0, time.UTC))
		}
	case typeSystemTime:
		if t, ok := systemtime(d); ok {
			return appendTime(dst, t)
		}
	case typeSID:
		if b, ok := appendSID(dst, d); ok {
			return b
		}
	}
	// Binary and handles, and a value too short for its type: show the
	// bytes rather than invent a value.
	const digits = "0123456789ABCDEF"
	for _, c := range d {
		dst = append(dst, digits[c>>4], digits[c&15])
	}
	return dst
}

// trimNULs drops the NULs that end the text appended from start, as
// strings.TrimRight(text, "\x00") would.
func trimNULs(dst []byte, start int) []byte {
	for len(dst) > start && dst[len(dst)-1] == 0 {
		dst = dst[:len(dst)-1]
	}
	return dst
}

// appendTime appends t in TimeLayout; the zero time appends nothing.
func appendTime(dst []byte, t time.Time) []byte {
	if t.IsZero() {
		return dst
	}
	return t.UTC().AppendFormat(dst, TimeLayout)
}

// appendGUID appends {XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX}; the first three
// groups are little-endian.
func appendGUID(out, d []byte) []byte {
	const digits = "0123456789ABCDEF"
	le := binary.LittleEndian
	// The three little-endian groups are put in big-endian order, so that
	// all sixteen bytes then print in order.
	var be [16]byte
	binary.BigEndian.PutUint32(be[0:], le.Uint32(d))
	binary.BigEndian.PutUint16(be[4:], le.Uint16(d[4:]))
	binary.BigEndian.PutUint16(be[6:], le.Uint16(d[6:]))
	copy(be[8:], d[8:16])
	out = append(out, '{')
	for i, c := range be {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			out = append(out, '-')
		}
		out = append(out, digits[c>>4], digits[c&15])
	}
	return append(out, '}')
}

// appendSID appends S-R-A-S1-…; the 6-byte authority is big-endian. It
// reports false, appending nothing, for a SID shorter than it claims.
func appendSID(dst, d []byte) ([]byte, bool) {
	if len(d) < 8 {
		return dst, false
	}
	n := int(d[1])
	if 8+4*n > len(d) {
		return dst, false
	}
	var auth uint64
	for _, b := range d[2:8] {
		auth = auth<<8 | uint64(b)
	}
	dst = append(dst, "S-"...)
	dst = strconv.AppendUint(dst, uint64(d[0]), 10)
	dst = append(dst, '-')
	dst = strconv.AppendUint(dst, auth, 10)
	for i := 0; i < n; i++ {
		dst = append(dst, '-')
		dst = strconv.AppendUint(dst, uint64(binary.LittleEndian.Uint32(d[8+4*i:])), 10)
	}
	return dst, true
}

// filetimeEpochDelta is the number of 100 ns intervals from 1601-01-01 to 1970-01-01.
const filetimeEpochDelta = 116444736000000000

// filetime converts 100 ns intervals since 1601-01-01 UTC; 0 is the zero time.
func filetime(ft uint64) time.Time {
	if ft == 0 {
		return time.Time{}
	}
	// Split to avoid overflowing int64 nanoseconds for far-future values.
	secs := int64(ft/10000000) - filetimeEpochDelta/10000000
	nanos := int64(ft%10000000) * 100
	return time.Unix(secs, nanos).UTC()
}

func systemtime(d []byte) (time.Time, bool) {
	if len(d) < 16 {
		return time.Time{}, false
	}
	le := binary.LittleEndian
	f := func(i int) int { return int(le.Uint16(d[2*i:])) }
	if f(1) < 1 || f(1) > 12 || f(3) < 1 || f(3) > 31 {
		return time.Time{}, false
	}
	return time.Date(f(0), time.Month(f(1)), f(3), f(4), f(5), f(6), f(7)*int(time.Millisecond), time.UTC), true
}

// TimeLayout is how times are rendered: UTC with a FILETIME's 7 fractional digits.
const TimeLayout = "2006-01-02T15:04:05.0000000Z"
