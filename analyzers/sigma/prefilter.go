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

type tri uint8

const (
	triFalse tri = iota
	triUnknown
	triTrue
)

func (c *cond) tri(sels []*selection) tri {
	switch c.op {
	case condSel:
		return sels[c.sel].tri()
	case condAnd:
		out := triTrue
		for _, a := range c.args {
			switch a.tri(sels) {
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
			switch a.tri(sels) {
			case triTrue:
				return triTrue
			case triUnknown:
				out = triUnknown
			}
		}
		return out
	case condNot:
		return 2 - c.args[0].tri(sels)
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

func (r *Rule) gated() bool {
	for _, c := range r.conds {
		if c.tri(r.sels) != triFalse {
			return false
		}
	}
	return true
}

func newPrefilter(rules []*Rule) *prefilter {
	p := &prefilter{stamp: make([]uint32, len(rules))}
	type needleRules map[string][]int32
	byField := map[string]needleRules{}
	for i, r := range rules {
		if !r.gated() {
			p.ungated = append(p.ungated, int32(i))
			continue
		}
		for _, s := range r.sels {
			for _, g := range s.groups {
				for _, it := range g {
					if it.needles == nil {
						continue
					}
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
		var lows []string
		if f == "" {
			_, lows = ev.everything()
		} else {
			var ok bool
			if _, lows, ok = ev.values(f); !ok {
				continue
			}
		}
		rulesOf := p.rulesOf[fi]
		for _, s := range lows {
			p.autos[fi].find(s, func(needle int) {
				for _, r := range rulesOf[needle] {
					if p.stamp[r] != p.gen {
						p.stamp[r] = p.gen
						hits = append(hits, r)
					}
				}
			})
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
