package ewf

import (
	"errors"
	"fmt"
	"io"
	"runtime"
)

const (
	// streams is how many interleaved sequential readers (files read side by
	// side) are told apart when deciding whether to read ahead.
	streams = 4
	// aheadBytes is how far past a sequential read chunks are inflated in
	// the background.
	aheadBytes     = 1 << 20
	maxAheadChunks = 64
)

// pendingChunk is a chunk being read and inflated; other readers of the same
// chunk wait for it instead of inflating it again.
type pendingChunk struct {
	done chan struct{}
	data []byte
	err  error
}

// aheadWorkers is the number of chunks inflated in the background at once:
// inflating is the bulk of the cost of reading an E01, and the caller
// (hashing, parsing) runs on its own core meanwhile.
func aheadWorkers() int { return min(max(runtime.GOMAXPROCS(0), 1), 8) }

// cacheChunks is how many decoded chunks the cache holds.
func (r *Reader) cacheChunks() int { return int(max(4, cacheBytes/r.chunkSize)) }

// ReadAt reads the logical disk.
func (r *Reader) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("ewf: negative offset")
	}
	if len(p) > 0 && off < r.size {
		r.noteRead(off, min(off+int64(len(p)), r.size))
	}
	n := 0
	for n < len(p) {
		pos := off + int64(n)
		if pos >= r.size {
			return n, io.EOF
		}
		data, err := r.readChunk(int(pos / r.chunkSize))
		if err != nil {
			return n, err
		}
		in := pos % r.chunkSize
		if in >= int64(len(data)) {
			return n, &FormatError{0, 0, fmt.Sprintf("chunk %d short", pos/r.chunkSize), io.ErrUnexpectedEOF}
		}
		m := copy(p[n:], data[in:min(int64(len(data)), r.size-pos+in)])
		n += m
	}
	return n, nil
}

// noteRead records the chunks [off, end) touches and starts inflating, on
// other goroutines, those of them after the first (which the caller inflates
// itself) and, when the read continues one of the recent ones, the chunks
// that follow it.
func (r *Reader) noteRead(off, end int64) {
	first, next := int(off/r.chunkSize), int((end-1)/r.chunkSize)+1
	r.mu.Lock()
	defer r.mu.Unlock()
	seq := false
	for k, e := range r.ends {
		// A page-sized read starts in the chunk the previous one ended in,
		// at the next one, or one further when a file skips a cluster gap.
		if e >= 0 && first >= e-1 && first <= e+1 {
			r.ends[k], r.sequential[k], seq = next, true, true
			break
		}
	}
	if !seq {
		r.ends[r.endNext], r.sequential[r.endNext] = next, false
		r.endNext = (r.endNext + 1) % streams
	}
	stop := next
	if seq {
		stop = next + r.aheadWindow()
	}
	for j := first + 1; j < min(stop, len(r.chunks)); j++ {
		if r.cache[j] != nil || r.pending[j] != nil {
			continue
		}
		select {
		case r.ahead <- struct{}{}:
		default:
			return
		}
		go r.inflateAhead(j, r.claim(j))
	}
}

// aheadWindow is how many chunks past a sequential read are inflated in
// advance. In chunks, it is also capped so that tiny chunks do not make
// every read scan a long stretch of the cache, and it stays well inside the
// cache so that chunks read ahead are not evicted before they are used.
func (r *Reader) aheadWindow() int {
	return int(min(max(aheadBytes/r.chunkSize, 1), int64(r.cacheChunks()/4), maxAheadChunks))
}

// claim marks chunk i as being read; r.mu is held.
func (r *Reader) claim(i int) *pendingChunk {
	p := &pendingChunk{done: make(chan struct{})}
	r.pending[i] = p
	return p
}

// inflateAhead decodes chunk i and then, holding on to its worker token,
// goes on with the next chunk still wanted by a sequential reader. Without
// the hand-over, the pipeline only refilled when the reader came back, so
// the reader often found the chunk it needed not yet started.
func (r *Reader) inflateAhead(i int, p *pendingChunk) {
	for p != nil {
		data, err := r.decode(i)
		r.finish(i, p, data, err)
		r.mu.Lock()
		i, p = r.nextWanted(i)
		r.mu.Unlock()
	}
	<-r.ahead
}

// nextWanted claims the first chunk after i that a sequential reader will
// reach within the read-ahead window and that is neither cached nor being
// read, or returns nil; r.mu is held.
func (r *Reader) nextWanted(i int) (int, *pendingChunk) {
	window := r.aheadWindow()
	for k, e := range r.ends {
		if !r.sequential[k] || i < e-1 || i >= e+window {
			continue
		}
		for j := i + 1; j < min(e+window, len(r.chunks)); j++ {
			if r.cache[j] == nil && r.pending[j] == nil {
				return j, r.claim(j)
			}
		}
	}
	return 0, nil
}

// readChunk returns chunk i decoded, from the cache, from a read already
// under way, or by decoding it here.
func (r *Reader) readChunk(i int) ([]byte, error) {
	r.mu.Lock()
	if el, ok := r.cache[i]; ok {
		r.lru.MoveToFront(el)
		data := el.Value.(*cached).data
		r.mu.Unlock()
		return data, nil
	}
	if p, ok := r.pending[i]; ok {
		r.mu.Unlock()
		<-p.done
		return p.data, p.err
	}
	p := r.claim(i)
	r.mu.Unlock()
	data, err := r.decode(i)
	r.finish(i, p, data, err)
	return data, err
}

type cached struct {
	index int
	data  []byte
}

// finish publishes a decoded chunk to the cache and to the readers waiting
// for it. Errors are not cached: a later read tries again and reports them.
func (r *Reader) finish(i int, p *pendingChunk, data []byte, err error) {
	p.data, p.err = data, err
	r.mu.Lock()
	delete(r.pending, i)
	if err == nil && r.cache[i] == nil {
		r.cache[i] = r.lru.PushFront(&cached{i, data})
		if r.lru.Len() > r.cacheChunks() {
			old := r.lru.Remove(r.lru.Back()).(*cached)
			delete(r.cache, old.index)
		}
	}
	r.mu.Unlock()
	close(p.done)
}

// decode reads chunk i from its segment and inflates it if compressed. The
// returned slice is never written again, so readers may share it.
func (r *Reader) decode(i int) (data []byte, err error) {
	// A bug in decoding hostile data must not take the process down, least
	// of all from a read-ahead goroutine.
	defer func() {
		if v := recover(); v != nil {
			data, err = nil, &FormatError{r.chunks[i].segment, r.chunks[i].offset, fmt.Sprintf("chunk %d: decoder failure: %v", i, v), nil}
		}
	}()
	if i >= len(r.chunks) {
		return nil, &FormatError{len(r.segments) - 1, 0, fmt.Sprintf("chunk %d is not in any table", i), io.ErrUnexpectedEOF}
	}
	c := r.chunks[i]
	seg := r.segments[c.segment]
	if c.size <= 0 || c.size > r.chunkSize+4096 || c.offset < 0 || c.offset >= seg.Size {
		return nil, &FormatError{c.segment, c.offset, fmt.Sprintf("chunk %d has bad extent (%d bytes)", i, c.size), nil}
	}
	size := min(c.size, seg.Size-c.offset)
	if !c.compressed {
		stored := make([]byte, size)
		n, err := seg.R.ReadAt(stored, c.offset)
		if err != nil && err != io.EOF {
			return nil, &FormatError{c.segment, c.offset, fmt.Sprintf("reading chunk %d", i), err}
		}
		if int64(n) < min(r.chunkSize, r.size-int64(i)*r.chunkSize) {
			return nil, &FormatError{c.segment, c.offset, fmt.Sprintf("chunk %d truncated", i), io.ErrUnexpectedEOF}
		}
		return stored[:min(int64(n), r.chunkSize)], nil
	}
	// The compressed bytes are only needed while inflating, so their buffer
	// goes back to a pool.
	bp, _ := r.stored.Get().(*[]byte)
	if bp == nil || int64(cap(*bp)) < size {
		b := make([]byte, size)
		bp = &b
	}
	defer r.stored.Put(bp)
	stored := (*bp)[:size]
	n, err := seg.R.ReadAt(stored, c.offset)
	if err != nil && err != io.EOF {
		return nil, &FormatError{c.segment, c.offset, fmt.Sprintf("reading chunk %d", i), err}
	}
	data, err = r.inflate(stored[:n], i == len(r.chunks)-1)
	if err != nil {
		return nil, &FormatError{c.segment, c.offset, fmt.Sprintf("decompressing chunk %d", i), err}
	}
	return data, nil
}

// pureGoEnv names the environment variable that, set to 1, keeps
// libdeflate unloaded so that chunks are inflated by the Go decoder.
const pureGoEnv = "TRIAGE_PURE_GO_INFLATE"

// libdeflateMaxChunk is the largest chunk size inflated by libdeflate,
// which needs the whole output buffer up front; larger (declared) chunks go
// to the Go decoder, whose output grows with the data instead.
const libdeflateMaxChunk = 1 << 20

// Inflater names the decoder that inflates compressed chunks: "libdeflate
// (<file>)" when the system's libdeflate.so.0 was loaded, else "go" with
// the reason it was not. Both give the same bytes for every stream zlib
// accepts; errUnusedCode names the streams only libdeflate accepts.
func Inflater() string {
	name, why := libdeflateState()
	if name != "" {
		return name
	}
	return "go (" + why + ")"
}

// inflate decompresses one zlib stream of at most chunkSize bytes. A
// truncated stream is accepted only for the last chunk of the image.
func (r *Reader) inflate(stored []byte, last bool) ([]byte, error) {
	if name, _ := libdeflateState(); name != "" && !r.goInflate && r.chunkSize <= libdeflateMaxChunk {
		out := make([]byte, r.chunkSize)
		if n, ok := libdeflateZlib(stored, out); ok {
			return out[:n], nil
		}
		// Refused: the Go decoder names the error and keeps what a
		// truncated last chunk holds, which libdeflate does not.
	}
	st, _ := r.inflaters.Get().(*inflateState)
	if st == nil {
		st = &inflateState{}
	}
	defer r.inflaters.Put(st)
	// Start at the usual chunk size; the output grows with the data rather
	// than trusting a large declared chunk size up front.
	data, err := st.inflateZlib(stored, int(min(r.chunkSize, 1<<20)), int(r.chunkSize))
	if err == errTruncated && last {
		return data, nil
	}
	return data, err
}
