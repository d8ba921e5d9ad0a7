package sigma

import (
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	yaml "go.yaml.in/yaml/v3"
)

// decodeSubset reads the YAML that rule files are written in into the
// nodes yaml.v3 would give, several times faster and with far less
// garbage: one document, block mappings and sequences indented with
// spaces, one-line plain and quoted scalars, one-line flow sequences of
// scalars, and literal and folded block scalars. ok is false for anything
// else (anchors, tags, flow mappings, multi-line plain scalars, several
// documents, tabs, any doubt), and the caller decodes the file with
// yaml.v3, which also gives the errors: this decoder never reports one.
// FuzzYAMLSubset checks that both give the same nodes.
//
// The nodes keep what the compiler reads: kind, style, value (the source
// text of a scalar, see the 00000429 trap in doc.go), line and column,
// and a tag only where the compiler looks at it (!!null).
func decodeSubset(data []byte) (doc *yaml.Node, ok bool) {
	return new(subsetParser).decode(string(data))
}

// decode is decodeSubset on the text of a file. The nodes are p's until
// its reset: a parser taken from subsetParsers decodes file after file
// into the same memory, where one of its own each gave the collector
// some 30 MB a load.
func (p *subsetParser) decode(text string) (doc *yaml.Node, ok bool) {
	if len(text) > maxRuleFile {
		return nil, false
	}
	for i := 0; i < len(text); {
		c := text[i]
		if c < 0x80 {
			if c < 0x20 && c != '\n' || c == 0x7f {
				return nil, false // tabs, carriage returns, control characters
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(text[i:])
		if r == utf8.RuneError && n == 1 || !printable(r) {
			return nil, false // not UTF-8, or not printable
		}
		i += n
	}
	if strings.HasPrefix(text, "\ufeff") {
		return nil, false
	}
	for rest := text; ; {
		l, after, found := strings.Cut(rest, "\n")
		if strings.HasPrefix(l, "---") || strings.HasPrefix(l, "...") || strings.HasPrefix(l, "%") {
			return nil, false // document markers and directives
		}
		n := 0
		for n < len(l) && l[n] == ' ' {
			n++
		}
		p.lines = append(p.lines, l)
		p.indents = append(p.indents, int32(n))
		p.blank = append(p.blank, n == len(l) || l[n] == '#')
		if !found {
			break
		}
		rest = after
	}
	// A rule file has about one and a half nodes a line.
	if want := len(p.lines)*3/2 + 8; cap(p.slab) < want {
		p.slab = make([]yaml.Node, 0, want)
		p.ptrs = make([]*yaml.Node, 0, want)
	}
	first := p.nextContent(0)
	if first >= len(p.lines) || p.indent(first) != 0 {
		return nil, false
	}
	root := p.mapping(first, 0)
	if p.bad || p.nextContent(p.li) < len(p.lines) {
		return nil, false
	}
	base := len(p.stack)
	p.stack = append(p.stack, root)
	return p.node(yaml.Node{Kind: yaml.DocumentNode, Line: root.Line, Column: root.Column, Content: p.children(base)}), true
}

// subsetParsers are parsers to decode with, reset.
var subsetParsers = sync.Pool{New: func() any { return new(subsetParser) }}

// reset forgets the last file, keeping the memory for the next.
func (p *subsetParser) reset() {
	*p = subsetParser{lines: p.lines[:0], indents: p.indents[:0], blank: p.blank[:0],
		slab: p.slab[:0], ptrs: p.ptrs[:0], stack: p.stack[:0]}
}

// printable is YAML's printable set above ASCII, less the characters that
// YAML 1.1 reads as line breaks (NEL, LS, PS): C1 controls, U+FFFE and
// U+FFFF are errors to yaml.v3.
func printable(r rune) bool {
	switch {
	case r < 0xA0, r == 0x2028, r == 0x2029, r == 0xFFFE, r == 0xFFFF:
		return false
	}
	return true
}

type subsetParser struct {
	lines   []string
	indents []int32      // per line, its leading spaces
	blank   []bool       // per line: nothing but spaces or a comment
	slab    []yaml.Node  // the nodes
	ptrs    []*yaml.Node // the nodes' Content
	stack   []*yaml.Node // the children of the collections being read
	li      int          // the first line not consumed
	bad     bool         // outside the subset
}

func (p *subsetParser) indent(li int) int { return int(p.indents[li]) }

// empty reports a line with nothing but spaces or a comment.
func (p *subsetParser) empty(li int) bool { return p.blank[li] }

// node returns a new node from the slab; a full slab is left to the
// nodes in it and another begun.
func (p *subsetParser) node(n yaml.Node) *yaml.Node {
	if len(p.slab) == cap(p.slab) {
		p.slab = make([]yaml.Node, 0, max(64, 2*cap(p.slab)))
	}
	p.slab = append(p.slab, n)
	return &p.slab[len(p.slab)-1]
}

// children returns the nodes on the stack from base as one Content slice
// from ptrs, and pops them: a collection's children are read (and their
// own pushed and popped) before it is complete, so its Content is
// allocated once, at its size.
func (p *subsetParser) children(base int) []*yaml.Node {
	n := len(p.stack) - base
	if n == 0 {
		return nil
	}
	if cap(p.ptrs)-len(p.ptrs) < n {
		p.ptrs = make([]*yaml.Node, 0, max(256, n, 2*cap(p.ptrs)))
	}
	start := len(p.ptrs)
	p.ptrs = append(p.ptrs, p.stack[base:]...)
	p.stack = p.stack[:base]
	return p.ptrs[start:len(p.ptrs):len(p.ptrs)]
}

func (p *subsetParser) nextContent(li int) int {
	for li < len(p.lines) && p.empty(li) {
		li++
	}
	return li
}

// column is the 1-based column yaml.v3 counts, in characters.
func (p *subsetParser) column(li, pos int) int {
	if pos <= int(p.indents[li]) {
		return pos + 1 // spaces only
	}
	return utf8.RuneCountInString(p.lines[li][:pos]) + 1
}

func (p *subsetParser) scalar(li, pos int, style yaml.Style, value string) *yaml.Node {
	tag := "!!str" // the compiler reads the text; the exact type does not matter
	if style == 0 && (value == "" || value == "~" || value == "null" || value == "Null" || value == "NULL") {
		tag = "!!null"
	}
	return p.node(yaml.Node{Kind: yaml.ScalarNode, Style: style, Tag: tag, Value: value, Line: li + 1, Column: p.column(li, pos)})
}

func seqStart(l string, pos int) bool {
	return pos < len(l) && l[pos] == '-' && (pos+1 == len(l) || l[pos+1] == ' ')
}

// restEmpty reports whether only spaces and a comment follow pos.
func restEmpty(l string, pos int) bool {
	for pos < len(l) && l[pos] == ' ' {
		pos++
	}
	return pos == len(l) || l[pos] == '#' && (pos == 0 || l[pos-1] == ' ')
}

// mapping reads a block mapping whose first key starts at (li, col).
func (p *subsetParser) mapping(li, col int) *yaml.Node {
	m := p.node(yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: li + 1, Column: p.column(li, col)})
	base := len(p.stack)
	for !p.bad {
		key, after := p.key(li, col)
		if key == nil {
			p.bad = true
			break
		}
		value := p.value(li, after, col, true) // pushes and pops its own children
		p.stack = append(p.stack, key, value)
		nl := p.nextContent(p.li)
		if nl >= len(p.lines) || p.indent(nl) < col {
			p.li = nl
			break
		}
		if p.indent(nl) > col || seqStart(p.lines[nl], col) {
			p.bad = true // a continuation line, or a sequence where a key belongs
			break
		}
		li = nl
	}
	m.Content = p.children(base)
	return m
}

// key reads "key:" at (li, pos): the key and the offset after the colon,
// or nil when there is no key there.
func (p *subsetParser) key(li, pos int) (*yaml.Node, int) {
	text, style, after, ok := p.keyAt(li, pos)
	if !ok {
		return nil, 0
	}
	return p.scalar(li, pos, style, text), after
}

// keyAt finds "key:" at (li, pos) without making a node.
func (p *subsetParser) keyAt(li, pos int) (text string, style yaml.Style, after int, ok bool) {
	l := p.lines[li]
	if pos >= len(l) {
		return "", 0, 0, false
	}
	switch l[pos] {
	case '\'', '"':
		text, style, end, ok := quotedText(l, pos)
		if !ok || end >= len(l) || l[end] != ':' || end+1 < len(l) && l[end+1] != ' ' {
			return "", 0, 0, false
		}
		return text, style, end + 1, true
	}
	if !plainStart(l, pos) {
		return "", 0, 0, false
	}
	for i := pos; i < len(l); i++ {
		switch {
		case l[i] == ':' && (i+1 == len(l) || l[i+1] == ' '):
			k := strings.TrimRight(l[pos:i], " ")
			if k == "<<" || strings.ContainsAny(k, "[]{}") || len(k) > 1000 {
				return "", 0, 0, false
			}
			return k, 0, i + 1, true
		case l[i] == '#' && l[i-1] == ' ':
			return "", 0, 0, false
		}
	}
	return "", 0, 0, false
}

// isKey reports whether a "key:" starts at (li, pos).
func (p *subsetParser) isKey(li, pos int) bool {
	_, _, _, ok := p.keyAt(li, pos)
	return ok
}

// plainStart reports whether a plain scalar may start at pos: not with an
// indicator, and not with "- ", "? " or ": ".
func plainStart(l string, pos int) bool {
	switch c := l[pos]; c {
	case '-', '?', ':':
		return pos+1 < len(l) && l[pos+1] != ' '
	case ',', '[', ']', '{', '}', '#', '&', '*', '!', '|', '>', '\'', '"', '%', '@', '`':
		return false
	}
	return true
}

// value reads the value after a mapping key's colon or a sequence's dash
// at (li, pos); owner is the column of the mapping or sequence.
func (p *subsetParser) value(li, pos, owner int, inMapping bool) *yaml.Node {
	l := p.lines[li]
	at := pos // an empty value is placed right after the colon or dash
	for pos < len(l) && l[pos] == ' ' {
		pos++
	}
	if restEmpty(l, pos) {
		nl := p.nextContent(li + 1)
		switch {
		case nl < len(p.lines) && p.indent(nl) > owner:
			return p.block(nl)
		case inMapping && nl < len(p.lines) && p.indent(nl) == owner && seqStart(p.lines[nl], owner):
			return p.sequence(nl, owner)
		}
		p.li = li + 1
		return p.null(li, at)
	}
	switch c := l[pos]; {
	case c == '|' || c == '>':
		return p.blockScalar(li, pos, owner)
	case seqStart(l, pos):
		p.bad = true // "- " after a key is an error, after a dash a nested sequence
		return nil
	case p.isKey(li, pos):
		if inMapping {
			p.bad = true // "a: b: c"
			return nil
		}
		return p.mapping(li, pos)
	}
	n, end := p.inline(li, pos)
	if n == nil || !restEmpty(l, end) {
		p.bad = true
		return nil
	}
	p.li = li + 1
	return n
}

// null is the empty value yaml.v3 gives a key or dash with nothing after
// it, placed where it would be.
func (p *subsetParser) null(li, pos int) *yaml.Node {
	return p.scalar(li, pos, 0, "")
}

// block reads the node on its own line at li: a mapping or a sequence. A
// scalar there could continue over the next lines, which is left to yaml.v3.
func (p *subsetParser) block(li int) *yaml.Node {
	col := p.indent(li)
	switch {
	case seqStart(p.lines[li], col):
		return p.sequence(li, col)
	case p.isKey(li, col):
		return p.mapping(li, col)
	}
	p.bad = true
	return nil
}

// sequence reads a block sequence whose first dash is at (li, col).
func (p *subsetParser) sequence(li, col int) *yaml.Node {
	s := p.node(yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Line: li + 1, Column: p.column(li, col)})
	base := len(p.stack)
	for !p.bad {
		item := p.value(li, col+1, col, false)
		if p.bad {
			break
		}
		p.stack = append(p.stack, item)
		nl := p.nextContent(p.li)
		if nl >= len(p.lines) || p.indent(nl) < col || p.indent(nl) == col && !seqStart(p.lines[nl], col) {
			p.li = nl
			break
		}
		if p.indent(nl) > col {
			p.bad = true
			break
		}
		li = nl
	}
	s.Content = p.children(base)
	return s
}

// inline reads a one-line scalar or flow sequence at (li, pos) and returns
// the offset after it.
func (p *subsetParser) inline(li, pos int) (*yaml.Node, int) {
	l := p.lines[li]
	switch l[pos] {
	case '\'', '"':
		return p.quoted(li, pos)
	case '[':
		return p.flowSequence(li, pos)
	}
	if !plainStart(l, pos) {
		return nil, 0
	}
	end := len(l)
	for i := pos; i < len(l); i++ {
		if l[i] == '#' && l[i-1] == ' ' {
			end = i
			break
		}
		if l[i] == ':' && (i+1 == len(l) || l[i+1] == ' ') {
			return nil, 0 // a key where a value belongs
		}
	}
	v := strings.TrimRight(l[pos:end], " ")
	return p.scalar(li, pos, 0, v), end
}

// quoted reads a single- or double-quoted scalar that ends on its line.
func (p *subsetParser) quoted(li, pos int) (*yaml.Node, int) {
	text, style, end, ok := quotedText(p.lines[li], pos)
	if !ok {
		return nil, 0
	}
	return p.scalar(li, pos, style, text), end
}

// quotedText reads the quoted scalar at l[pos] and returns its value and
// the offset after it; ok is false when it continues on the next line or
// holds an escape left to yaml.v3.
func quotedText(l string, pos int) (text string, style yaml.Style, end int, ok bool) {
	q := l[pos]
	style = yaml.SingleQuotedStyle
	if q == '"' {
		style = yaml.DoubleQuotedStyle
	}
	// Most values have no escapes: their text is a piece of the line.
	for i := pos + 1; i < len(l); i++ {
		c := l[i]
		if c == '\\' && q == '"' {
			break
		}
		if c == q {
			if q == '\'' && i+1 < len(l) && l[i+1] == '\'' {
				break
			}
			return l[pos+1 : i], style, i + 1, true
		}
	}
	var b strings.Builder
	for i := pos + 1; i < len(l); i++ {
		c := l[i]
		switch {
		case q == '\'' && c == '\'':
			if i+1 < len(l) && l[i+1] == '\'' {
				b.WriteByte('\'')
				i++
				continue
			}
			return b.String(), style, i + 1, true
		case q == '"' && c == '"':
			return b.String(), style, i + 1, true
		case q == '"' && c == '\\':
			n, ok := unescape(l[i+1:], &b)
			if !ok {
				return "", 0, 0, false
			}
			i += n
		default:
			b.WriteByte(c)
		}
	}
	return "", 0, 0, false // continues on the next line
}

// unescape writes the double-quoted escape at the start of s and returns
// how many bytes it took.
func unescape(s string, b *strings.Builder) (int, bool) {
	if s == "" {
		return 0, false
	}
	width := 0
	switch s[0] {
	case '\\', '"', ' ':
		b.WriteByte(s[0])
		return 1, true
	case 'n':
		b.WriteByte('\n')
		return 1, true
	case 't':
		b.WriteByte('\t')
		return 1, true
	case 'r':
		b.WriteByte('\r')
		return 1, true
	case '0':
		b.WriteByte(0)
		return 1, true
	case 'x':
		width = 2
	case 'u':
		width = 4
	case 'U':
		width = 8
	default:
		return 0, false
	}
	if len(s) < 1+width {
		return 0, false
	}
	v, err := strconv.ParseUint(s[1:1+width], 16, 32)
	if err != nil || v > utf8.MaxRune || 0xD800 <= v && v < 0xE000 {
		return 0, false
	}
	b.WriteRune(rune(v))
	return 1 + width, true
}

// flowSequence reads [a, 'b', "c"] on one line.
func (p *subsetParser) flowSequence(li, pos int) (*yaml.Node, int) {
	l := p.lines[li]
	s := p.node(yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle, Tag: "!!seq", Line: li + 1, Column: p.column(li, pos)})
	i := pos + 1
	base := len(p.stack)
	for {
		for i < len(l) && l[i] == ' ' {
			i++
		}
		if i >= len(l) {
			return nil, 0
		}
		if l[i] == ']' && len(p.stack) == base {
			return s, i + 1
		}
		var n *yaml.Node
		switch l[i] {
		case '\'', '"':
			n, i = p.quoted(li, i)
			if n == nil {
				return nil, 0
			}
		default:
			if !plainStart(l, i) {
				return nil, 0
			}
			j := i
			// yaml.v3 ends a plain scalar in a flow at ? too.
			for j < len(l) && !strings.ContainsRune(",[]{}#:?", rune(l[j])) {
				j++
			}
			v := strings.TrimRight(l[i:j], " ")
			if v == "" {
				return nil, 0
			}
			n, i = p.scalar(li, i, 0, v), j
		}
		p.stack = append(p.stack, n)
		for i < len(l) && l[i] == ' ' {
			i++
		}
		if i >= len(l) {
			return nil, 0
		}
		switch l[i] {
		case ']':
			s.Content = p.children(base)
			return s, i + 1
		case ',':
			i++
		default:
			return nil, 0
		}
	}
}

// blockScalar reads a | or > scalar whose header is at (li, pos); owner
// is the column of the mapping or sequence holding it.
func (p *subsetParser) blockScalar(li, pos, owner int) *yaml.Node {
	l := p.lines[li]
	style := yaml.LiteralStyle
	if l[pos] == '>' {
		style = yaml.FoldedStyle
	}
	strip := false
	h := pos + 1
	if h < len(l) && l[h] == '-' {
		strip = true
		h++
	}
	if !restEmpty(l, h) || h < len(l) && l[h] != ' ' {
		p.bad = true // keep (+), indentation indicators, text after the header
		return nil
	}
	first := li + 1
	if first >= len(p.lines) || strings.TrimLeft(p.lines[first], " ") == "" {
		p.bad = true // empty, or leading blank lines
		return nil
	}
	n := p.indent(first)
	if n <= owner {
		p.bad = true
		return nil
	}
	var content []string
	end := first
	for ; end < len(p.lines); end++ {
		line := p.lines[end]
		if strings.TrimLeft(line, " ") == "" {
			if len(line) > n {
				p.bad = true // spaces beyond the indentation are content
				return nil
			}
			content = append(content, "")
			continue
		}
		if p.indent(end) < n {
			break
		}
		if style == yaml.FoldedStyle && p.indent(end) > n {
			p.bad = true // more-indented lines keep their breaks
			return nil
		}
		content = append(content, line[n:])
	}
	if end == len(p.lines) && content[len(content)-1] != "" {
		p.bad = true // the file ends inside the last line: no line break to keep
		return nil
	}
	for len(content) > 0 && content[len(content)-1] == "" {
		content = content[:len(content)-1]
	}
	var v string
	if style == yaml.LiteralStyle {
		v = strings.Join(content, "\n")
	} else {
		v = fold(content)
	}
	if !strip {
		v += "\n"
	}
	p.li = end
	return p.node(yaml.Node{Kind: yaml.ScalarNode, Style: style, Tag: "!!str", Value: v, Line: li + 1, Column: p.column(li, pos)})
}

// fold joins the lines of a folded scalar: a break between two lines is a
// space, and n empty lines between them are n newlines.
func fold(lines []string) string {
	var b strings.Builder
	for i, l := range lines {
		switch {
		case i == 0:
		case l == "":
			b.WriteByte('\n')
			continue
		case lines[i-1] != "":
			b.WriteByte(' ')
		}
		b.WriteString(l)
	}
	return b.String()
}
