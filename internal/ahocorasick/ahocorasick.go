// Package ahocorasick finds every occurrence of any of many needles in one
// pass over a text, ASCII case folded: the Sigma prefilters and rules and
// the analyzers' content rules look for their literals with it.
package ahocorasick

import (
	"bytes"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
)

// Automaton is an Aho–Corasick matcher over bytes: it finds every
// occurrence of any of its needles in one pass over a text. Goroutines
// may scan with one automaton at once: the trie never changes once built,
// and the table is built once and then only read.
//
// The root's transitions are a dense table, the rest sorted edge lists:
// most states below the root have a single edge, and a dense table per
// state would cost a kilobyte each over some 100,000 states.
type Automaton struct {
	root   [256]int32
	first  []int32 // per state, index of its first edge in edgeB/edgeN
	edgeB  []byte
	edgeN  []int32
	fail   []int32
	dict   []int32 // nearest state on the fail chain that ends a needle, 0 if none
	needle []int32 // needle ending at the state, -1 if none
	starts pairSet // the byte pairs a needle may begin with

	// The transition table, once it pays for itself (buildTable).
	table   atomic.Pointer[transitions]
	scanned atomic.Int64 // bytes scanned without the table
	tableAt int64        // the table's entries: when scanned passes them, it is built; -1 for never
	build   sync.Mutex   // one goroutine builds the table
}

// transitions is an automaton's table: every state's next state on every
// byte class.
type transitions struct {
	class   [256]uint8
	classes int32
	// state*classes + class → next state*classes, complemented (negative)
	// when a needle ends at the next state: the scan multiplies nothing
	// and learns of an output from the entry it loaded anyway.
	next []int32
}

// New builds the automaton of needles, which must be lowered as the
// texts they are looked for in will be.
func New(needles []string) *Automaton {
	// The trie is built from the needles in sorted order, so each state's
	// edges arrive in byte order and a state's children follow a shared
	// prefix: no map per state, which was most of the build time. Edges
	// are collected flat, then grouped by their state (a stable counting
	// sort keeps the byte order), not kept in a slice per state.
	sorted := make([]int, len(needles))
	for i := range sorted {
		sorted[i] = i
	}
	if !sort.StringsAreSorted(needles) { // the prefilter's are
		sort.Slice(sorted, func(a, b int) bool { return needles[sorted[a]] < needles[sorted[b]] })
	}
	size := 0
	for _, n := range needles {
		size += len(n)
	}
	from := make([]int32, 0, size) // edge i goes from state from[i] to state i+1 on byte on[i]
	on := make([]byte, 0, size)
	needleAt := make([]int32, 1, size+1)
	needleAt[0] = -1
	var path []int32 // states along the previous needle
	prev := ""
	for _, ni := range sorted {
		n := needles[ni]
		if n == "" {
			continue
		}
		common := 0
		for common < len(n) && common < len(prev) && n[common] == prev[common] {
			common++
		}
		path = path[:min(common, len(path))]
		s := int32(0)
		if common > 0 {
			s = path[common-1]
		}
		for j := common; j < len(n); j++ {
			nx := int32(len(needleAt))
			needleAt = append(needleAt, -1)
			from = append(from, s)
			on = append(on, n[j])
			s = nx
			path = append(path, s)
		}
		if needleAt[s] < 0 {
			needleAt[s] = int32(ni)
		}
		prev = n
	}
	states := len(needleAt)
	a := &Automaton{
		first: make([]int32, states+1), fail: make([]int32, states),
		dict: make([]int32, states), needle: needleAt,
		edgeB: make([]byte, len(on)), edgeN: make([]int32, len(on)),
	}
	for _, f := range from {
		a.first[f+1]++
	}
	for i := 1; i <= states; i++ {
		a.first[i] += a.first[i-1]
	}
	fill := make([]int32, states)
	copy(fill, a.first[:states])
	for i, f := range from {
		e := fill[f]
		fill[f]++
		a.edgeB[e], a.edgeN[e] = on[i], int32(i+1)
	}
	for e := a.first[0]; e < a.first[1]; e++ {
		a.root[a.edgeB[e]] = a.edgeN[e]
	}
	for _, n := range needles {
		a.starts.addNeedle(n)
	}
	a.tableAt = a.tableEntries()
	// Breadth-first, so every state's fail target is done before it.
	queue := make([]int32, 0, states)
	for e := a.first[0]; e < a.first[1]; e++ {
		queue = append(queue, a.edgeN[e])
	}
	for qi := 0; qi < len(queue); qi++ {
		s := queue[qi]
		for e := a.first[s]; e < a.first[s+1]; e++ {
			c, t := a.edgeB[e], a.edgeN[e]
			f := a.fail[s]
			a.fail[t] = a.step(f, c)
			if a.needle[a.fail[t]] >= 0 {
				a.dict[t] = a.fail[t]
			} else {
				a.dict[t] = a.dict[a.fail[t]]
			}
			queue = append(queue, t)
		}
	}
	return a
}

// ContainsAny reports whether lowered text holds any needle.
func (a *Automaton) ContainsAny(text string) bool {
	found := false
	findIn(a, text, false, func(int) { found = true })
	return found
}

// maxTableEntries bounds the transition table (4 bytes an entry); an
// automaton past it keeps stepping along its edge lists. A table much
// larger than the processor's cache is no faster: on the million-event
// benchmark, tables of 20 MiB scanned at the speed of the edge lists.
const maxTableEntries = 1 << 20

// buildTable computes every state's next state on every byte class, so
// that the scan is one table lookup a byte: bytes no needle has are one
// class, and an upper case ASCII letter is its lower case's class, which
// folds the text as it is read. A table scans some 8 ns a byte faster
// than the edge lists and costs some 7 ns an entry to build, so find
// builds it once it has scanned as many bytes as the table has entries:
// a few events never pay for it, a million do.
func (a *Automaton) buildTable() {
	a.build.Lock()
	defer a.build.Unlock()
	if a.table.Load() != nil || a.tableAt < 0 {
		return
	}
	t := &transitions{}
	var rep [256]byte // the byte of each class
	classes := 1
	for _, c := range a.edgeB {
		if t.class[c] == 0 {
			t.class[c] = uint8(classes)
			rep[classes] = c
			classes++
		}
	}
	for c := 'A'; c <= 'Z'; c++ {
		t.class[c] = t.class[c+'a'-'A']
	}
	states := len(a.fail)
	table := make([]int32, states*classes)
	output := make([]bool, states)
	for k := 1; k < classes; k++ {
		table[k] = a.root[rep[k]]
	}
	// Breadth-first, so that a state's fail target has its row already.
	queue := make([]int32, 0, states)
	for e := a.first[0]; e < a.first[1]; e++ {
		queue = append(queue, a.edgeN[e])
	}
	for qi := 0; qi < len(queue); qi++ {
		s := queue[qi]
		row := table[int(s)*classes : int(s+1)*classes]
		copy(row, table[int(a.fail[s])*classes:])
		for e := a.first[s]; e < a.first[s+1]; e++ {
			row[t.class[a.edgeB[e]]] = a.edgeN[e]
			queue = append(queue, a.edgeN[e])
		}
		output[s] = a.needle[s] >= 0 || a.dict[s] != 0
	}
	for i, next := range table {
		if table[i] = next * int32(classes); output[next] {
			table[i] = ^table[i]
		}
	}
	t.classes, t.next = int32(classes), table
	a.table.Store(t)
}

// tableEntries is the size buildTable would give the table, or -1 when it
// is not to build one: too large, or needles not lowered.
func (a *Automaton) tableEntries() int64 {
	var seen [256]bool
	classes := 1
	for _, c := range a.edgeB {
		if 'A' <= c && c <= 'Z' {
			return -1
		}
		if !seen[c] {
			seen[c] = true
			classes++
		}
	}
	if n := len(a.fail) * classes; classes <= 256 && n <= maxTableEntries {
		return int64(n)
	}
	return -1
}

// edge returns the state s goes to on c, or -1.
func (a *Automaton) edge(s int32, c byte) int32 {
	for e := a.first[s]; e < a.first[s+1]; e++ {
		if a.edgeB[e] == c {
			return a.edgeN[e]
		}
	}
	return -1
}

func (a *Automaton) step(s int32, c byte) int32 {
	for s != 0 {
		if nx := a.edge(s, c); nx >= 0 {
			return nx
		}
		s = a.fail[s]
	}
	return a.root[c]
}

// FindFolded calls fn with the index of every needle occurring in text lowered: ASCII letters are folded byte by
// byte, which spares lowering (and allocating) every value of every
// event; text with other than ASCII is lowered first, as the needles were.
func (a *Automaton) FindFolded(text string, fn func(needle int)) { findFoldedIn(a, text, fn) }

func findFoldedIn[T ~string | ~[]byte](a *Automaton, text T, fn func(needle int)) {
	if !IsASCII(text) {
		findIn(a, lower(text), false, fn)
		return
	}
	findIn(a, text, true, fn)
}

// IsASCII reports whether text is all ASCII, eight bytes at a time: the
// check reads every value of every event a prefilter scans, and byte by
// byte it took a third as long as the scan.
func IsASCII[T ~string | ~[]byte](text T) bool {
	i := 0
	for ; i+8 <= len(text); i += 8 {
		t := text[i : i+8]
		w := uint64(t[0]) | uint64(t[1])<<8 | uint64(t[2])<<16 | uint64(t[3])<<24 |
			uint64(t[4])<<32 | uint64(t[5])<<40 | uint64(t[6])<<48 | uint64(t[7])<<56
		if w&0x8080808080808080 != 0 {
			return false
		}
	}
	for ; i < len(text); i++ {
		if text[i] >= 0x80 {
			return false
		}
	}
	return true
}

func lower[T ~string | ~[]byte](text T) T {
	switch t := any(text).(type) {
	case string:
		return T(strings.ToLower(t))
	case []byte:
		return T(bytes.ToLower(t))
	}
	return T(strings.ToLower(string(text)))
}

// find calls fn with the needle index of every occurrence in text.
func findIn[T ~string | ~[]byte](a *Automaton, text T, fold bool, fn func(needle int)) {
	t := a.table.Load()
	if t == nil && a.tableAt >= 0 && a.scanned.Add(int64(len(text))) > a.tableAt {
		a.buildTable()
		t = a.table.Load()
	}
	if t != nil {
		// The table folds ASCII letters; text that must not be folded
		// has been lowered already, so folding it changes nothing.
		findTableIn(a, t, text, fn)
		return
	}
	s := int32(0)
	for i := 0; i < len(text); i++ {
		if s == 0 {
			i = skip(&a.starts, text, i)
		}
		c := text[i]
		if fold && 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if s == 0 {
			s = a.root[c]
		} else {
			s = a.step(s, c)
		}
		if s == 0 {
			continue
		}
		o := s
		if a.needle[o] < 0 {
			o = a.dict[o]
		}
		for o != 0 {
			fn(int(a.needle[o]))
			o = a.dict[o]
		}
	}
}

func findTableIn[T ~string | ~[]byte](a *Automaton, t *transitions, text T, fn func(needle int)) {
	s := int32(0) // the state times the classes
	classes, table, class := t.classes, t.next, &t.class
	for i := 0; i < len(text); i++ {
		if s == 0 {
			i = skip(&a.starts, text, i)
		}
		if s = table[s+int32(class[text[i]])]; s >= 0 {
			continue
		}
		s = ^s
		o := s / classes
		if a.needle[o] < 0 {
			o = a.dict[o]
		}
		for o != 0 {
			fn(int(a.needle[o]))
			o = a.dict[o]
		}
	}
}

// pairSet is a set of byte pairs. In the root state, a text position
// whose pair (its byte and the next) begins no needle leaves the scan in
// the root: the pair is no needle's prefix, so the state after the next
// byte is the root's on that byte alone. Skipping such positions takes
// none of the dependent table loads of a step; in an event's values most
// positions are such.
type pairSet [1 << 16 / 64]uint64

// skip returns the first position from i on whose pair may begin a
// needle, or the last position of text.
func skip[T ~string | ~[]byte](p *pairSet, text T, i int) int {
	for i+1 < len(text) && !p.has(text[i], text[i+1]) {
		i++
	}
	return i
}

func (p *pairSet) has(x, y byte) bool {
	i := uint(x)<<8 | uint(y)
	return p[i/64]&(1<<(i%64)) != 0
}

// addNeedle adds the pairs n begins with in either ASCII case, as a
// folded scan may meet them; a needle of one byte begins a pair with
// every byte.
func (p *pairSet) addNeedle(n string) {
	if n == "" {
		return
	}
	for _, x := range caseVariants(n[0]) {
		if len(n) == 1 {
			for y := range 256 {
				p.add(x, byte(y))
			}
			continue
		}
		for _, y := range caseVariants(n[1]) {
			p.add(x, y)
		}
	}
}

func (p *pairSet) add(x, y byte) {
	i := uint(x)<<8 | uint(y)
	p[i/64] |= 1 << (i % 64)
}

func caseVariants(c byte) []byte {
	switch {
	case 'a' <= c && c <= 'z':
		return []byte{c, c - 'a' + 'A'}
	case 'A' <= c && c <= 'Z':
		return []byte{c, c - 'A' + 'a'}
	}
	return []byte{c}
}
