package evtx

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"iter"
	"os"
	"runtime"
	"sync"
	"unsafe"
)

// Reader decodes an EVTX file from random access.
type Reader struct {
	r       io.ReaderAt
	size    int64
	header  Header
	workers int
	stats   Stats
}

// Stats counts what a pass over the records found. It is complete once the
// iteration from Records has finished.
type Stats struct {
	Chunks       int // chunk slots with a valid signature
	EmptyChunks  int // all-zero slots, skipped
	Records      int // records yielded, recovered ones included
	Recovered    int // records carved from slack
	Errors       int // damage reports yielded
	CRCErrors    int // chunk header or data checksum mismatches
	BadChunks    int // slots with a bad signature
	FirstID      uint64
	LastID       uint64
	Truncated    bool // the file ends inside a chunk
	DuplicateIDs int  // recovered records dropped because their id was already seen
}

// NewReader checks the file header and prepares to read records. It wraps
// ErrNotEVTX when the input does not start with the EVTX signature.
func NewReader(r io.ReaderAt, size int64) (*Reader, error) {
	head := make([]byte, fileHeaderSize)
	n, err := r.ReadAt(head, 0)
	if n < len(fileMagic) || !bytes.Equal(head[:len(fileMagic)], fileMagic) {
		if err != nil && err != io.EOF {
			return nil, fmt.Errorf("evtx: read header: %w", err)
		}
		return nil, fmt.Errorf("%w: bad file signature at offset 0x0", ErrNotEVTX)
	}
	if n < 128 {
		return nil, fmt.Errorf("%w: header of %d bytes", ErrNotEVTX, n)
	}
	rd := &Reader{r: r, size: size, header: parseHeader(head), workers: runtime.GOMAXPROCS(0)}
	if size > fileHeaderSize {
		rd.header.Slots = int((size - fileHeaderSize + chunkSize - 1) / chunkSize)
	}
	return rd, nil
}

// File is a Reader that owns the file it reads.
type File struct {
	*Reader
	f *os.File
}

// Open opens the named file read-only.
func Open(name string) (*File, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	r, err := NewReader(f, st.Size())
	if err != nil {
		f.Close()
		return nil, err
	}
	return &File{Reader: r, f: f}, nil
}

// Close closes the file.
func (f *File) Close() error { return f.f.Close() }

// Header returns the file header. Its chunk count is informational: chunks
// are counted from the file size.
func (r *Reader) Header() Header { return r.header }

// Stats returns the counts from the last completed pass over Records.
func (r *Reader) Stats() Stats { return r.stats }

// SetWorkers sets how many chunks are decoded at once (default GOMAXPROCS).
func (r *Reader) SetWorkers(n int) {
	if n > 0 {
		r.workers = n
	}
}

// workerState is what a chunk worker keeps from chunk to chunk. It goes
// back to a pool when a pass ends, so that the next pass, often over the
// next file, starts with its maps, slabs and interned values grown.
type workerState struct {
	in  interner
	c   chunk
	enc encoding
}

var workerStates = sync.Pool{New: func() any { return new(workerState) }}

// release drops what ties the state to the pass, and pools it.
func (ws *workerState) release() {
	ws.c.src = nil
	ws.enc.fn = nil
	ws.enc.reset()
	workerStates.Put(ws)
}

// item is a record or a damage report, kept in file order.
type item struct {
	rec *Record // nil for a damage report, or once the record is encoded
	err error
	// For a record: its id, whether it was carved, and, once encoded,
	// where its bytes end in chunkResult.enc.
	id        uint64
	isRecord  bool
	recovered bool
	end       int
}

type chunkResult struct {
	slot        int
	items       []item
	enc         []byte // the chunk's records as encoded by Encoded's function
	encBuf      *[]byte
	valid, zero bool
	crcErrors   int
	truncated   bool
}

// encoding is a chunk worker's state for Encoded: records are encoded as
// soon as they are decoded, into the chunk's buffer, from one Record that
// is filled again for each, which spares allocating and keeping a Record
// per event.
type encoding struct {
	fn  func([]byte, *Record) []byte
	buf []byte
	rec Record
	// arena holds the text of the record's values, which is most of what
	// a record decodes to; it is reused once the record is encoded.
	arena []byte
}

// maxArena is the arena a worker keeps from record to record.
const maxArena = 1 << 20

// text is v.String(), rendered in the arena.
func (e *encoding) text(v value) string {
	start := len(e.arena)
	e.arena = appendText(e.arena, v)
	if len(e.arena) == start {
		return ""
	}
	return unsafe.String(&e.arena[start], len(e.arena)-start)
}

// reset readies e for the next record, whose strings overwrite the last's.
func (e *encoding) reset() {
	if cap(e.arena) > maxArena {
		e.arena = nil
	}
	e.arena = e.arena[:0]
	e.rec = Record{Data: e.rec.Data[:0]}
}

var chunkBufs = sync.Pool{New: func() any { b := make([]byte, chunkSize); return &b }}

// encBufs hold a chunk's encoded records from the worker that made them
// until they are yielded.
var encBufs = sync.Pool{New: func() any { return new([]byte) }}

// maxPooledEnc keeps the rare chunk that encodes to a huge size from
// pinning its buffer in the pool.
const maxPooledEnc = 4 << 20

// Records yields every record in file order. Damage is yielded as a
// *FormatError and iteration goes on. Chunks are decoded in parallel by a
// bounded pool, so memory depends on the workers, not on the file size.
func (r *Reader) Records() iter.Seq2[*Record, error] {
	return func(yield func(*Record, error) bool) {
		r.pass(nil, func(it *item, _ []byte) bool { return yield(it.rec, it.err) })
	}
}

// Encoded is Records for a caller that turns each record into bytes, such
// as a line of JSON: encode appends the record's bytes to dst and returns
// the result. It runs in the worker that decoded the record, beside the
// other workers, where on the caller's goroutine it would run alone. The
// records come out in the same order, with the same damage reports and
// Stats, as from Records, but a yielded slice holds the bytes of one or
// more consecutive records, and is valid only until the yield returns.
// encode also sees the recovered records that turn out to repeat an id;
// their bytes are dropped with them.
func (r *Reader) Encoded(encode func(dst []byte, rec *Record) []byte) iter.Seq2[[]byte, error] {
	return func(yield func([]byte, error) bool) {
		r.pass(encode, func(it *item, b []byte) bool {
			if !it.isRecord {
				return yield(nil, it.err)
			}
			return yield(b, nil)
		})
	}
}

// pass decodes the chunks in parallel and hands each kept item to yield in
// file order, with its encoded bytes when encode is set.
func (r *Reader) pass(encode func([]byte, *Record) []byte, yield func(*item, []byte) bool) {
	r.stats = Stats{}
	// The chunks' id ranges are read only when a carved record needs
	// them, which most logs never do: reading every chunk header first
	// delayed the workers' start.
	ranges := sync.OnceValue(r.chunkIDRanges)
	type job struct {
		slot int
		out  chan chunkResult
	}
	jobs := make(chan job)
	futures := make(chan chan chunkResult, 2*r.workers)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < r.workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ws := workerStates.Get().(*workerState)
			defer ws.release()
			var enc *encoding
			if encode != nil {
				enc = &ws.enc
				enc.fn = encode
			}
			for j := range jobs {
				j.out <- r.parseChunk(j.slot, &ws.c, &ws.in, enc)
			}
		}()
	}
	go func() {
		defer close(futures)
		defer close(jobs)
		for slot := 0; slot < r.header.Slots; slot++ {
			out := make(chan chunkResult, 1)
			select {
			case futures <- out:
			case <-stop:
				return
			}
			select {
			case jobs <- job{slot, out}:
			case <-stop:
				return
			}
		}
	}()
	defer func() {
		close(stop)
		for range futures { // let the producer and workers finish
		}
		wg.Wait()
	}()

	recoveredSeen := make(map[uint64]bool)
	for fut := range futures {
		res := <-fut
		r.account(res)
		if !r.yieldChunk(&res, ranges, recoveredSeen, yield) {
			return
		}
		res.release()
	}
}

// release gives the encoding buffer back once its bytes have been yielded.
func (res *chunkResult) release() {
	if res.encBuf != nil {
		if cap(*res.encBuf) <= maxPooledEnc {
			encBufs.Put(res.encBuf)
		}
		res.enc, res.encBuf = nil, nil
	}
}

func (r *Reader) yieldChunk(res *chunkResult, ranges func() []idRange, recoveredSeen map[uint64]bool, yield func(*item, []byte) bool) bool {
	if res.enc != nil {
		return r.yieldEncoded(res, ranges, recoveredSeen, yield)
	}
	for i := range res.items {
		it := &res.items[i]
		if r.keep(it, res.slot, ranges, recoveredSeen) && !yield(it, nil) {
			return false
		}
	}
	return true
}

// encodedRun stands for the records of a run of encoded bytes.
var encodedRun = &item{isRecord: true}

// yieldEncoded yields an encoded chunk's records in runs of consecutive
// records, mostly the whole chunk at once, rather than one by one: the
// caller's copying and the yields per record cost its goroutine time that
// the workers could use.
func (r *Reader) yieldEncoded(res *chunkResult, ranges func() []idRange, recoveredSeen map[uint64]bool, yield func(*item, []byte) bool) bool {
	run, end := 0, 0 // the records kept and not yet yielded are res.enc[run:end]
	for i := range res.items {
		it := &res.items[i]
		kept := r.keep(it, res.slot, ranges, recoveredSeen)
		if kept && it.isRecord {
			end = it.end
			continue
		}
		if end > run && !yield(encodedRun, res.enc[run:end]) {
			return false
		}
		if it.isRecord { // dropped: its bytes are skipped
			run, end = it.end, it.end
			continue
		}
		run = end
		if !yield(it, nil) {
			return false
		}
	}
	return end <= run || yield(encodedRun, res.enc[run:end])
}

// keep counts it in the Stats and reports whether it is yielded: a
// recovered record whose id a live record or an earlier recovered one
// holds is dropped.
func (r *Reader) keep(it *item, slot int, ranges func() []idRange, recoveredSeen map[uint64]bool) bool {
	if it.recovered {
		if inRanges(ranges(), slot, it.id) || recoveredSeen[it.id] {
			r.stats.DuplicateIDs++
			return false
		}
		recoveredSeen[it.id] = true
		r.stats.Recovered++
	}
	if it.isRecord {
		r.stats.Records++
		if r.stats.FirstID == 0 || it.id < r.stats.FirstID {
			r.stats.FirstID = it.id
		}
		if it.id > r.stats.LastID {
			r.stats.LastID = it.id
		}
	} else {
		r.stats.Errors++
	}
	return true
}

func (r *Reader) account(res chunkResult) {
	switch {
	case res.zero:
		r.stats.EmptyChunks++
	case res.valid:
		r.stats.Chunks++
	default:
		r.stats.BadChunks++
	}
	r.stats.CRCErrors += res.crcErrors
	r.stats.Truncated = r.stats.Truncated || res.truncated
}

// idRange is the record id span a chunk header claims, used so that a
// record carved from slack never repeats an id a live record holds.
type idRange struct {
	slot        int
	first, last uint64
}

func (r *Reader) chunkIDRanges() []idRange {
	var out []idRange
	var head [chunkHeaderSize]byte
	for slot := 0; slot < r.header.Slots; slot++ {
		off := int64(fileHeaderSize) + int64(slot)*chunkSize
		if n, _ := r.r.ReadAt(head[:], off); n < chunkHeaderSize || !bytes.Equal(head[:8], chunkMagic) {
			continue
		}
		h := parseChunkHeader(head[:])
		if h.firstRecordID <= h.lastRecordID && h.lastRecordID-h.firstRecordID < chunkSize {
			out = append(out, idRange{slot, h.firstRecordID, h.lastRecordID})
		}
	}
	return out
}

func inRanges(ranges []idRange, slot int, id uint64) bool {
	for _, rg := range ranges {
		if rg.slot != slot && id >= rg.first && id <= rg.last {
			return true
		}
	}
	return false
}

// parseChunk decodes the chunk in slot with c, which it reuses.
func (r *Reader) parseChunk(slot int, c *chunk, in *interner, enc *encoding) chunkResult {
	bp := chunkBufs.Get().(*[]byte)
	defer chunkBufs.Put(bp)
	buf := *bp
	off := int64(fileHeaderSize) + int64(slot)*chunkSize
	n, err := r.r.ReadAt(buf, off)
	res := chunkResult{slot: slot}
	if n < chunkSize {
		if err != nil && err != io.EOF {
			res.items = append(res.items, item{err: formatErr(off, "read chunk: %v", err)})
			return res
		}
		res.truncated = true
		res.items = append(res.items, item{err: formatErr(off+int64(n),
			"%s: chunk %d holds %d of %d bytes", ErrTruncated, slot, n, chunkSize)})
		clear(buf[n:])
	}
	buf = buf[:n]
	if n < chunkHeaderSize || !bytes.Equal(buf[:8], chunkMagic) {
		if allZero(buf) {
			res.zero = true
			res.items = nil // an all-zero tail is just unused space
			return res
		}
		if n >= 8 {
			res.items = append(res.items, item{err: formatErr(off, "%s in chunk %d", ErrChunkMagic, slot)})
		}
		return res
	}
	res.valid = true
	c.reuse(buf, off)
	h := parseChunkHeader(buf)
	if !r.header.NoCRC() {
		if chunkHeaderCRC(buf) != h.headerCRC {
			res.crcErrors++
			res.items = append(res.items, item{err: formatErr(off, "%s: header of chunk %d", ErrChunkCRC, slot)})
		}
		if free := int(h.freeSpaceOff); free >= chunkHeaderSize && free <= len(buf) &&
			crc32.ChecksumIEEE(buf[chunkHeaderSize:free]) != h.recordsCRC {
			res.crcErrors++
			res.items = append(res.items, item{err: formatErr(off+chunkHeaderSize, "%s: records of chunk %d", ErrChunkCRC, slot)})
		}
	}
	c.in = in.ready()
	c.src = &chunkSource{r: r.r, base: off, size: n}
	if enc != nil {
		res.encBuf = encBufs.Get().(*[]byte)
		if cap(*res.encBuf) == 0 {
			// Most chunks encode to less; growing by doubling cost
			// copies and page faults.
			*res.encBuf = make([]byte, 0, 2*chunkSize)
		}
		enc.buf = (*res.encBuf)[:0]
		c.enc = enc
	}
	res.items = append(res.items, c.records(slot, h)...)
	if enc != nil {
		*res.encBuf = enc.buf
		res.enc = enc.buf
		enc.buf = nil
	}
	c.in, c.enc, c.buf = nil, nil, nil // buf goes back to the pool
	return res
}

// zeroChunk is compared against, which is much faster than a byte loop
// over the many unused slots at the end of a preallocated log.
var zeroChunk [chunkSize]byte

func allZero(b []byte) bool {
	for len(b) > chunkSize {
		if !bytes.Equal(b[:chunkSize], zeroChunk[:]) {
			return false
		}
		b = b[chunkSize:]
	}
	return bytes.Equal(b, zeroChunk[:len(b)])
}

// records walks the chunk's records, then carves further records from the
// slack after the last good one.
func (c *chunk) records(slot int, h chunkHeader) []item {
	limit := int(h.freeSpaceOff)
	if limit < chunkHeaderSize || limit > len(c.buf) {
		limit = len(c.buf)
	}
	var items []item
	// The ids seen in this chunk; the map is the worker's, kept grown.
	if c.live == nil {
		c.live = make(map[uint64]bool)
	}
	clear(c.live)
	live := c.live
	pos := chunkHeaderSize
	for pos+minRecordSize <= limit {
		if !bytes.Equal(c.buf[pos:pos+4], recordMagic) {
			if !allZero(c.buf[pos : pos+4]) {
				items = append(items, item{err: formatErr(c.base+int64(pos), "%s: bad signature in chunk %d", ErrRecord, slot)})
			}
			break
		}
		size := int(binary.LittleEndian.Uint32(c.buf[pos+4:]))
		inferred := false
		if size < minRecordSize || pos+size > len(c.buf) {
			next := c.nextRecord(pos + 8)
			if next < 0 {
				items = append(items, item{err: formatErr(c.base+int64(pos), "%s: size %d in chunk %d", ErrRecord, size, slot)})
				break
			}
			// The size field alone is damaged: the next well-formed record
			// tells where this one ends.
			items = append(items, item{err: formatErr(c.base+int64(pos),
				"%s: size %d in chunk %d, taken as %d from the next record", ErrRecord, size, slot, next-pos)})
			size, inferred = next-pos, true
		}
		// A record whose trailing size copy was never written (seen in logs
		// cut off mid-write) is kept when its BinXml decodes; the mismatch is
		// reported either way.
		sizeCopy := int(binary.LittleEndian.Uint32(c.buf[pos+size-4:]))
		rec, err := c.record(slot, pos, size)
		if sizeCopy != size && !inferred {
			items = append(items, item{err: formatErr(c.base+int64(pos),
				"%s: size copy %d does not match size %d in chunk %d", ErrRecord, sizeCopy, size, slot)})
			if err != nil {
				break
			}
		}
		if err != nil {
			items = append(items, item{err: err})
		}
		if rec != nil {
			live[rec.ID] = true
			items = c.addRecord(items, rec)
		}
		pos += size
	}
	return append(items, c.carve(slot, pos, live)...)
}

// nextRecord finds the next well-formed record header at or after from, on
// an 8-byte boundary, or returns -1.
func (c *chunk) nextRecord(from int) int {
	for pos := c.nextSignature((from + 7) &^ 7); pos >= 0; pos = c.nextSignature(pos + 8) {
		if c.wellFormed(pos) {
			return pos
		}
	}
	return -1
}

// nextSignature returns the first position p >= pos with p-pos a multiple
// of 8 where a record signature starts and a record header fits, or -1.
// bytes.Index skips the long runs of slack that hold no signature much
// faster than testing each 8-byte slot.
func (c *chunk) nextSignature(pos int) int {
	for pos >= 0 && pos+minRecordSize <= len(c.buf) {
		i := bytes.Index(c.buf[pos:], recordMagic)
		if i < 0 {
			return -1
		}
		if i&7 == 0 {
			if pos+i+minRecordSize > len(c.buf) {
				return -1
			}
			return pos + i
		}
		pos += (i + 7) &^ 7 // the next slot on the same 8-byte lattice
	}
	return -1
}

// wellFormed reports whether a record at pos has a signature, a sane size
// with a matching copy, and BinXml that opens with a fragment header.
func (c *chunk) wellFormed(pos int) bool {
	if !bytes.Equal(c.buf[pos:pos+4], recordMagic) {
		return false
	}
	size := int(binary.LittleEndian.Uint32(c.buf[pos+4:]))
	return size >= minRecordSize+4 && pos+size <= len(c.buf) &&
		int(binary.LittleEndian.Uint32(c.buf[pos+size-4:])) == size &&
		bytes.Equal(c.buf[pos+recordHeaderLen:pos+recordHeaderLen+4], []byte{tokFragment, 1, 1, 0})
}

// carve scans [from, end of chunk) for records left in slack: a signature on
// an 8-byte boundary, a sane size with a matching copy, and BinXml that
// opens with a fragment header.
func (c *chunk) carve(slot, from int, live map[uint64]bool) []item {
	var items []item
	for pos := c.nextSignature((from + 7) &^ 7); pos >= 0; pos = c.nextSignature(pos + 8) {
		if !c.wellFormed(pos) {
			continue
		}
		size := int(binary.LittleEndian.Uint32(c.buf[pos+4:]))
		rec, err := c.record(slot, pos, size)
		if err != nil || rec == nil || live[rec.ID] {
			continue
		}
		rec.Recovered = true
		live[rec.ID] = true
		items = c.addRecord(items, rec)
		pos += size - 8
	}
	return items
}

// addRecord appends rec to items, or, when the chunk's records are being
// encoded, its bytes to the chunk's buffer and what the ordering needs of it
// to items.
func (c *chunk) addRecord(items []item, rec *Record) []item {
	it := item{rec: rec, id: rec.ID, isRecord: true, recovered: rec.Recovered}
	if c.enc != nil {
		c.enc.buf = c.enc.fn(c.enc.buf, rec)
		it.rec, it.end = nil, len(c.enc.buf)
	}
	return append(items, it)
}

// record decodes the record at chunk offset pos. A record whose BinXml is
// damaged is still returned with what could be read, beside the error.
// While the chunk is encoded, the record is the worker's one Record, good
// until the next call.
func (c *chunk) record(slot, pos, size int) (*Record, error) {
	var rec *Record
	if c.enc != nil {
		c.enc.reset()
		rec = &c.enc.rec
	} else {
		rec = new(Record)
	}
	rec.ID = binary.LittleEndian.Uint64(c.buf[pos+8:])
	rec.Written = filetime(binary.LittleEndian.Uint64(c.buf[pos+16:]))
	rec.Chunk, rec.Offset = slot, c.base+int64(pos)
	rec.src, rec.pos, rec.size = c.src, pos, size
	e := expanders.Get().(*expander)
	defer expanders.Put(e)
	root, err := c.expandRecord(e, pos, size)
	rec.fill(c, root)
	if err != nil {
		return rec, fmt.Errorf("%w (record %d)", err, rec.ID)
	}
	return rec, nil
}

// expandRecord parses the record's BinXml at chunk offset pos and
// substitutes its template values. The tree lives in e until its next use.
func (c *chunk) expandRecord(e *expander, pos, size int) ([]xnode, error) {
	e.reset(c)
	cur := cursor{c: c, pos: pos + recordHeaderLen, end: pos + size - 4, st: &e.parse}
	nodes, err := cur.fragment()
	e.expand(nodes, nil)
	if err == nil {
		err = e.err
	}
	return e.stack, err
}
