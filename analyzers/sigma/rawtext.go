package sigma

import (
	"slices"
	"strconv"
	"strings"
	"unsafe"

	"triage/internal/ahocorasick"
)

// Most events meet only gated rules (prefilter.go) and contain none of
// their literals, yet finding that out meant decoding the event's JSON
// into fields first. MayMatchJSON looks for the literals in the JSON text
// itself: a value's text is in it verbatim but for JSON's escapes, so a
// literal with the same escapes applied is there whenever the value
// holds the literal. Where the escapes cannot be known (a / may be
// written \/, anything may be written \uXXXX) the literal is cut there,
// and text with \u escapes is not judged at all.

// rawFilter is a bucket's literal sets looked for before decoding: those
// of data fields and keywords in the JSON text, and those of the System
// fields in their values (SystemFields sets them, whatever the data
// holds). It counts the prefilter's slots as the prefilter does, on its
// own counts.
type rawFilter struct {
	data   *ahocorasick.Automaton
	dataOf [][]int32 // per needle of data, the slots it fills
	sys    []sysNeedles
	gates  gates
}

type sysNeedles struct {
	value  int // index into the System values, -1 for every one (keywords)
	auto   *ahocorasick.Automaton
	slotOf [][]int32
}

// systemNames are the System fields in the order MayMatchJSON lists their
// values.
var systemNames = []string{"EventID", "Channel", "Provider_Name", "Computer", "Level", "EventRecordID"}

// newRawFilter returns the bucket's rawFilter, or nil when some event of
// the bucket could match without any literal: rules tried always, the
// values the 4688 view computes, a group whose every literal set has a
// literal with nothing left once cut.
func newRawFilter(b *bucket) *rawFilter {
	if len(b.views[View4688AsSysmon]) > 0 || len(b.parts[ViewNative]) == 0 {
		return nil
	}
	shape, need, reqs, ok := joinParts(b.parts[ViewNative])
	if !ok {
		return nil
	}
	// A slot with a literal the text may not show is left out of its
	// group: the group needs one fewer.
	data := map[string][]int32{}
	sys := map[int]map[string][]int32{}
	add := func(m map[string][]int32, n string, sl int32) {
		if l := m[n]; len(l) == 0 || l[len(l)-1] != sl {
			m[n] = append(l, sl)
		}
	}
	addSys := func(i int, n string, sl int32) {
		if sys[i] == nil {
			sys[i] = map[string][]int32{}
		}
		add(sys[i], n, sl)
	}
	for sl, q := range reqs {
		slot := int32(sl)
		if i := slices.Index(systemNames, q.field); i >= 0 {
			for _, n := range q.needles {
				addSys(i, n, slot)
			}
			continue
		}
		var pieces []string
		for _, n := range q.needles {
			piece := longestEscapedPiece(n)
			if piece == "" {
				pieces = nil
				break
			}
			pieces = append(pieces, piece)
		}
		if pieces == nil {
			if need[shape.slotGroup[sl]]--; need[shape.slotGroup[sl]] == 0 {
				return nil
			}
			continue
		}
		for _, n := range pieces {
			add(data, n, slot)
		}
		if q.field == "" {
			for _, n := range q.needles {
				addSys(-1, n, slot)
			}
		}
	}
	rf := &rawFilter{gates: gates{gateShape: shape, need: need}}
	needles, slots := sortedNeedles(data)
	rf.data, rf.dataOf = ahocorasick.New(needles), slots
	for i := -1; i < len(systemNames); i++ {
		if m := sys[i]; m != nil {
			needles, slots := sortedNeedles(m)
			rf.sys = append(rf.sys, sysNeedles{i, ahocorasick.New(needles), slots})
		}
	}
	return rf
}

// joinParts is the slots and gates of a view's parts as one prefilter's
// would be, numbered part after part; ok is false when a part has rules
// tried always. need is a copy, the parts' own are left as they are.
func joinParts(parts []*part) (shape gateShape, need []int32, reqs []slotReq, ok bool) {
	for _, pt := range parts {
		p := pt.pre
		if len(p.ungated) > 0 {
			return gateShape{}, nil, nil, false
		}
		groups, clauses, rules := int32(len(shape.groupClause)), int32(len(shape.clauseRule)), int32(len(shape.ruleNeed))
		for _, g := range p.gates.slotGroup {
			shape.slotGroup = append(shape.slotGroup, g+groups)
		}
		for _, c := range p.gates.groupClause {
			shape.groupClause = append(shape.groupClause, c+clauses)
		}
		for _, r := range p.gates.clauseRule {
			shape.clauseRule = append(shape.clauseRule, r+rules)
		}
		shape.ruleNeed = append(shape.ruleNeed, p.gates.ruleNeed...)
		need = append(need, p.gates.need...)
		reqs = append(reqs, p.reqs...)
	}
	return shape, need, reqs, true
}

// longestEscapedPiece is the longest part of a literal JSON-escaped that
// the JSON text of any value holding the literal contains.
func longestEscapedPiece(n string) string {
	var best, cur []byte
	cut := func() {
		if len(cur) > len(best) {
			best = cur
		}
		cur = nil
	}
	for i := 0; i < len(n); i++ {
		switch c := n[i]; {
		case c == '\\' || c == '"':
			cur = append(cur, '\\', c)
		case c == '\n':
			cur = append(cur, '\\', 'n')
		case c == '\r':
			cur = append(cur, '\\', 'r')
		case c == '\t':
			cur = append(cur, '\\', 't')
		case c == '/' || c < 0x20:
			cut() // may be escaped or not, or written \uXXXX
		default:
			cur = append(cur, c)
		}
	}
	cut()
	return string(best)
}

// MayMatchJSON reports whether an event of the channel and event id may
// match a rule, judged from data, the JSON text of its fields (a flat
// object of strings), and its System values. False means that no rule
// matches it, so it need not be decoded; true, that it must be decoded
// and matched. The System values are those SystemFields adds.
func (m *Matcher) MayMatchJSON(channel string, eventID int, data, provider, computer string, level int, recordID int64) bool {
	b := m.set.bucket(channel, eventID)
	if b == nil {
		return false
	}
	if b.raw == nil {
		return true
	}
	rf := b.raw
	sc := &m.raw
	sc.count = m.count(&rf.gates)
	sc.count.next()
	sc.count.hits = sc.count.hits[:0]
	sc.auto, sc.slotsOf = rf.data, rf.dataOf
	// The values only: a key holds no literal a rule looks for, and keys
	// were a quarter of the text.
	if !plainJSONValues(data, sc.value) {
		return true
	}
	if len(rf.sys) > 0 && len(sc.count.hits) == 0 {
		// The numbers are formatted into the scan's buffer, which they
		// outlive only until the next event.
		num := sc.numbers[:0]
		num = strconv.AppendInt(num, int64(eventID), 10)
		idEnd := len(num)
		num = strconv.AppendInt(num, int64(level), 10)
		levelEnd := len(num)
		num = strconv.AppendInt(num, recordID, 10)
		sc.numbers = num
		text := unsafe.String(unsafe.SliceData(num), len(num))
		sys := [...]string{text[:idEnd], channel, provider, computer, text[idEnd:levelEnd], text[levelEnd:]}
		for _, sn := range rf.sys {
			sc.slotsOf = sn.slotOf
			for i, v := range sys {
				if sn.value == i || sn.value < 0 {
					sn.auto.FindFolded(v, sc.needle)
				}
			}
		}
	}
	return len(sc.count.hits) > 0
}

// rawScan is what MayMatchJSON's scan of one event fills: the callbacks
// are made once per Matcher, as closures made per event were a sixth of
// its time in allocations.
type rawScan struct {
	count   *gateCount
	auto    *ahocorasick.Automaton
	slotsOf [][]int32 // of auto's needles
	numbers []byte    // the System numbers' text
	value   func(string)
	needle  func(int)
}

func (sc *rawScan) init() {
	sc.needle = func(n int) { sc.count.hits = sc.count.fill(sc.slotsOf[n], sc.count.hits) }
	sc.value = func(v string) { sc.auto.FindFolded(v, sc.needle) }
}

func hasControl(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 {
			return true
		}
	}
	return false
}

// plainJSONValues reports whether d is a JSON object whose values are all
// strings with no \u escapes, and calls value with the text of each
// between its quotes: that is the value with only the escapes
// longestEscapedPiece accounts for. Anything else (other values, \u, bad
// JSON) is left to decoding, whatever value was called with.
func plainJSONValues(d string, value func(string)) bool {
	i := skipJSONSpace(d, 0)
	if i >= len(d) || d[i] != '{' {
		return false
	}
	i = skipJSONSpace(d, i+1)
	if i < len(d) && d[i] == '}' {
		return skipJSONSpace(d, i+1) == len(d)
	}
	for {
		var ok bool
		if i, ok = plainJSONString(d, i); !ok { // the key
			return false
		}
		if i = skipJSONSpace(d, i); i >= len(d) || d[i] != ':' {
			return false
		}
		start := skipJSONSpace(d, i+1)
		if i, ok = plainJSONString(d, start); !ok {
			return false
		}
		value(d[start+1 : i-1])
		if i = skipJSONSpace(d, i); i >= len(d) {
			return false
		}
		switch d[i] {
		case ',':
			i = skipJSONSpace(d, i+1)
		case '}':
			return skipJSONSpace(d, i+1) == len(d)
		default:
			return false
		}
	}
}

// plainJSONString skips the string at d[i], false when there is none or
// it holds a \u escape or a control character.
func plainJSONString(d string, i int) (int, bool) {
	if i >= len(d) || d[i] != '"' {
		return 0, false
	}
	for j := i + 1; j < len(d); j++ {
		switch c := d[j]; {
		case c == '"':
			return j + 1, true
		case c == '\\':
			if j+1 >= len(d) || !strings.ContainsRune(`"\/bfnrt`, rune(d[j+1])) {
				return 0, false
			}
			j++
		case c < 0x20:
			return 0, false
		}
	}
	return 0, false
}

func skipJSONSpace(d string, i int) int {
	for i < len(d) && (d[i] == ' ' || d[i] == '\n' || d[i] == '\t' || d[i] == '\r') {
		i++
	}
	return i
}
