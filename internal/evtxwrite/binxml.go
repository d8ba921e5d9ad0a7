package evtxwrite

import (
	"encoding/binary"
	"hash/fnv"
	"unicode/utf16"
)

// Binary XML tokens (MS-EVEN6 §2.2.12).
const (
	tokEOF          = 0x00
	tokOpenStart    = 0x01
	tokCloseStart   = 0x02
	tokCloseEmpty   = 0x03
	tokEndElement   = 0x04
	tokValue        = 0x05
	tokAttribute    = 0x06
	tokTemplate     = 0x0c
	tokSubstitution = 0x0d
	tokOptionalSub  = 0x0e
	tokFragment     = 0x0f
	flagMore        = 0x40 // on open-start: attributes follow; on attribute: another follows
	noDependency    = 0xffff
)

const eventNamespace = "http://schemas.microsoft.com/win/2004/08/events/event"

// encoder appends Binary XML for one record at a known chunk offset, so that
// names and templates can be written inline and referenced later. What it
// adds to the chunk's tables is kept aside until the record is known to fit.
type encoder struct {
	c         *chunk
	base      int // chunk offset of b[0]
	b         []byte
	names     map[string]uint32 // names first written by this record
	templates map[string]uint32 // template definitions first written by this record
	strs      [64]uint32        // the chunk's string table with this record's names
	tmpls     [32]uint32        // the chunk's template table with this record's templates
}

func (e *encoder) pos() int { return e.base + len(e.b) }

func (e *encoder) u8(v byte)    { e.b = append(e.b, v) }
func (e *encoder) u16(v uint16) { e.b = binary.LittleEndian.AppendUint16(e.b, v) }
func (e *encoder) u32(v uint32) { e.b = binary.LittleEndian.AppendUint32(e.b, v) }

// patch32 writes v at the record-relative offset at.
func (e *encoder) patch32(at int, v uint32) { binary.LittleEndian.PutUint32(e.b[at:], v) }

// name writes a name reference: back to the name's first copy in the chunk,
// or to the position right after the reference, with the name there.
func (e *encoder) name(s string) {
	if off, ok := e.c.names[s]; ok {
		e.u32(off)
		return
	}
	if off, ok := e.names[s]; ok {
		e.u32(off)
		return
	}
	off := uint32(e.pos() + 4)
	e.u32(off)
	units := utf16.Encode([]rune(s))
	hash := nameHash(units)
	bucket := hash % 64
	e.u32(e.strs[bucket]) // the next name in the same string table bucket
	e.strs[bucket] = off
	e.u16(hash)
	e.u16(uint16(len(units)))
	for _, u := range units {
		e.u16(u)
	}
	e.u16(0)
	e.names[s] = off
}

// nameHash is the hash the string table buckets names by: each UTF-16 unit
// added to 65599 times the hash so far, kept to 16 bits.
func nameHash(units []uint16) uint16 {
	var h uint32
	for _, u := range units {
		h = h*65599 + uint32(u)
	}
	return uint16(h)
}

// attr is one attribute of an element in a template definition: a literal
// text, or the substitution sub of type typ.
type attr struct {
	name string
	text string
	sub  int // substitution index, or -1 for text
	typ  byte
}

// element writes an element of a template definition whose content is
// the substitution sub (-1: no content), with attrs, and children written
// by kids (nil: none).
func (e *encoder) element(name string, attrs []attr, sub int, typ byte, kids func()) {
	tok := byte(tokOpenStart)
	if len(attrs) > 0 {
		tok |= flagMore
	}
	e.u8(tok)
	e.u16(noDependency) // no element here depends on an optional value

	sizeAt := len(e.b)
	e.u32(0)
	e.name(name)
	if len(attrs) > 0 {
		listAt := len(e.b)
		e.u32(0)
		for i, a := range attrs {
			t := byte(tokAttribute)
			if i < len(attrs)-1 {
				t |= flagMore
			}
			e.u8(t)
			e.name(a.name)
			if a.sub >= 0 {
				e.subst(a.sub, a.typ)
			} else {
				e.text(a.text)
			}
		}
		e.patch32(listAt, uint32(len(e.b)-listAt-4))
	}
	switch {
	case sub < 0 && kids == nil:
		e.u8(tokCloseEmpty)
	default:
		e.u8(tokCloseStart)
		if sub >= 0 {
			e.subst(sub, typ)
		}
		if kids != nil {
			kids()
		}
		e.u8(tokEndElement)
	}
	e.patch32(sizeAt, uint32(len(e.b)-sizeAt-4))
}

func (e *encoder) subst(i int, typ byte) {
	// Windows marks its substitutions optional, which makes readers drop an
	// element whose value is empty; a normal one keeps an empty <Data>
	// element in every reader, so what was asked for is what is read.
	e.u8(tokSubstitution)
	e.u16(uint16(i))
	e.u8(typ)
}

func (e *encoder) text(s string) {
	units := utf16.Encode([]rune(s))
	e.u8(tokValue)
	e.u8(typeString)
	e.u16(uint16(len(units)))
	for _, u := range units {
		e.u16(u)
	}
}

// templateID derives a template's id and GUID from its shape, so that the
// same events give the same bytes.
func templateID(shape string) (uint32, [16]byte) {
	h := fnv.New128a()
	h.Write([]byte(shape))
	var g [16]byte
	copy(g[:], h.Sum(nil))
	return binary.LittleEndian.Uint32(g[:]), g
}
