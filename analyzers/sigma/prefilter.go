package sigma

import (
	"slices"
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
	needles [][]string   // per field, the literals
	autos   []*automaton // per field
	rulesOf [][][]int32  // per field, per needle: the rules it triggers
	stamp   []uint32     // per rule: the generation that triggered it
	gen     uint32
	scratch []int32
}

// gateOf picks the item of an AND-group to gate it by: the one whose
// literals the fewest rules of the bucket share (freq), then the one whose
// shortest literal is longest. A literal many rules use, such as
// \cmd.exe under Image, occurs in many events too; gating on it would
// try hundreds of rules on every cmd.exe start. Literals shorter than
// shortNeedle (a regex's "\\" or "`") come last whatever their freq: one
// character occurs everywhere.
func gateOf(g []*item, freq literalFreq) *item {
	var best *item
	bestFreq, bestLen := 0, 0
	for _, it := range g {
		if it.needles == nil {
			continue
		}
		f, l := 0, 1<<30
		for _, n := range it.needles {
			f = max(f, freq[gateKey(it, n)])
			l = min(l, len(n))
		}
		if l < shortNeedle {
			f += shortPenalty
		}
		if it.field == "Channel" || it.field == "Provider_Name" {
			// Every event of a log has the same channel, most the same
			// provider: such a literal lets them all through.
			f += constantPenalty
		}
		if best == nil || f < bestFreq || f == bestFreq && l > bestLen {
			best, bestFreq, bestLen = it, f, l
		}
	}
	return best
}

// shortNeedle and shortPenalty rank short literals below any other;
// constantPenalty ranks the fields one log's events share below the rest.
const (
	shortNeedle     = 3
	shortPenalty    = 1 << 20
	constantPenalty = 1 << 10
)

// literalKey is a literal in a field ("" for keywords, which is what a
// keyword item's field is), and literalFreq counts the rules using each.
type literalKey struct{ field, needle string }

type literalFreq map[literalKey]int

func gateKey(it *item, needle string) literalKey { return literalKey{it.field, needle} }

// gateCost is the cost of gating a selection: every AND-group needs a
// gating item, and the cost adds up how many rules share the literals of
// each; ok is false when some group has none.
func gateCost(s *selection, freq literalFreq) (int, bool) {
	cost := 0
	for _, g := range s.groups {
		it := gateOf(g, freq)
		if it == nil {
			return 0, false
		}
		for _, n := range it.needles {
			cost += freq[gateKey(it, n)]
			if len(n) < shortNeedle {
				cost += shortPenalty
			}
		}
	}
	return cost, true
}

// gates returns selections such that the condition is false while all of
// them are: for an AND the cheapest of its operands' sets, for an OR the
// union of all of them; a NOT cannot be gated (its operand being false
// makes it true). ok is false when the condition cannot be gated.
func (c *cond) gates(sels []*selection, freq literalFreq) (set []int, cost int, ok bool) {
	switch c.op {
	case condSel:
		cost, ok := gateCost(sels[c.sel], freq)
		return []int{c.sel}, cost, ok
	case condAnd:
		for _, a := range c.args {
			if s, k, good := a.gates(sels, freq); good && (!ok || k < cost) {
				set, cost, ok = s, k, true
			}
		}
		return set, cost, ok
	case condOr:
		for _, a := range c.args {
			s, k, good := a.gates(sels, freq)
			if !good {
				return nil, 0, false
			}
			set, cost = append(set, s...), cost+k
		}
		return set, cost, true
	}
	return nil, 0, false
}

// gates returns which selections gate the rule, or nil when it must
// always be evaluated. A condition list is an OR.
func (r *Rule) gates(freq literalFreq) []bool {
	use := make([]bool, len(r.sels))
	for _, c := range r.conds {
		set, _, ok := c.gates(r.sels, freq)
		if !ok {
			return nil
		}
		for _, i := range set {
			use[i] = true
		}
	}
	return use
}

func newPrefilter(rules []*Rule) *prefilter {
	p := &prefilter{stamp: make([]uint32, len(rules))}
	// How many rules use each literal in each field.
	freq := literalFreq{}
	for _, r := range rules {
		seen := map[literalKey]bool{}
		for _, s := range r.sels {
			for _, g := range s.groups {
				for _, it := range g {
					for _, n := range it.needles {
						if k := gateKey(it, n); !seen[k] {
							seen[k] = true
							freq[k]++
						}
					}
				}
			}
		}
	}
	uses := make([][]bool, len(rules))
	for i, r := range rules {
		uses[i] = r.gates(freq)
	}
	type needleRules map[string][]int32
	byField := map[string]needleRules{}
	for i, r := range rules {
		use := uses[i]
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
				if it := gateOf(g, freq); it != nil {
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
		p.needles = append(p.needles, needles)
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
		slices.Sort(hits)
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
