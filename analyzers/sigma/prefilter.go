package sigma

import (
	"slices"
	"sort"
)

// prefilter finds, for one bucket of rules, the rules an event can
// possibly match, looking for the literals of all rules at once.
//
// Most detection items can only match a value that contains certain
// lowered literals (reqsOf). A rule is gated when its condition is false
// whenever all such items are false, which a three-valued evaluation
// decides at build time. A gated rule is evaluated only when, in some
// AND-group of its gating selections, every item has its literals in its
// field: one Aho–Corasick pass per field finds the literals of every rule
// together, and a count per group says when the last one is found.
type prefilter struct {
	ungated []int32      // rules always evaluated
	fields  []string     // field names with literals; "" is every value
	autos   []*automaton // per field
	slotsOf [][][]int32  // per field, per needle: the slots it fills
	reqs    []slotReq    // per slot
	count   gateCount
	scratch []int32
}

// A slot is one literal set of one AND-group: the group is possible once
// all its slots are filled, by any literal of each.
type slotReq struct {
	field   string // "" for keywords
	needles []string
}

// gateCount counts, event by event, the slots filled per group; the
// generations spare clearing the counts between events.
type gateCount struct {
	slotGroup []int32 // per slot
	groupRule []int32 // per group
	need      []int32 // per group, its slots
	slotGen   []uint32
	groupGen  []uint32
	left      []int32
	ruleGen   []uint32
	gen       uint32
}

func newGateCount(slotGroup, groupRule, need []int32, rules int) gateCount {
	return gateCount{slotGroup: slotGroup, groupRule: groupRule, need: need, slotGen: make([]uint32, len(slotGroup)),
		groupGen: make([]uint32, len(groupRule)), left: make([]int32, len(groupRule)), ruleGen: make([]uint32, rules)}
}

// next starts an event.
func (c *gateCount) next() {
	if c.gen++; c.gen == 0 {
		clear(c.slotGen)
		clear(c.groupGen)
		clear(c.ruleGen)
		c.gen = 1
	}
}

// fill marks slots filled and appends to hits each rule one of whose
// groups they complete, once an event.
func (c *gateCount) fill(slots []int32, hits []int32) []int32 {
	for _, sl := range slots {
		if c.slotGen[sl] == c.gen {
			continue
		}
		c.slotGen[sl] = c.gen
		g := c.slotGroup[sl]
		if c.groupGen[g] != c.gen {
			c.groupGen[g] = c.gen
			c.left[g] = c.need[g]
		}
		if c.left[g]--; c.left[g] == 0 {
			if r := c.groupRule[g]; c.ruleGen[r] != c.gen {
				c.ruleGen[r] = c.gen
				hits = append(hits, r)
			}
		}
	}
	return hits
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
	p := &prefilter{}
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
	var slotGroup, groupRule, need []int32
	for i, r := range rules {
		use := r.gates(freq)
		if use == nil {
			p.ungated = append(p.ungated, int32(i))
			continue
		}
		// While any item of a group is false the group is, and so the
		// condition when all the gating selections' groups are.
		var groups [][]slotReq
		gated := true
		for si, s := range r.sels {
			for _, g := range s.groups {
				if !use[si] || !gated {
					break
				}
				reqs := groupReqs(g, freq)
				// gates() found a gate for every group; should it not,
				// the rule is tried always.
				gated = reqs != nil
				groups = append(groups, reqs)
			}
		}
		if !gated || len(groups) == 0 {
			p.ungated = append(p.ungated, int32(i))
			continue
		}
		for _, reqs := range groups {
			group := int32(len(groupRule))
			groupRule = append(groupRule, int32(i))
			need = append(need, int32(len(reqs)))
			for _, q := range reqs {
				slotGroup = append(slotGroup, group)
				p.reqs = append(p.reqs, q)
			}
		}
	}
	p.count = newGateCount(slotGroup, groupRule, need, len(rules))
	byField := map[string]map[string][]int32{}
	for sl, q := range p.reqs {
		nr := byField[q.field]
		if nr == nil {
			nr = map[string][]int32{}
			byField[q.field] = nr
		}
		for _, n := range q.needles {
			if l := nr[n]; len(l) == 0 || l[len(l)-1] != int32(sl) {
				nr[n] = append(l, int32(sl))
			}
		}
	}
	for f := range byField {
		p.fields = append(p.fields, f)
	}
	sort.Strings(p.fields)
	for _, f := range p.fields {
		needles, slots := sortedNeedles(byField[f])
		p.autos = append(p.autos, newAutomaton(needles))
		p.slotsOf = append(p.slotsOf, slots)
	}
	return p
}

// sortedNeedles lists the needles of a map in order, with their slots.
func sortedNeedles(m map[string][]int32) ([]string, [][]int32) {
	needles := make([]string, 0, len(m))
	for n := range m {
		needles = append(needles, n)
	}
	sort.Strings(needles)
	slots := make([][]int32, len(needles))
	for i, n := range needles {
		slots[i] = m[n]
	}
	return needles, slots
}

// groupReqs are the slots of an AND-group: every literal set of its items
// but those of the constant fields and those with a short literal, which
// would fill on nearly every event and cost more to look for than they
// save; a group left with none is gated by its gateOf item alone, as a
// group of no gated item is not at all (nil).
func groupReqs(g []*item, freq literalFreq) []slotReq {
	var out []slotReq
	for _, it := range g {
		if it.needles == nil || it.field == "Channel" || it.field == "Provider_Name" {
			continue
		}
		field := it.field
		if it.keywords {
			field = ""
		}
	sets:
		for _, set := range it.reqs {
			for _, n := range set {
				if len(n) < shortNeedle {
					continue sets
				}
			}
			out = append(out, slotReq{field, set})
		}
	}
	if len(out) > 0 {
		return out
	}
	it := gateOf(g, freq)
	if it == nil {
		return nil
	}
	field := it.field
	if it.keywords {
		field = ""
	}
	return []slotReq{{field, it.needles}}
}

// candidates calls fn with the index of every rule the event may match,
// in increasing order.
func (p *prefilter) candidates(ev *view, fn func(int)) {
	p.count.next()
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
	slotsOf := p.slotsOf[fi]
	p.autos[fi].findFolded(s, func(needle int) {
		*hits = p.count.fill(slotsOf[needle], *hits)
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
