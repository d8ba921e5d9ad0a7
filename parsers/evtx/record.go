package evtx

import (
	"encoding/binary"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Record is one event record.
type Record struct {
	ID        uint64    // record id from the record header
	Written   time.Time // written time from the record header
	Chunk     int       // chunk slot index, from 0
	Offset    int64     // file offset of the record
	Recovered bool      // carved from chunk slack rather than walked
	System    System
	// Data holds EventData or UserData leaves in document order. Unnamed
	// <Data> elements (as in the classic Windows PowerShell log) have Name "".
	Data     []Field
	DataKind string // "EventData", "UserData" or ""

	// The record's place in its chunk, from which XML decodes it again:
	// most callers never ask for XML, and keeping every chunk or expanded
	// tree for the few that do would cost more than reading twice.
	src       *chunkSource
	pos, size int
}

// System holds the <System> element's fields.
type System struct {
	Provider, ProviderGUID, EventSourceName string
	EventID, Qualifiers                     uint16
	Version, Level, Opcode                  uint8
	Task                                    uint16
	Keywords                                uint64
	TimeCreated                             time.Time
	EventRecordID                           uint64
	ActivityID, RelatedActivityID           string
	ProcessID, ThreadID                     uint32
	Channel, Computer, UserID               string
}

// Field is one EventData or UserData value, rendered as Windows renders it.
type Field struct {
	Name, Value string
}

// Time is the event's creation time, or the record's written time when the
// event has none.
func (r *Record) Time() time.Time {
	if !r.System.TimeCreated.IsZero() {
		return r.System.TimeCreated
	}
	return r.Written
}

// xnode is an element or text piece after template substitution.
type xnode struct {
	name  string // element name; "" for a text piece
	attrs []xattr
	kids  []xnode
	text  string // literal text of a piece
	val   value  // typed value of a piece, when hasVal
	kind  pieceKind
}

type pieceKind uint8

const (
	pieceText pieceKind = iota
	pieceValue
	pieceCDATA
	pieceRaw // already XML: entity references, processing instructions
)

type xattr struct {
	name  string
	text  string
	val   value
	typed bool
}

func (x *xnode) isElement() bool { return x.name != "" }

// expander substitutes template values into parsed nodes. Expanded pieces
// go on a stack; an element's finished children and attributes move to
// slabs that are reused for the next record, since a record's tree is only
// read until its fields are filled or its XML is rendered.
type expander struct {
	c      *chunk
	depth  int
	err    error // first nested-BinXml error, reported but not fatal
	budget int   // nodes left to expand in this record
	bytes  int   // value and text bytes left to refer to in this record

	stack []xnode
	kids  slab[xnode]
	attrs slab[xattr]
	parse parseStore // nested BinXml and the record's own fragment
}

var expanders = sync.Pool{New: func() any { return new(expander) }}

// maxExpandedNodes and maxExpandedBytes bound one record's expansion:
// templates and nested BinXml can refer to the same pieces and values many
// times over, which a hostile file uses to make a small record expand
// exponentially, or render one 64 KiB value thousands of times. A real
// record refers to each value about once, so its bytes stay under the
// chunk size; the byte bound leaves 32 times that.
const (
	maxExpandedNodes = 1 << 16
	maxExpandedBytes = 32 * chunkSize
)

// reset readies e for a record of chunk c, dropping the previous record's tree.
func (e *expander) reset(c *chunk) {
	clear(e.stack)
	e.stack = e.stack[:0]
	e.kids.reset()
	e.attrs.reset()
	e.parse.reset()
	e.c, e.depth, e.err, e.budget, e.bytes = c, 0, nil, maxExpandedNodes, maxExpandedBytes
}

// spend takes nodes and bytes from the record's budget and reports whether
// they were left; the first overrun is the record's error.
func (e *expander) spend(nodes, bytes int) bool {
	e.budget -= nodes
	e.bytes -= bytes
	if e.budget >= 0 && e.bytes >= 0 {
		return true
	}
	if e.err == nil {
		if e.budget < 0 {
			e.err = formatErr(e.c.base, "binxml: record expands to more than %d nodes", maxExpandedNodes)
		} else {
			e.err = formatErr(e.c.base, "binxml: record expands to more than %d bytes of values", maxExpandedBytes)
		}
	}
	return false
}

// finish moves the pieces pushed since mark off the stack.
func (e *expander) finish(mark int) []xnode {
	out := e.kids.take(e.stack[mark:])
	e.stack = e.stack[:mark]
	return out
}

func (e *expander) expand(nodes []node, vals []value) {
	for i := range nodes {
		n := &nodes[i]
		if !e.spend(1, len(n.text)+len(n.name)) {
			return
		}
		switch n.kind {
		case nodeElement:
			e.element(n, vals)
		case nodeText:
			e.push().text = n.text
		case nodeCDATA:
			x := e.push()
			x.text, x.kind = n.text, pieceCDATA
		case nodeCharRef:
			e.push().text = string(rune(n.index))
		case nodeEntityRef:
			x := e.push()
			x.text, x.kind = "&"+n.name+";", pieceRaw
		case nodePI:
			x := e.push()
			x.text, x.kind = "<?"+n.name+" "+n.text+"?>", pieceRaw
		case nodeTemplate:
			if n.inst != nil && n.inst.tmpl != nil {
				e.expand(n.inst.tmpl.nodes, n.inst.values)
			}
		case nodeSubst:
			e.subst(substValue(vals, n.index))
		}
	}
}

// push appends a zero piece of text to the stack and returns it to be
// filled in place. Pieces and elements are built where they end up: built
// as values and appended, their copies stalled on store forwarding.
func (e *expander) push() *xnode {
	e.stack = append(e.stack, xnode{})
	return &e.stack[len(e.stack)-1]
}

// pushElement appends an element to the stack.
func (e *expander) pushElement(name string, attrs []xattr, kids []xnode) {
	x := e.push()
	x.name, x.attrs, x.kids = name, attrs, kids
}

// noValue is what a substitution with no value refers to; never written.
var noValue value

// substValue is the value substitution i refers to, by reference, which
// spares copying it on the way.
func substValue(vals []value, i uint16) *value {
	if int(i) < len(vals) {
		return &vals[i]
	}
	return &noValue
}

func (e *expander) subst(v *value) {
	if v.isEmpty() {
		return
	}
	if v.typ == typeBinXml {
		e.nested(v)
		return
	}
	if !e.spend(0, len(v.data)) {
		return
	}
	x := e.push()
	x.val, x.kind = *v, pieceValue
}

// nested expands BinXml carried as a substitution value, in the same chunk.
func (e *expander) nested(v *value) {
	if e.depth >= maxDepth {
		if e.err == nil {
			e.err = formatErr(e.c.base+int64(v.off), "binxml: nested binxml deeper than %d", maxDepth)
		}
		return
	}
	cur := cursor{c: e.c, pos: v.off, end: v.off + len(v.data), depth: e.depth, st: &e.parse}
	nodes, err := cur.fragment()
	if err != nil && e.err == nil {
		e.err = err
	}
	e.depth++
	e.expand(nodes, nil)
	e.depth--
}

func (e *expander) element(n *node, vals []value) {
	var attrs []xattr
	if len(n.attrs) > 0 {
		// Room for every attribute, filled in place: those that come out
		// empty are left off the end.
		room := e.attrs.make(len(n.attrs))
		k := 0
		for i := range n.attrs {
			if e.attribute(&n.attrs[i], vals, &room[k]) {
				k++
			} else {
				room[k] = xattr{}
			}
		}
		if k > 0 {
			attrs = room[:k:k]
		}
	}
	// An element whose content is a single substitution follows the
	// substitution rules: an array repeats the element per item, and an
	// empty optional value drops an element that has nothing else to show.
	if len(n.children) == 1 && n.children[0].kind == nodeSubst {
		s := &n.children[0]
		v := substValue(vals, s.index)
		if v.isArray() && v.typ&^typeArray != typeBinary {
			for _, item := range v.items() {
				if !e.spend(1, len(item.data)) {
					return
				}
				kids := e.kids.make(1)
				kids[0].val, kids[0].kind = item, pieceValue
				e.pushElement(n.name, attrs, kids)
			}
			return
		}
		if s.optional && v.isEmpty() && len(attrs) == 0 {
			return
		}
		// The usual <Name>%n</Name> with a plain value: what expand and
		// subst would do, without the round trip through the stack.
		if !v.isEmpty() && v.typ != typeBinXml {
			var kids []xnode
			if e.spend(1, len(v.data)) {
				kids = e.kids.make(1)
				kids[0].val, kids[0].kind = *v, pieceValue
			}
			e.pushElement(n.name, attrs, kids)
			return
		}
	}
	mark := len(e.stack)
	e.expand(n.children, vals)
	e.pushElement(n.name, attrs, e.finish(mark))
}

// attribute resolves an attribute's value into x, which is zero, and
// reports whether it is emitted: attributes whose value comes out empty
// are not.
func (e *expander) attribute(a *attr, vals []value, x *xattr) bool {
	x.name = a.name
	if len(a.value) == 1 {
		switch p := &a.value[0]; p.kind {
		case nodeSubst:
			v := substValue(vals, p.index)
			if v.isEmpty() {
				return false
			}
			if v.typ == typeBinXml {
				mark := len(e.stack)
				e.nested(v)
				x.text = renderXML(e.stack[mark:])
				e.finish(mark)
				return true
			}
			if !e.spend(0, len(v.data)) {
				return false
			}
			x.val, x.typed = *v, true
			return true
		case nodeText:
			// The common literal value, without building it piece by piece;
			// it still counts against the budget as expand would.
			if !e.spend(1, len(p.text)) {
				return false
			}
			x.text = p.text
			return p.text != ""
		}
	}
	mark := len(e.stack)
	e.expand(a.value, vals)
	var b strings.Builder
	for i := range e.stack[mark:] {
		b.WriteString(e.c.plain(&e.stack[mark+i]))
	}
	e.finish(mark)
	x.text = b.String()
	return b.Len() > 0
}

func (a *xattr) String() string {
	if a.typed {
		return a.val.String()
	}
	return a.text
}

// plain is a piece's text as a field value: references resolved, nested
// elements rendered as XML.
func (c *chunk) plain(x *xnode) string {
	switch {
	case x.isElement():
		return renderXML([]xnode{*x})
	case x.kind == pieceValue:
		return c.text(x.val)
	case x.kind == pieceRaw && strings.HasPrefix(x.text, "&"):
		return resolveEntity(x.text)
	}
	return x.text
}

func resolveEntity(ref string) string {
	switch ref {
	case "&amp;":
		return "&"
	case "&lt;":
		return "<"
	case "&gt;":
		return ">"
	case "&quot;":
		return `"`
	case "&apos;":
		return "'"
	}
	return ref
}

// content is the text of an element's children as a field value.
func (c *chunk) content(kids []xnode) string {
	if len(kids) == 1 {
		return c.plain(&kids[0])
	}
	var b strings.Builder
	for i := range kids {
		b.WriteString(c.plain(&kids[i]))
	}
	return b.String()
}

func (c *chunk) attrText(a *xattr) string {
	if a.typed {
		return c.text(a.val)
	}
	return a.text
}

// maxInterned bounds the values worth interning: short ones (names, ids,
// flags, SIDs, GUIDs) repeat across records; long ones rarely do.
const maxInterned = 64

// maxInternedCount bounds an interner's memory: it starts afresh when full.
const maxInternedCount = 8192

// interner maps a value's type and bytes to its rendering. Each chunk
// worker keeps one from chunk to chunk: a log repeats the same providers,
// computers, SIDs and codes in every record, and rendering each once saves
// most string allocations.
type interner struct {
	m   map[string]string
	key []byte
}

func (in *interner) ready() *interner {
	if in.m == nil || len(in.m) > maxInternedCount {
		in.m = make(map[string]string, 256)
	}
	return in
}

// text is v.String(), interned while the chunk is being decoded, or in the
// arena while it is being encoded.
func (c *chunk) text(v value) string {
	if c.enc != nil {
		// Rendering in the arena costs less than looking the text up,
		// whose map missed the cache: a seventh of the dump's time.
		return c.enc.text(v)
	}
	in := c.in
	if in == nil || len(v.data) > maxInterned {
		return v.String()
	}
	in.key = append(append(in.key[:0], v.typ), v.data...)
	if s, ok := in.m[string(in.key)]; ok {
		return s
	}
	s := v.String()
	in.m[string(in.key)] = s
	return s
}

// uintContent is parseUint(c.content(kids)), without rendering the text
// when the content is a single integer value.
func (c *chunk) uintContent(kids []xnode) uint64 {
	if len(kids) == 1 && kids[0].kind == pieceValue {
		if n, ok := valueUint(kids[0].val); ok {
			return n
		}
	}
	return parseUint(c.content(kids))
}

func (c *chunk) attrUint(a *xattr) uint64 {
	if a.typed {
		if n, ok := valueUint(a.val); ok {
			return n
		}
	}
	return parseUint(c.attrText(a))
}

// valueUint reads an integer value as parseUint(v.String()) would: negative
// numbers do not parse and give 0. Other types, and values too short for
// their type, report false and go through their text.
func valueUint(v value) (uint64, bool) {
	d := v.data
	switch v.typ {
	case typeUint8:
		if len(d) >= 1 {
			return uint64(d[0]), true
		}
	case typeUint16:
		if len(d) >= 2 {
			return uint64(binary.LittleEndian.Uint16(d)), true
		}
	case typeUint32:
		if len(d) >= 4 {
			return uint64(binary.LittleEndian.Uint32(d)), true
		}
	case typeUint64:
		if len(d) >= 8 {
			return binary.LittleEndian.Uint64(d), true
		}
	case typeInt8:
		if len(d) >= 1 {
			return nonNegative(int64(int8(d[0]))), true
		}
	case typeInt16:
		if len(d) >= 2 {
			return nonNegative(int64(int16(binary.LittleEndian.Uint16(d)))), true
		}
	case typeInt32:
		if len(d) >= 4 {
			return nonNegative(int64(int32(binary.LittleEndian.Uint32(d)))), true
		}
	case typeInt64:
		if len(d) >= 8 {
			return nonNegative(int64(binary.LittleEndian.Uint64(d))), true
		}
	case typeSizeT, typeHexInt32, typeHexInt64:
		switch len(d) {
		case 4:
			return uint64(binary.LittleEndian.Uint32(d)), true
		case 8:
			return binary.LittleEndian.Uint64(d), true
		}
	}
	return 0, false
}

func nonNegative(n int64) uint64 {
	if n < 0 {
		return 0
	}
	return uint64(n)
}

// fill sets the record's typed fields from its expanded event.
func (r *Record) fill(c *chunk, root []xnode) {
	for i := range root {
		ev := &root[i]
		if !ev.isElement() {
			continue
		}
		for j := range ev.kids {
			k := &ev.kids[j]
			switch k.name {
			case "System":
				r.System.fill(c, k.kids)
			case "EventData", "UserData":
				r.DataKind = k.name
				r.Data = c.appendFields(r.Data, k)
			}
		}
		return
	}
}

func (c *chunk) appendFields(out []Field, parent *xnode) []Field {
	if parent.name == "UserData" {
		// UserData wraps the provider's own element; its leaves are the fields.
		for i := range parent.kids {
			if parent.kids[i].isElement() {
				return c.appendLeaves(out, &parent.kids[i])
			}
		}
		return out
	}
	if out == nil {
		out = make([]Field, 0, len(parent.kids))
	}
	for i := range parent.kids {
		k := &parent.kids[i]
		if !k.isElement() {
			continue
		}
		name := ""
		if k.name != "Data" {
			name = k.name
		}
		for j := range k.attrs {
			if k.attrs[j].name == "Name" {
				name = c.attrText(&k.attrs[j])
			}
		}
		out = append(out, Field{Name: name, Value: c.content(k.kids)})
	}
	return out
}

func (c *chunk) appendLeaves(out []Field, x *xnode) []Field {
	leaf := true
	for i := range x.kids {
		if x.kids[i].isElement() {
			leaf = false
			out = c.appendLeaves(out, &x.kids[i])
		}
	}
	if leaf {
		out = append(out, Field{Name: x.name, Value: c.content(x.kids)})
	}
	return out
}

func (s *System) fill(c *chunk, kids []xnode) {
	for i := range kids {
		k := &kids[i]
		switch k.name {
		case "Provider":
			for j := range k.attrs {
				a := &k.attrs[j]
				switch a.name {
				case "Name":
					s.Provider = c.attrText(a)
				case "Guid":
					s.ProviderGUID = c.attrText(a)
				case "EventSourceName":
					s.EventSourceName = c.attrText(a)
				}
			}
		case "EventID":
			s.EventID = uint16(c.uintContent(k.kids))
			for j := range k.attrs {
				if a := &k.attrs[j]; a.name == "Qualifiers" {
					s.Qualifiers = uint16(c.attrUint(a))
				}
			}
		case "Version":
			s.Version = uint8(c.uintContent(k.kids))
		case "Level":
			s.Level = uint8(c.uintContent(k.kids))
		case "Task":
			s.Task = uint16(c.uintContent(k.kids))
		case "Opcode":
			s.Opcode = uint8(c.uintContent(k.kids))
		case "Keywords":
			s.Keywords = c.uintContent(k.kids)
		case "TimeCreated":
			for j := range k.attrs {
				if a := &k.attrs[j]; a.name == "SystemTime" {
					s.TimeCreated = attrTime(c, a)
				}
			}
		case "EventRecordID":
			s.EventRecordID = c.uintContent(k.kids)
		case "Correlation":
			for j := range k.attrs {
				a := &k.attrs[j]
				switch a.name {
				case "ActivityID":
					s.ActivityID = c.attrText(a)
				case "RelatedActivityID":
					s.RelatedActivityID = c.attrText(a)
				}
			}
		case "Execution":
			for j := range k.attrs {
				a := &k.attrs[j]
				switch a.name {
				case "ProcessID":
					s.ProcessID = uint32(c.attrUint(a))
				case "ThreadID":
					s.ThreadID = uint32(c.attrUint(a))
				}
			}
		case "Channel":
			s.Channel = c.content(k.kids)
		case "Computer":
			s.Computer = c.content(k.kids)
		case "Security":
			for j := range k.attrs {
				if a := &k.attrs[j]; a.name == "UserID" {
					s.UserID = c.attrText(a)
				}
			}
		}
	}
}

// parseUint reads decimal or 0x-prefixed hex; malformed text gives 0.
func parseUint(s string) uint64 {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "0x") || strings.HasPrefix(s, "0X") {
		v, _ := strconv.ParseUint(s[2:], 16, 64)
		return v
	}
	v, _ := strconv.ParseUint(s, 10, 64)
	return v
}

func attrTime(c *chunk, a *xattr) time.Time {
	if a.typed {
		switch a.val.typ {
		case typeFileTime:
			if len(a.val.data) >= 8 {
				return filetime(leUint64(a.val.data))
			}
		case typeSystemTime:
			t, _ := systemtime(a.val.data)
			return t
		}
	}
	for _, layout := range []string{TimeLayout, time.RFC3339Nano, "2006-01-02 15:04:05.999999999"} {
		if t, err := time.Parse(layout, c.attrText(a)); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}

func leUint64(b []byte) uint64 {
	return uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
		uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
}

// FieldKeys gives each field a unique key for maps and JSON: its name, or
// "Data[i]" (i its position) for unnamed fields; a repeated name gets "#n".
func FieldKeys(fields []Field) []string {
	return AppendFieldKeys(make([]string, 0, len(fields)), fields)
}

// AppendFieldKeys is FieldKeys appending to dst, which lets a caller keep
// the keys of a record on its stack.
func AppendFieldKeys(dst []string, fields []Field) []string {
	base := len(dst)
	for i, f := range fields {
		k := f.Name
		if k == "" {
			k = "Data[" + strconv.Itoa(i) + "]"
		}
		dst = append(dst, k)
	}
	keys := dst[base:]
	if len(fields) > 32 {
		numberRepeats(keys)
		return dst
	}
	// Few fields, as nearly every event has: comparing with the earlier
	// names costs less than a map, and comparing their lengths and end
	// bytes first, packed in one word each, less than comparing strings.
	// Going backwards, the earlier keys are still unnumbered when a key
	// counts its repeats among them.
	var sig [32]uint64
	for i, k := range keys {
		if k != "" {
			sig[i] = uint64(len(k))<<16 | uint64(k[0])<<8 | uint64(k[len(k)-1])
		}
	}
	for i := len(keys) - 1; i > 0; i-- {
		n := 0
		for j := 0; j < i; j++ {
			if sig[j] == sig[i] && keys[j] == keys[i] {
				n++
			}
		}
		if n > 0 {
			keys[i] = keys[i] + "#" + strconv.Itoa(n+1)
		}
	}
	return dst
}

// numberRepeats appends "#n" to the n-th occurrence (n > 1) of a key.
func numberRepeats(keys []string) {
	seen := make(map[string]int, len(keys))
	for i, k := range keys {
		if n := seen[k]; n > 0 {
			seen[k] = n + 1
			keys[i] = k + "#" + strconv.Itoa(n+1)
		} else {
			seen[k] = 1
		}
	}
}
