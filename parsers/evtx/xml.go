package evtx

import "strings"

// XML renders the event as the Event Viewer's XML view shows it, indented
// by two spaces per level. It reads the record's chunk again from the
// Reader's input, so it must be called before that is closed; it returns ""
// if the chunk can no longer be read.
func (r *Record) XML() string {
	if r.src == nil {
		return ""
	}
	// The chunk's name and template caches are shared by its records, which
	// callers may render from several goroutines.
	r.src.mu.Lock()
	defer r.src.mu.Unlock()
	c := r.src.chunk()
	if c == nil {
		return ""
	}
	e := expanders.Get().(*expander)
	defer expanders.Put(e)
	root, _ := c.expandRecord(e, r.pos, r.size)
	return renderXML(root)
}

func renderXML(nodes []xnode) string {
	var b strings.Builder
	for i := range nodes {
		writeNode(&b, &nodes[i], 0)
	}
	return b.String()
}

func writeNode(b *strings.Builder, x *xnode, depth int) {
	if !x.isElement() {
		writePiece(b, x)
		return
	}
	indent(b, depth)
	b.WriteByte('<')
	b.WriteString(x.name)
	if x.name == "Event" && depth == 0 && !hasAttr(x, "xmlns") {
		b.WriteString(` xmlns="http://schemas.microsoft.com/win/2004/08/events/event"`)
	}
	for i := range x.attrs {
		b.WriteByte(' ')
		b.WriteString(x.attrs[i].name)
		b.WriteString(`="`)
		escape(b, x.attrs[i].String(), true)
		b.WriteByte('"')
	}
	if len(x.kids) == 0 {
		b.WriteString(" />\n")
		return
	}
	b.WriteByte('>')
	hasElements := false
	for i := range x.kids {
		hasElements = hasElements || x.kids[i].isElement()
	}
	if hasElements {
		b.WriteByte('\n')
	}
	for i := range x.kids {
		writeNode(b, &x.kids[i], depth+1)
	}
	if hasElements {
		indent(b, depth)
	}
	b.WriteString("</")
	b.WriteString(x.name)
	b.WriteString(">\n")
}

func writePiece(b *strings.Builder, x *xnode) {
	switch x.kind {
	case pieceCDATA:
		b.WriteString("<![CDATA[")
		b.WriteString(strings.ReplaceAll(x.text, "]]>", "]]]]><![CDATA[>"))
		b.WriteString("]]>")
	case pieceRaw:
		b.WriteString(x.text)
	case pieceValue:
		escape(b, x.val.String(), false)
	default:
		escape(b, x.text, false)
	}
}

func hasAttr(x *xnode, name string) bool {
	for i := range x.attrs {
		if x.attrs[i].name == name {
			return true
		}
	}
	return false
}

func indent(b *strings.Builder, depth int) {
	for i := 0; i < depth; i++ {
		b.WriteString("  ")
	}
}

func escape(b *strings.Builder, s string, attr bool) {
	for _, c := range s {
		switch {
		case c == '&':
			b.WriteString("&amp;")
		case c == '<':
			b.WriteString("&lt;")
		case c == '>':
			b.WriteString("&gt;")
		case c == '"' && attr:
			b.WriteString("&quot;")
		case c < 0x20 && c != '\t' && c != '\n' && c != '\r':
			// Not allowed in XML 1.0: keep it visible as a character reference.
			b.WriteString("&#x")
			b.WriteString(strings.ToUpper(string("0123456789abcdef"[c>>4])) + strings.ToUpper(string("0123456789abcdef"[c&15])))
			b.WriteByte(';')
		default:
			b.WriteRune(c)
		}
	}
}
