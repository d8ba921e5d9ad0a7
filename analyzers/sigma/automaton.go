package sigma

import "strings"

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
	type node struct {
		next   map[byte]int32
		needle int32
	}
	nodes := []node{{next: map[byte]int32{}, needle: -1}}
	for i, n := range needles {
		s := int32(0)
		for j := 0; j < len(n); j++ {
			nx, ok := nodes[s].next[n[j]]
			if !ok {
				nx = int32(len(nodes))
				nodes = append(nodes, node{next: map[byte]int32{}, needle: -1})
				nodes[s].next[n[j]] = nx
			}
			s = nx
		}
		if s != 0 {
			nodes[s].needle = int32(i)
		}
	}
	a := &automaton{
		first: make([]int32, len(nodes)+1), fail: make([]int32, len(nodes)),
		dict: make([]int32, len(nodes)), needle: make([]int32, len(nodes)),
	}
	for i := range nodes {
		a.needle[i] = nodes[i].needle
		a.first[i] = int32(len(a.edgeB))
		start := len(a.edgeB)
		for c, nx := range nodes[i].next {
			a.edgeB = append(a.edgeB, c)
			a.edgeN = append(a.edgeN, nx)
		}
		sortEdges(a.edgeB[start:], a.edgeN[start:])
		nodes[i].next = nil
	}
	a.first[len(nodes)] = int32(len(a.edgeB))
	for e := a.first[0]; e < a.first[1]; e++ {
		a.root[a.edgeB[e]] = a.edgeN[e]
	}
	// Breadth-first, so every state's fail target is done before it.
	queue := make([]int32, 0, len(nodes))
	for c := 0; c < 256; c++ {
		if nx := a.root[c]; nx != 0 {
			queue = append(queue, nx)
		}
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

// sortEdges orders a state's edges by byte, so that builds are
// deterministic; insertion sort, since most states have one edge.
func sortEdges(b []byte, n []int32) {
	for i := 1; i < len(b); i++ {
		for j := i; j > 0 && b[j] < b[j-1]; j-- {
			b[j], b[j-1] = b[j-1], b[j]
			n[j], n[j-1] = n[j-1], n[j]
		}
	}
}
