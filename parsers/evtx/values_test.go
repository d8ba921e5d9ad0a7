package evtx

import (
	"encoding/binary"
	"math/rand/v2"
	"testing"
)

func le16(v ...uint16) []byte {
	b := make([]byte, 2*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint16(b[2*i:], x)
	}
	return b
}

func le32(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }

func le64(v uint64) []byte { return binary.LittleEndian.AppendUint64(nil, v) }

// TestValueString checks each value type against how Windows renders it in
// event XML; the differential test found python-evtx rendering most of
// these differently, so they are pinned here one by one.
func TestValueString(t *testing.T) {
	tests := []struct {
		name string
		typ  byte
		data []byte
		want string
	}{
		{"string", typeString, le16('a', 'b', 0), "ab"},
		{"ansi", typeANSI, []byte("caf\xe9\x00"), "café"},
		{"int8", typeInt8, []byte{0xff}, "-1"},
		{"uint8", typeUint8, []byte{0xff}, "255"},
		{"int16", typeInt16, le16(0xfffe), "-2"},
		{"uint16", typeUint16, le16(0xfffe), "65534"},
		{"int32", typeInt32, le32(0xffffffff), "-1"},
		{"uint32", typeUint32, le32(0xffffffff), "4294967295"},
		{"int64", typeInt64, le64(1 << 63), "-9223372036854775808"},
		{"uint64", typeUint64, le64(1 << 63), "9223372036854775808"},
		{"float64 zero", typeFloat64, le64(0), "0"},
		{"float64", typeFloat64, le64(0x3ff8000000000000), "1.5"},
		{"bool true", typeBool, le32(1), "true"},
		{"bool false", typeBool, le32(0), "false"},
		// Any non-zero value is true, negative ones included.
		{"bool irregular", typeBool, le32(0xffffffff), "true"},
		{"binary", typeBinary, []byte{0x0a, 0xbc}, "0ABC"},
		{"guid", typeGUID, []byte{0x33, 0x22, 0x11, 0x00, 0x55, 0x44, 0x77, 0x66, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff},
			"{00112233-4455-6677-8899-AABBCCDDEEFF}"},
		{"sizet 64-bit", typeSizeT, le64(0x260), "0x260"},
		{"sizet 32-bit", typeSizeT, le32(4), "0x4"},
		{"hexint32", typeHexInt32, le32(0x3e7), "0x3e7"},
		{"hexint64", typeHexInt64, le64(0x35d1aad), "0x35d1aad"},
		{"filetime", typeFileTime, le64(132914037418281749), "2022-03-10T16:35:41.8281749Z"},
		// A zero FILETIME is a value, not an absent one.
		{"filetime zero", typeFileTime, le64(0), "1601-01-01T00:00:00.0000000Z"},
		{"systemtime", typeSystemTime, le16(2022, 3, 4, 10, 11, 34, 14, 123), "2022-03-10T11:34:14.1230000Z"},
		{"sid", typeSID, append([]byte{1, 2, 0, 0, 0, 0, 0, 5}, append(le32(32), le32(544)...)...), "S-1-5-32-544"},
		{"short uint32", typeUint32, []byte{1, 2}, "0102"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := (value{typ: tt.typ, data: tt.data}).String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestAppendText checks appendText against String for every type, with
// data of every length up to 20 bytes, arrays included.
func TestAppendText(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for typ := 0; typ < 256; typ++ {
		for n := 0; n <= 20; n++ {
			for range 8 {
				d := make([]byte, n)
				for i := range d {
					d[i] = byte(rng.IntN(256))
					if rng.IntN(3) == 0 {
						d[i] = 0
					}
				}
				v := value{typ: byte(typ), data: d}
				if got, want := string(appendText([]byte("x"), v)), "x"+v.String(); got != want {
					t.Fatalf("type 0x%02x %x: got %q, want %q", typ, d, got, want)
				}
			}
		}
	}
}
