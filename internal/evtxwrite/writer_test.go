package evtxwrite_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"strings"
	"testing"

	"triage/internal/evtxwrite"
	"triage/parsers/evtx"
)

// TestChunkHeaders checks the header fields readers rely on against the
// records each chunk holds, walked by their sizes.
func TestChunkHeaders(t *testing.T) {
	events, _ := testEvents()
	b, err := evtxwrite.Bytes(events)
	if err != nil {
		t.Fatal(err)
	}
	le := binary.LittleEndian
	if string(b[:8]) != "ElfFile\x00" || le.Uint32(b[124:]) != crc32.ChecksumIEEE(b[:120]) {
		t.Fatal("bad file header magic or crc")
	}
	chunks := (len(b) - 4096) / 65536
	if (len(b)-4096)%65536 != 0 || int(le.Uint16(b[42:])) != chunks || le.Uint64(b[16:]) != uint64(chunks-1) {
		t.Fatalf("file of %d bytes, header counts %d chunks, last %d", len(b), le.Uint16(b[42:]), le.Uint64(b[16:]))
	}
	if got := le.Uint64(b[24:]); got != uint64(len(events)+1) {
		t.Errorf("next record id %d, want %d", got, len(events)+1)
	}
	next := uint64(1)
	for i := range chunks {
		c := b[4096+i*65536:][:65536]
		free := int(le.Uint32(c[48:]))
		var ids []uint64
		last := 0
		for pos := 512; pos < free; {
			size := int(le.Uint32(c[pos+4:]))
			if string(c[pos:pos+4]) != "**\x00\x00" || size < 28 || int(le.Uint32(c[pos+size-4:])) != size {
				t.Fatalf("chunk %d: bad record at 0x%x", i, pos)
			}
			ids = append(ids, le.Uint64(c[pos+8:]))
			last, pos = pos, pos+size
		}
		first := ids[0]
		if first != next || ids[len(ids)-1] != first+uint64(len(ids))-1 {
			t.Errorf("chunk %d: record ids %d…%d, want from %d", i, first, ids[len(ids)-1], next)
		}
		next += uint64(len(ids))
		for off, want := range map[int]uint64{8: first, 16: next - 1, 24: first, 32: next - 1} {
			if got := le.Uint64(c[off:]); got != want {
				t.Errorf("chunk %d: field at %d is %d, want %d", i, off, got, want)
			}
		}
		if int(le.Uint32(c[44:])) != last {
			t.Errorf("chunk %d: last record offset 0x%x, want 0x%x", i, le.Uint32(c[44:]), last)
		}
		if le.Uint32(c[52:]) != crc32.ChecksumIEEE(c[512:free]) {
			t.Errorf("chunk %d: records crc", i)
		}
		crc := crc32.Update(crc32.ChecksumIEEE(c[:120]), crc32.IEEETable, c[128:512])
		if le.Uint32(c[124:]) != crc {
			t.Errorf("chunk %d: header crc", i)
		}
		if !bytes.Equal(c[free:], make([]byte, 65536-free)) {
			t.Errorf("chunk %d: free space not zero", i)
		}
	}
}

// TestDeterministic: the same events give the same bytes.
func TestDeterministic(t *testing.T) {
	events, _ := testEvents()
	a, err1 := evtxwrite.Bytes(events)
	b, err2 := evtxwrite.Bytes(events)
	if err1 != nil || err2 != nil || !bytes.Equal(a, b) {
		t.Fatal("two writes of the same events differ")
	}
}

func TestTooLarge(t *testing.T) {
	ev := evtxwrite.Event{Provider: "P", Data: []evtxwrite.Field{evtxwrite.Str("S", strings.Repeat("x", 40000))}}
	if _, err := evtxwrite.Bytes([]evtxwrite.Event{ev}); !errors.Is(err, evtxwrite.ErrTooLarge) {
		t.Errorf("a 80 KB value: %v, want ErrTooLarge", err)
	}
	ev.Data = []evtxwrite.Field{evtxwrite.Str("A", strings.Repeat("x", 30000)), evtxwrite.Str("B", strings.Repeat("y", 30000))}
	if _, err := evtxwrite.Bytes([]evtxwrite.Event{ev}); !errors.Is(err, evtxwrite.ErrTooLarge) {
		t.Errorf("a 120 KB event: %v, want ErrTooLarge", err)
	}
	ev.Data = []evtxwrite.Field{{Name: "S", Value: evtxwrite.SID("S-1-x")}}
	if _, err := evtxwrite.Bytes([]evtxwrite.Event{ev}); err == nil {
		t.Error("a bad SID was written")
	}
}

// TestEmptyLog: a log with no records is one empty chunk our parser reads.
func TestEmptyLog(t *testing.T) {
	b, err := evtxwrite.Bytes(nil)
	if err != nil {
		t.Fatal(err)
	}
	r, err := evtx.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	for _, err := range r.Records() {
		t.Errorf("record in an empty log (%v)", err)
	}
}
