package sigma

import (
	"sort"
	"strings"
)

// automaton is an Aho–Corasick matcher over bytes: it finds every
// occurrence of any of its needles in one pass over a text.
//
// The root's transitions are a dense table, the rest sorted edge lists:
// most states below the root have a single edge, and a dense table per
// state would cost a kilobyte each over some 100,000 states.
type automaton struct {
	root   [256]int32
	first  []int32 // per state, index of its first edge in edgeB/edgeN
	edgeB  []byte
	edgeN  []int32
	fail   []int32
	dict   []int32 // nearest state on the fail chain that ends a needle, 0 if none
	needle []int32 // needle ending at the state, -1 if none
}

func newAutomaton(needles []string) *automaton {
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
	a := &automaton{
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

// edge returns the state s goes to on c, or -1.
func (a *automaton) edge(s int32, c byte) int32 {
	for e := a.first[s]; e < a.first[s+1]; e++ {
		if a.edgeB[e] == c {
			return a.edgeN[e]
		}
	}
	return -1
}

func (a *automaton) step(s int32, c byte) int32 {
	for s != 0 {
		if nx := a.edge(s, c); nx >= 0 {
			return nx
		}
		s = a.fail[s]
	}
	return a.root[c]
}

// findFolded is find over text lowered: ASCII letters are folded byte by
// byte, which spares lowering (and allocating) every value of every
// event; text with other than ASCII is lowered first, as the needles were.
func (a *automaton) findFolded(text string, fn func(needle int)) {
	for i := 0; i < len(text); i++ {
		if text[i] >= 0x80 {
			a.find(strings.ToLower(text), false, fn)
			return
		}
	}
	a.find(text, true, fn)
}

// find calls fn with the needle index of every occurrence in text.
func (a *automaton) find(text string, fold bool, fn func(needle int)) {
	s := int32(0)
	for i := 0; i < len(text); i++ {
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
