package evtxwrite

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
)

const (
	fileHeaderSize  = 4096
	chunkSize       = 65536
	chunkHeaderSize = 512
	recordHeaderLen = 24 // magic, size, id, written time
)

// ErrTooLarge is returned by Add for an event that does not fit in an
// empty chunk, or with a value over 65535 bytes.
var ErrTooLarge = errors.New("evtxwrite: event too large for a chunk")

// Writer writes an EVTX file. Chunks are written as they fill; the file
// header, which counts them, is written by Close.
type Writer struct {
	w      io.WriterAt
	c      *chunk
	chunks int
	nextID uint64
	err    error
}

// NewWriter starts a log on w, with record ids from 1.
func NewWriter(w io.WriterAt) *Writer {
	return &Writer{w: w, c: newChunk(), nextID: 1}
}

// chunk is the chunk being filled.
type chunk struct {
	buf       []byte
	used      int // free space offset: the end of the last record
	names     map[string]uint32
	templates map[string]uint32
	strs      [64]uint32
	tmpls     [32]uint32
	firstID   uint64
	lastID    uint64
	lastOff   int
}

func newChunk() *chunk {
	return &chunk{buf: make([]byte, chunkSize), used: chunkHeaderSize,
		names: map[string]uint32{}, templates: map[string]uint32{}}
}

// Add appends ev as the next record.
func (w *Writer) Add(ev Event) error {
	if w.err != nil {
		return w.err
	}
	vals := ev.values(w.nextID)
	for _, v := range vals {
		if v.err != nil {
			return v.err
		}
		if len(v.data) > 0xffff {
			return fmt.Errorf("%w: a value of %d bytes", ErrTooLarge, len(v.data))
		}
	}
	rec := w.c.encode(&ev, vals, w.nextID)
	if rec == nil && w.c.firstID != 0 {
		if err := w.flush(); err != nil {
			return err
		}
		rec = w.c.encode(&ev, vals, w.nextID)
	}
	if rec == nil {
		return ErrTooLarge
	}
	w.c.commit(rec, w.nextID)
	w.nextID++
	return nil
}

// encode builds the record for ev at the chunk's free space, or returns nil
// if it does not fit there.
func (c *chunk) encode(ev *Event, vals []Value, id uint64) *encoder {
	e := &encoder{c: c, base: c.used + recordHeaderLen, names: map[string]uint32{},
		templates: map[string]uint32{}, strs: c.strs, tmpls: c.tmpls}
	e.b = append(e.b, tokFragment, 1, 1, 0)
	e.instance(ev, vals)
	e.u8(tokEOF) // the fragment ends after the values; libevtx reads on to this token
	size := recordHeaderLen + len(e.b) + 4
	if c.used+size > chunkSize {
		return nil
	}
	head := c.buf[c.used:]
	copy(head, "**\x00\x00")
	binary.LittleEndian.PutUint32(head[4:], uint32(size))
	binary.LittleEndian.PutUint64(head[8:], id)
	binary.LittleEndian.PutUint64(head[16:], filetime(ev.Time))
	return e
}

// commit makes the encoded record part of the chunk.
func (c *chunk) commit(e *encoder, id uint64) {
	n := copy(c.buf[e.base:], e.b)
	binary.LittleEndian.PutUint32(c.buf[e.base+n:], uint32(recordHeaderLen+n+4))
	for k, v := range e.names {
		c.names[k] = v
	}
	for k, v := range e.templates {
		c.templates[k] = v
	}
	c.strs, c.tmpls = e.strs, e.tmpls
	if c.firstID == 0 {
		c.firstID = id
	}
	c.lastID = id
	c.lastOff = c.used
	c.used = e.base + n + 4
}

// header fills in the chunk header and both checksums.
func (c *chunk) header() {
	b := c.buf
	le := binary.LittleEndian
	copy(b, "ElfChnk\x00")
	// Record numbers count from the log's first record, as ids do in a log
	// that was never cleared, so both are the record ids.
	le.PutUint64(b[8:], c.firstID)
	le.PutUint64(b[16:], c.lastID)
	le.PutUint64(b[24:], c.firstID)
	le.PutUint64(b[32:], c.lastID)
	le.PutUint32(b[40:], 128) // header size
	le.PutUint32(b[44:], uint32(c.lastOff))
	le.PutUint32(b[48:], uint32(c.used))
	le.PutUint32(b[52:], crc32.ChecksumIEEE(b[chunkHeaderSize:c.used]))
	for i, off := range c.strs {
		le.PutUint32(b[128+4*i:], off)
	}
	for i, off := range c.tmpls {
		le.PutUint32(b[384+4*i:], off)
	}
	crc := crc32.ChecksumIEEE(b[:120])
	le.PutUint32(b[124:], crc32.Update(crc, crc32.IEEETable, b[128:chunkHeaderSize]))
}

func (w *Writer) flush() error {
	w.c.header()
	if _, err := w.w.WriteAt(w.c.buf, fileHeaderSize+int64(w.chunks)*chunkSize); err != nil {
		w.err = err
		return err
	}
	w.chunks++
	w.c = newChunk()
	return nil
}

// Close writes the last chunk and the file header. It does not close the
// underlying file.
func (w *Writer) Close() error {
	if w.err != nil {
		return w.err
	}
	if w.c.firstID != 0 || w.chunks == 0 {
		if err := w.flush(); err != nil {
			return err
		}
	}
	if w.chunks > 0xffff {
		return fmt.Errorf("evtxwrite: %d chunks, more than the header can count", w.chunks)
	}
	b := make([]byte, fileHeaderSize)
	le := binary.LittleEndian
	copy(b, "ElfFile\x00")
	le.PutUint64(b[8:], 0)
	le.PutUint64(b[16:], uint64(w.chunks-1))
	le.PutUint64(b[24:], w.nextID)
	le.PutUint32(b[32:], 128)
	le.PutUint16(b[36:], 1) // minor version
	le.PutUint16(b[38:], 3) // major version
	le.PutUint16(b[40:], fileHeaderSize)
	le.PutUint16(b[42:], uint16(w.chunks))
	le.PutUint32(b[124:], crc32.ChecksumIEEE(b[:120]))
	_, err := w.w.WriteAt(b, 0)
	w.err = errors.New("evtxwrite: writer closed")
	return err
}

// Bytes writes events as one log in memory.
func Bytes(events []Event) ([]byte, error) {
	var buf memFile
	w := NewWriter(&buf)
	for i := range events {
		if err := w.Add(events[i]); err != nil {
			return nil, fmt.Errorf("event %d: %w", i, err)
		}
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.b, nil
}

// memFile is an in-memory io.WriterAt.
type memFile struct{ b []byte }

func (m *memFile) WriteAt(p []byte, off int64) (int, error) {
	if end := int(off) + len(p); end > len(m.b) {
		m.b = append(m.b, make([]byte, end-len(m.b))...)
	}
	return copy(m.b[off:], p), nil
}
