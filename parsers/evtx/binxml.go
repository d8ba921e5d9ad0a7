package evtx

import (
	"encoding/binary"
	"io"
	"slices"
	"sync"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// BinXml tokens (MS-EVEN6 §2.2.12); 0x40 on a token means "more follows"
// (attributes on an element, another attribute, a further value piece).
const (
	tokEOF          = 0x00
	tokOpenStart    = 0x01
	tokCloseStart   = 0x02
	tokCloseEmpty   = 0x03
	tokEndElement   = 0x04
	tokValue        = 0x05
	tokAttribute    = 0x06
	tokCDATA        = 0x07
	tokCharRef      = 0x08
	tokEntityRef    = 0x09
	tokPITarget     = 0x0a
	tokPIData       = 0x0b
	tokTemplate     = 0x0c
	tokSubst        = 0x0d
	tokOptSubst     = 0x0e
	tokFragment     = 0x0f
	tokHasMoreFlag  = 0x40
	maxDepth        = 64   // element and nested-BinXml nesting
	maxValues       = 4096 // substitution values in one template instance
	maxNodesPerElem = 65536
)

type nodeKind uint8

const (
	nodeElement nodeKind = iota
	nodeText             // literal text from a value token
	nodeSubst            // a substitution, resolved against the instance's values
	nodeCharRef
	nodeEntityRef
	nodeCDATA
	nodePI
	nodeTemplate // a template instance with its values
)

// node is one piece of parsed BinXml, before substitution.
type node struct {
	kind     nodeKind
	name     string // element, entity or PI target name
	text     string // literal text, CDATA, PI data
	attrs    []attr
	children []node
	index    uint16 // substitution index, or the character of a char ref
	optional bool
	inst     *instance
}

type attr struct {
	name  string
	value []node
}

type template struct {
	nodes   []node
	parsing bool // guards against a definition that refers to itself
	err     error
}

type instance struct {
	tmpl   *template
	values []value
}

// value is a substitution value; data aliases the chunk buffer.
type value struct {
	typ  byte
	data []byte
	off  int // chunk-relative offset of data, for nested BinXml
}

// chunk holds one 64 KiB chunk and the per-chunk caches of names and
// template definitions, which are addressed by chunk-relative offsets.
type chunk struct {
	buf       []byte
	base      int64 // file offset of buf[0]
	names     map[uint32]string
	templates map[uint32]*template
	live      map[uint64]bool // ids of the records read, for carving
	defs      parseStore      // the templates' nodes

	in  *interner    // while the chunk is decoded (see text)
	enc *encoding    // while the chunk is decoded for Encoded
	src *chunkSource // where the chunk came from, for its records' XML
}

// chunkSource lets a record read its chunk again to render its XML, long
// after the buffer it was first decoded from went back to the pool.
type chunkSource struct {
	r    io.ReaderAt
	base int64 // file offset of the chunk
	size int   // bytes the chunk had when first read
	mu   sync.Mutex
	c    *chunk // decoded again on the first XML call, with fresh caches
}

// chunk returns the chunk decoded again from the input, or nil if it can no
// longer be read as it was.
func (s *chunkSource) chunk() *chunk {
	if s.c == nil {
		buf := make([]byte, s.size)
		if n, _ := s.r.ReadAt(buf, s.base); n != s.size {
			return nil
		}
		s.c = newChunk(buf, s.base)
	}
	return s.c
}

func newChunk(buf []byte, base int64) *chunk {
	c := new(chunk)
	c.reuse(buf, base)
	return c
}

// reuse readies c for another chunk, keeping its maps and slabs: a chunk
// worker decodes one chunk after another, and nothing taken from a chunk's
// caches outlives its decoding but strings.
func (c *chunk) reuse(buf []byte, base int64) {
	c.buf, c.base = buf, base
	if c.names == nil {
		c.names = make(map[uint32]string)
		c.templates = make(map[uint32]*template)
		// A chunk holds a few dozen templates at most; small slabs waste less.
		c.defs.nodes.size, c.defs.attrs.size, c.defs.vals.size, c.defs.insts.size = 128, 64, 32, 8
	}
	clear(c.names)
	clear(c.templates)
	c.defs.reset()
}

// cursor reads tokens from c.buf[pos:end].
type cursor struct {
	c          *chunk
	pos, end   int
	inTemplate bool // element headers carry a dependency id only inside template definitions
	depth      int
	st         *parseStore
}

// parseStore is where a cursor puts what it parses, in slabs rather than a
// slice per element, which spares the allocator and the collector most of
// the work. Template definitions live as long as their chunk and go to the
// chunk's store, never reset; a record's own BinXml is only needed until it
// is expanded, so it goes to a store reset record after record.
type parseStore struct {
	stack  []node // pieces of the elements still open
	nodes  slab[node]
	astack []attr // attributes of the element being read
	attrs  slab[attr]
	vals   slab[value]
	insts  slab[instance]
}

func (st *parseStore) reset() {
	st.stack = st.stack[:0]
	st.nodes.reset()
	st.astack = st.astack[:0]
	st.attrs.reset()
	st.vals.reset()
	st.insts.reset()
}

// finish moves the pieces pushed since mark off the stack.
func (st *parseStore) finish(mark int) []node {
	out := st.nodes.take(st.stack[mark:])
	clear(st.stack[mark:]) // the stack must not keep a record's strings alive
	st.stack = st.stack[:mark]
	return out
}

// slab is a bump allocator for short-lived slices. A full slab is replaced,
// not grown, so slices handed out earlier stay valid until reset; reset
// keeps the full slabs for reuse, so that a decoder that goes from record
// to record or chunk to chunk stops allocating once it has seen its largest.
type slab[T any] struct {
	buf  []T
	full [][]T // filled since the last reset
	free [][]T // filled before it, to be handed out again
	size int   // items per replacement, slabItems if 0
}

const slabItems = 1024

// maxKeptSlabs bounds what a slab keeps for reuse, so one huge record or
// chunk does not pin its memory for the decoder's lifetime.
const maxKeptSlabs = 32

func (s *slab[T]) grow(n int) {
	if cap(s.buf) > 0 {
		s.full = append(s.full, s.buf)
	}
	for len(s.free) > 0 {
		b := s.free[len(s.free)-1]
		s.free[len(s.free)-1] = nil
		s.free = s.free[:len(s.free)-1]
		if cap(b) >= n {
			s.buf = b[:0]
			return
		}
	}
	size := s.size
	if size == 0 {
		size = slabItems
	}
	s.buf = make([]T, 0, max(size, n))
}

// take copies items into the slab. The result has no spare capacity, so an
// append to it cannot overwrite its neighbour.
func (s *slab[T]) take(items []T) []T {
	if len(items) == 0 {
		return nil
	}
	if cap(s.buf)-len(s.buf) < len(items) {
		s.grow(len(items))
	}
	n := len(s.buf)
	s.buf = append(s.buf, items...)
	return s.buf[n:len(s.buf):len(s.buf)]
}

// make returns n zero items from the slab.
func (s *slab[T]) make(n int) []T {
	if cap(s.buf)-len(s.buf) < n {
		s.grow(n)
	}
	m := len(s.buf)
	s.buf = s.buf[:m+n]
	clear(s.buf[m:])
	return s.buf[m : m+n : m+n]
}

// reset makes every slice handed out invalid and the memory reusable.
func (s *slab[T]) reset() {
	s.buf = s.buf[:0]
	for _, b := range s.full {
		if len(s.free) < maxKeptSlabs {
			s.free = append(s.free, b)
		}
	}
	clear(s.full)
	s.full = s.full[:0]
}

func (r *cursor) fail(format string, args ...any) error {
	return formatErr(r.c.base+int64(r.pos), format, args...)
}

func (r *cursor) need(n int) error {
	if n < 0 || r.pos+n > r.end {
		return r.fail("binxml: %d bytes needed, %d left", n, r.end-r.pos)
	}
	return nil
}

func (r *cursor) u8() (byte, error) {
	if err := r.need(1); err != nil {
		return 0, err
	}
	b := r.c.buf[r.pos]
	r.pos++
	return b, nil
}

func (r *cursor) u16() (uint16, error) {
	if err := r.need(2); err != nil {
		return 0, err
	}
	v := binary.LittleEndian.Uint16(r.c.buf[r.pos:])
	r.pos += 2
	return v, nil
}

func (r *cursor) u32() (uint32, error) {
	if err := r.need(4); err != nil {
		return 0, err
	}
	v := binary.LittleEndian.Uint32(r.c.buf[r.pos:])
	r.pos += 4
	return v, nil
}

// utf16String reads n UTF-16 code units.
func (r *cursor) utf16String(n int) (string, error) {
	if err := r.need(2 * n); err != nil {
		return "", err
	}
	s := decodeUTF16(r.c.buf[r.pos : r.pos+2*n])
	r.pos += 2 * n
	return s, nil
}

// name reads a name reference: a chunk-relative offset that is either the
// position right after it (the name follows inline) or a back-reference.
func (r *cursor) name() (string, error) {
	off, err := r.u32()
	if err != nil {
		return "", err
	}
	if int(off) == r.pos {
		s, size, err := r.c.readName(off)
		if err != nil {
			return "", err
		}
		if err := r.need(size); err != nil {
			return "", err
		}
		r.pos += size
		return s, nil
	}
	s, _, err := r.c.readName(off)
	return s, err
}

// readName decodes the name structure at off (u32 next, u16 hash, u16
// length, UTF-16, u16 NUL) and returns it with its size in bytes.
func (c *chunk) readName(off uint32) (string, int, error) {
	o := int(off)
	if o < 0 || o+8 > len(c.buf) {
		return "", 0, formatErr(c.base+int64(o), "binxml: name offset out of chunk")
	}
	n := int(binary.LittleEndian.Uint16(c.buf[o+6:]))
	size := 8 + 2*n + 2
	if o+size > len(c.buf) {
		return "", 0, formatErr(c.base+int64(o), "binxml: name of %d characters overruns chunk", n)
	}
	if s, ok := c.names[off]; ok {
		return s, size, nil
	}
	s := decodeUTF16(c.buf[o+8 : o+8+2*n])
	c.names[off] = s
	return s, size, nil
}

// fragment parses fragment headers and their content up to EOF. A record
// may hold several fragments back to back.
func (r *cursor) fragment() ([]node, error) {
	mark := len(r.st.stack)
	err := r.fragments()
	return r.st.finish(mark), err
}

func (r *cursor) fragments() error {
	for r.pos < r.end {
		tok := r.c.buf[r.pos] &^ tokHasMoreFlag // content stops on the same base tokens
		if tok == tokEOF {
			r.pos++
			break
		}
		if tok == tokFragment {
			if err := r.need(4); err != nil {
				return err
			}
			r.pos += 4
		}
		if err := r.content(true); err != nil {
			return err
		}
	}
	return nil
}

// content parses tokens until an end-element token (consumed) or, at the top
// level, until EOF or a further fragment header (not consumed). The pieces
// go on r.st.stack, and stay there on error: a damaged record keeps what
// was read before the damage.
func (r *cursor) content(top bool) error {
	mark := len(r.st.stack)
	for {
		if len(r.st.stack)-mark > maxNodesPerElem {
			return r.fail("binxml: too many nodes in one element")
		}
		if r.pos >= r.end {
			if top {
				return nil
			}
			return r.fail("binxml: element not closed before end of data")
		}
		tok := r.c.buf[r.pos]
		switch tok &^ tokHasMoreFlag {
		case tokEOF, tokFragment:
			if top {
				return nil
			}
			return r.fail("binxml: unexpected token 0x%02x inside element", tok)
		case tokEndElement:
			if top {
				return r.fail("binxml: end element at top level")
			}
			r.pos++
			return nil
		case tokOpenStart:
			n, err := r.element()
			if err != nil {
				return err
			}
			r.st.stack = append(r.st.stack, n)
		case tokValue, tokSubst, tokOptSubst, tokCharRef, tokEntityRef, tokCDATA, tokPITarget, tokTemplate:
			n, err := r.piece()
			if err != nil {
				return err
			}
			r.st.stack = append(r.st.stack, n)
		default:
			return r.fail("binxml: unknown token 0x%02x", tok)
		}
	}
}

// piece parses one non-element token of content or attribute value.
func (r *cursor) piece() (node, error) {
	tok, _ := r.u8()
	switch tok &^ tokHasMoreFlag {
	case tokValue:
		if _, err := r.u8(); err != nil { // value type: always a UTF-16 string here
			return node{}, err
		}
		n, err := r.u16()
		if err != nil {
			return node{}, err
		}
		s, err := r.utf16String(int(n))
		return node{kind: nodeText, text: s}, err
	case tokSubst, tokOptSubst:
		idx, err := r.u16()
		if err != nil {
			return node{}, err
		}
		if _, err := r.u8(); err != nil { // the descriptor's type is trusted instead
			return node{}, err
		}
		return node{kind: nodeSubst, index: idx, optional: tok&^tokHasMoreFlag == tokOptSubst}, nil
	case tokCharRef:
		v, err := r.u16()
		return node{kind: nodeCharRef, index: v}, err
	case tokEntityRef:
		s, err := r.name()
		return node{kind: nodeEntityRef, name: s}, err
	case tokCDATA:
		n, err := r.u16()
		if err != nil {
			return node{}, err
		}
		s, err := r.utf16String(int(n))
		return node{kind: nodeCDATA, text: s}, err
	case tokPITarget:
		target, err := r.name()
		if err != nil {
			return node{}, err
		}
		pi := node{kind: nodePI, name: target}
		if r.pos < r.end && r.c.buf[r.pos] == tokPIData {
			r.pos++
			n, err := r.u16()
			if err != nil {
				return node{}, err
			}
			pi.text, err = r.utf16String(int(n))
			if err != nil {
				return node{}, err
			}
		}
		return pi, nil
	case tokTemplate:
		inst, err := r.templateInstance()
		return node{kind: nodeTemplate, inst: inst}, err
	}
	r.pos--
	return node{}, r.fail("binxml: unexpected token 0x%02x", tok)
}

// elementHeaderHasDependencyID decides whether the open-element token at
// r.pos carries the u16 dependency id. Writers differ, so the reading whose
// data size fits what is left wins, as FORMATS.md advises.
func (r *cursor) elementHeaderHasDependencyID() bool {
	if !r.inTemplate {
		return false
	}
	fits := func(sizeAt int) bool {
		if sizeAt+8 > r.end {
			return false
		}
		size := int(binary.LittleEndian.Uint32(r.c.buf[sizeAt:]))
		nameOff := int(binary.LittleEndian.Uint32(r.c.buf[sizeAt+4:]))
		return sizeAt+4+size <= r.end && nameOff < len(r.c.buf)
	}
	if fits(r.pos + 3) {
		return true
	}
	return !fits(r.pos + 1)
}

func (r *cursor) element() (node, error) {
	if r.depth >= maxDepth {
		return node{}, r.fail("binxml: nesting deeper than %d", maxDepth)
	}
	r.depth++
	defer func() { r.depth-- }()

	withDep := r.elementHeaderHasDependencyID()
	tok, _ := r.u8()
	if withDep {
		if _, err := r.u16(); err != nil {
			return node{}, err
		}
	}
	if _, err := r.u32(); err != nil { // data size: tokens are parsed one by one instead
		return node{}, err
	}
	name, err := r.name()
	if err != nil {
		return node{}, err
	}
	el := node{kind: nodeElement, name: name}
	if tok&tokHasMoreFlag != 0 {
		if _, err := r.u32(); err != nil { // attribute list size
			return node{}, err
		}
		// Attributes gather on a stack and move to a slab, as pieces do,
		// rather than each element growing a slice of its own.
		mark := len(r.st.astack)
		for r.pos < r.end && r.c.buf[r.pos]&^tokHasMoreFlag == tokAttribute {
			r.st.astack = append(r.st.astack, attr{})
			if err := r.attribute(&r.st.astack[len(r.st.astack)-1]); err != nil {
				clear(r.st.astack[mark:])
				r.st.astack = r.st.astack[:mark]
				return node{}, err
			}
		}
		el.attrs = r.st.attrs.take(r.st.astack[mark:])
		clear(r.st.astack[mark:]) // the stack must not keep a record's strings alive
		r.st.astack = r.st.astack[:mark]
	}
	end, err := r.u8()
	if err != nil {
		return node{}, err
	}
	switch end {
	case tokCloseEmpty:
		return el, nil
	case tokCloseStart:
		mark := len(r.st.stack)
		err = r.content(false)
		el.children = r.st.finish(mark)
		return el, err
	}
	r.pos--
	return node{}, r.fail("binxml: element %q not closed (token 0x%02x)", name, end)
}

// attribute reads an attribute into a, its pieces by way of the stack.
func (r *cursor) attribute(a *attr) error {
	r.pos++ // the attribute token
	name, err := r.name()
	if err != nil {
		return err
	}
	a.name = name
	mark := len(r.st.stack)
	for r.pos < r.end {
		switch r.c.buf[r.pos] &^ tokHasMoreFlag {
		case tokValue, tokSubst, tokOptSubst, tokCharRef, tokEntityRef:
			n, err := r.piece()
			if err != nil {
				a.value = r.st.finish(mark)
				return err
			}
			r.st.stack = append(r.st.stack, n)
			continue
		}
		break
	}
	a.value = r.st.finish(mark)
	return nil
}

// templateInstance parses token 0x0C: the definition (inline or a
// back-reference), then the value descriptors and values.
func (r *cursor) templateInstance() (*instance, error) {
	if err := r.need(9); err != nil {
		return nil, err
	}
	r.pos += 5 // unknown byte, template id
	defOff, _ := r.u32()
	tmpl, err := r.c.template(defOff, r.depth)
	if err != nil {
		return nil, err
	}
	if int(defOff) == r.pos { // inline definition: skip its header and data
		size := int(binary.LittleEndian.Uint32(r.c.buf[r.pos+20:]))
		if err := r.need(24 + size); err != nil {
			return nil, err
		}
		r.pos += 24 + size
	}
	count, err := r.u32()
	if err != nil {
		return nil, err
	}
	if count > maxValues || r.need(4*int(count)) != nil {
		return nil, r.fail("binxml: %d substitution values do not fit", count)
	}
	inst := r.st.instance(tmpl, int(count))
	descs := r.pos
	r.pos += 4 * int(count)
	for i := range inst.values {
		d := r.c.buf[descs+4*i:]
		size := int(binary.LittleEndian.Uint16(d))
		if err := r.need(size); err != nil {
			return nil, err
		}
		// Field by field: a value built whole and copied in stalled on
		// store forwarding, a third of this function's time.
		v := &inst.values[i]
		v.typ, v.data, v.off = d[2], r.c.buf[r.pos:r.pos+size], r.pos
		r.pos += size
	}
	return inst, nil
}

// template returns the definition at chunk offset off, parsing and caching it
// on first use.
func (c *chunk) template(off uint32, depth int) (*template, error) {
	if t, ok := c.templates[off]; ok {
		if t.parsing {
			return nil, formatErr(c.base+int64(off), "binxml: template refers to itself")
		}
		return t, t.err
	}
	o := int(off)
	if o < 0 || o+24 > len(c.buf) {
		return nil, formatErr(c.base+int64(o), "binxml: template offset out of chunk")
	}
	size := int(binary.LittleEndian.Uint32(c.buf[o+20:]))
	if o+24+size > len(c.buf) {
		return nil, formatErr(c.base+int64(o), "binxml: template of %d bytes overruns chunk", size)
	}
	t := &template{parsing: true}
	c.templates[off] = t
	cur := cursor{c: c, pos: o + 24, end: o + 24 + size, inTemplate: true, depth: depth, st: &c.defs}
	t.nodes, t.err = cur.fragment()
	t.parsing = false
	return t, t.err
}

func (st *parseStore) instance(tmpl *template, count int) *instance {
	inst := &st.insts.make(1)[0]
	inst.tmpl, inst.values = tmpl, st.vals.make(count)
	return inst
}

// decodeUTF16 converts little-endian UTF-16 to UTF-8; unpaired surrogates
// become U+FFFD.
func decodeUTF16(b []byte) string {
	return ownedString(appendUTF16(make([]byte, 0, len(b)/2), b))
}

// appendUTF16 appends b, little-endian UTF-16, to dst as UTF-8. Event text
// is nearly all ASCII, so it is converted eight units at a time in one
// pass, until a unit of 0x80 or more sends the rest to the general loop.
func appendUTF16(dst, b []byte) []byte {
	const nonASCII = 0xff80ff80ff80ff80
	n := len(b) / 2
	start := len(dst)
	dst = slices.Grow(dst, n)[:start+n]
	out := dst[start:]
	i := 0
	for ; i+8 <= n; i += 8 {
		w0 := binary.LittleEndian.Uint64(b[2*i:])
		w1 := binary.LittleEndian.Uint64(b[2*i+8:])
		if (w0|w1)&nonASCII != 0 {
			return appendUTF16Slow(dst[:start+i], b[2*i:])
		}
		binary.LittleEndian.PutUint64(out[i:], uint64(pack4(w0))|uint64(pack4(w1))<<32)
	}
	for ; i < n; i++ {
		if b[2*i] >= 0x80 || b[2*i+1] != 0 {
			return appendUTF16Slow(dst[:start+i], b[2*i:])
		}
		out[i] = b[2*i]
	}
	return dst
}

// pack4 gathers the low bytes of four ASCII UTF-16 units.
func pack4(w uint64) uint32 {
	return uint32(w&0xff | w>>8&0xff00 | w>>16&0xff0000 | w>>24&0xff000000)
}

// appendUTF16Slow is appendUTF16 one unit at a time.
func appendUTF16Slow(dst, b []byte) []byte {
	dst = slices.Grow(dst, len(b)+len(b)/2)
	for i := 0; i+1 < len(b); i += 2 {
		u := rune(binary.LittleEndian.Uint16(b[i:]))
		if utf16.IsSurrogate(u) && i+3 < len(b) {
			u2 := rune(binary.LittleEndian.Uint16(b[i+2:]))
			if d := utf16.DecodeRune(u, u2); d != utf8.RuneError {
				dst = utf8.AppendRune(dst, d)
				i += 2
				continue
			}
		}
		if utf16.IsSurrogate(u) {
			u = utf8.RuneError
		}
		dst = utf8.AppendRune(dst, u)
	}
	return dst
}

// ownedString turns b into a string without copying it, as strings.Builder
// does; strings are the bulk of what a record allocates. The caller must
// not touch b afterwards.
func ownedString(b []byte) string {
	return unsafe.String(unsafe.SliceData(b), len(b))
}
