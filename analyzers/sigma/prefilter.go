package sigma

import (
	"sort"
)

// prefilter finds, for one bucket of rules, the rules an event can
// possibly match, looking for the literals of all rules at once.
//
// Most detection items can only match a value that contains a certain
// lowered literal (the longest literal piece of each pattern). A rule is
// gated when its condition is false whenever all such items are false,
// which a three-valued evaluation decides at build time. A gated rule is
// evaluated only when one of its literals occurs in its field; one
// Aho–Corasick pass per field finds the literals of every rule together.
type prefilter struct {
	ungated []int32      // rules always evaluated
	fields  []string     // field names with literals; "" is every value
	autos   []*automaton // per field
	rulesOf [][][]int32  // per field, per needle: the rules it triggers
	stamp   []uint32     // per rule: the generation that triggered it
	gen     uint32
	scratch []int32
}

// gateOf picks the item of an AND-group whose literals are rarest: an
// EventID (short values, compared whole), else the item whose shortest
// literal is longest.
func gateOf(g []*item) *item {
	var best *item
	score := func(it *item) int {
		if it.field == "EventID" {
			return 1 << 20
		}
		shortest := 1 << 19
		for _, n := range it.needles {
			shortest = min(shortest, len(n))
		}
		return shortest*64 - min(len(it.needles), 63)
	}
	for _, it := range g {
		if it.needles != nil && (best == nil || score(it) > score(best)) {
			best = it
		}
	}
	return best
}

type tri uint8

const (
	triFalse tri = iota
	triUnknown
	triTrue
)

// tri evaluates the condition with the gated items false and the rest
// unknown; selections in skip count as unknown as a whole.
func (c *cond) tri(sels []*selection, skip []bool) tri {
	switch c.op {
	case condSel:
		if skip != nil && skip[c.sel] {
			return triUnknown
		}
		return sels[c.sel].tri()
	case condAnd:
		out := triTrue
		for _, a := range c.args {
			switch a.tri(sels, skip) {
			case triFalse:
				return triFalse
			case triUnknown:
				out = triUnknown
			}
		}
		return out
	case condOr:
		out := triFalse
		for _, a := range c.args {
			switch a.tri(sels, skip) {
			case triTrue:
				return triTrue
			case triUnknown:
				out = triUnknown
			}
		}
		return out
	case condNot:
		return 2 - c.args[0].tri(sels, skip)
	}
	return triUnknown
}

func (s *selection) tri() tri {
	out := triFalse
	for _, g := range s.groups {
		v := triTrue
		for _, it := range g {
			if it.needles != nil {
				v = triFalse
				break
			}
			v = triUnknown
		}
		if v > out {
			out = v
		}
	}
	return out
}

// gates returns the selections whose literals gate the rule, or nil when
// the rule must always be evaluated. Selections the condition uses only
// negated (filters) are left out when the rule is gated without them:
// their literals occurring never makes the rule match.
func (r *Rule) gates() []bool {
	negOnly := make([]bool, len(r.sels))
	pos := make([]bool, len(r.sels))
	for _, c := range r.conds {
		polarity(c, false, pos, negOnly)
	}
	for i := range negOnly {
		negOnly[i] = negOnly[i] && !pos[i]
	}
	for _, skip := range [][]bool{negOnly, nil} {
		gated := true
		for _, c := range r.conds {
			if c.tri(r.sels, skip) != triFalse {
				gated = false
			}
		}
		if gated {
			use := make([]bool, len(r.sels))
			for i := range use {
				use[i] = skip == nil || !skip[i]
			}
			return use
		}
	}
	return nil
}

func (r *Rule) gated() bool { return r.gates() != nil }

func polarity(c *cond, negated bool, pos, neg []bool) {
	switch c.op {
	case condSel:
		if negated {
			neg[c.sel] = true
		} else {
			pos[c.sel] = true
		}
	case condNot:
		polarity(c.args[0], !negated, pos, neg)
	default:
		for _, a := range c.args {
			polarity(a, negated, pos, neg)
		}
	}
}

func newPrefilter(rules []*Rule) *prefilter {
	p := &prefilter{stamp: make([]uint32, len(rules))}
	type needleRules map[string][]int32
	byField := map[string]needleRules{}
	for i, r := range rules {
		use := r.gates()
		if use == nil {
			p.ungated = append(p.ungated, int32(i))
			continue
		}
		for si, s := range r.sels {
			if !use[si] {
				continue
			}
			for _, g := range s.groups {
				// One gated item per AND-group is enough: while its literal
				// is absent the group is false, so the condition is too.
				if it := gateOf(g); it != nil {
					field := it.field
					if it.keywords {
						field = ""
					}
					nr := byField[field]
					if nr == nil {
						nr = needleRules{}
						byField[field] = nr
					}
					for _, n := range it.needles {
						if l := nr[n]; len(l) == 0 || l[len(l)-1] != int32(i) {
							nr[n] = append(l, int32(i))
						}
					}
				}
			}
		}
	}
	for f := range byField {
		p.fields = append(p.fields, f)
	}
	sort.Strings(p.fields)
	for _, f := range p.fields {
		nr := byField[f]
		needles := make([]string, 0, len(nr))
		for n := range nr {
			needles = append(needles, n)
		}
		sort.Strings(needles)
		rs := make([][]int32, len(needles))
		for i, n := range needles {
			rs[i] = nr[n]
		}
		p.autos = append(p.autos, newAutomaton(needles))
		p.rulesOf = append(p.rulesOf, rs)
	}
	return p
}

// candidates calls fn with the index of every rule the event may match,
// in increasing order.
func (p *prefilter) candidates(ev *view, fn func(int)) {
	p.gen++
	if p.gen == 0 {
		clear(p.stamp)
		p.gen = 1
	}
	hits := append(p.scratch[:0], p.ungated...)
	for fi, f := range p.fields {
		if f == "" {
			p.findEverywhere(ev, fi, &hits)
			continue
		}
		for _, s := range ev.f[f] {
			p.find(fi, s, &hits)
		}
	}
	if len(hits) > len(p.ungated) {
		sort.Slice(hits, func(i, j int) bool { return hits[i] < hits[j] })
	}
	p.scratch = hits
	for _, i := range hits {
		fn(int(i))
	}
}

func (p *prefilter) find(fi int, s string, hits *[]int32) {
	rulesOf := p.rulesOf[fi]
	p.autos[fi].findFolded(s, func(needle int) {
		for _, r := range rulesOf[needle] {
			if p.stamp[r] != p.gen {
				p.stamp[r] = p.gen
				*hits = append(*hits, r)
			}
		}
	})
}

// findEverywhere looks for keyword literals in every value; the order of
// the fields does not matter here, so it skips sorting them.
func (p *prefilter) findEverywhere(ev *view, fi int, hits *[]int32) {
	for _, vals := range ev.f {
		for _, s := range vals {
			p.find(fi, s, hits)
		}
	}
}
