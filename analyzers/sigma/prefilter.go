package sigma

import (
	"slices"
	"sort"

	"triage/internal/ahocorasick"
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
	ungated []int32                  // rules always evaluated
	fields  []string                 // field names with literals; "" is every value
	autos   []*ahocorasick.Automaton // per field
	slotsOf [][][]int32              // per field, per needle: the slots it fills
	// With keywords, every field's automaton looks for them too, so that
	// each value is scanned once: keyword is the index of "" in fields,
	// for the values of the other fields, -1 without keywords.
	keyword    int
	fieldIndex map[string]int
	reqs       []slotReq // per slot
	gates      gates
}

// A slot is one literal set of one AND-group: the group is possible once
// all its slots are filled, by any literal of each.
type slotReq struct {
	field   string // "" for keywords
	needles []string
}

// gateShape is how slots make groups, groups clauses and clauses rules.
type gateShape struct {
	slotGroup   []int32 // per slot
	groupClause []int32 // per group
	clauseRule  []int32 // per clause
	ruleNeed    []int32 // per rule, its clauses
}

// gates is how a filter's slots make its rules possible; fixed once the
// filter is built.
type gates struct {
	gateShape
	need []int32 // per group, its slots
	id   int     // the index of its counts in a Matcher
}

// gateCount counts, event by event, the slots of gates filled per group
// and the clauses holding per rule; the generations spare clearing the
// counts between events. A count is one goroutine's (Matcher).
type gateCount struct {
	*gates
	slotGen   []uint32
	groupGen  []uint32
	groupLeft []int32
	clauseGen []uint32
	ruleGen   []uint32
	ruleLeft  []int32
	gen       uint32
	hits      []int32 // the event's rules, reused

	// The prefilter's callback for the needles its scan finds, made once
	// with the slots of the automaton scanning: a closure made per value
	// scanned was nearly every allocation of a process start's matching.
	slotsOf [][]int32
	found   func(needle int)
}

func newGateCount(g *gates) *gateCount {
	c := &gateCount{gates: g, slotGen: make([]uint32, len(g.slotGroup)),
		groupGen: make([]uint32, len(g.need)), groupLeft: make([]int32, len(g.need)),
		clauseGen: make([]uint32, len(g.clauseRule)),
		ruleGen:   make([]uint32, len(g.ruleNeed)), ruleLeft: make([]int32, len(g.ruleNeed))}
	c.found = func(needle int) { c.hits = c.fill(c.slotsOf[needle], c.hits) }
	return c
}

// next starts an event.
func (c *gateCount) next() {
	if c.gen++; c.gen == 0 {
		clear(c.slotGen)
		clear(c.groupGen)
		clear(c.clauseGen)
		clear(c.ruleGen)
		c.gen = 1
	}
}

// fill marks slots filled and appends to hits each rule whose last clause
// they make hold, once an event.
func (c *gateCount) fill(slots []int32, hits []int32) []int32 {
	for _, sl := range slots {
		if c.slotGen[sl] == c.gen {
			continue
		}
		c.slotGen[sl] = c.gen
		g := c.slotGroup[sl]
		if c.groupGen[g] != c.gen {
			c.groupGen[g] = c.gen
			c.groupLeft[g] = c.need[g]
		}
		if c.groupLeft[g]--; c.groupLeft[g] != 0 {
			continue
		}
		cl := c.groupClause[g]
		if c.clauseGen[cl] == c.gen {
			continue
		}
		c.clauseGen[cl] = c.gen
		r := c.clauseRule[cl]
		if c.ruleGen[r] != c.gen {
			c.ruleGen[r] = c.gen
			c.ruleLeft[r] = c.ruleNeed[r]
		}
		if c.ruleLeft[r]--; c.ruleLeft[r] == 0 {
			hits = append(hits, r)
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
			f = max(f, freq[gateKey(it, n)].rules)
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

type literalFreq map[literalKey]literalUse

// literalUse is how many rules use a literal, and the last to count it
// (its index + 1).
type literalUse struct{ rules, lastRule int }

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
			cost += freq[gateKey(it, n)].rules
			if len(n) < shortNeedle {
				cost += shortPenalty
			}
		}
	}
	return cost, true
}

// A clause is selections of which one at least is true while the
// condition is; a rule's clauses all hold while it is true.
type clause struct {
	sels []int
	cost int
}

// clauses returns clauses that all hold while the condition is true: for
// a selection itself, for an AND the clauses of every operand that has
// them, for an OR one clause of the cheapest clause of each operand; a
// NOT has none (its operand being false makes it true). ok is false when
// the condition has none.
func (c *cond) clauses(sels []*selection, freq literalFreq) ([]clause, bool) {
	switch c.op {
	case condSel:
		cost, ok := gateCost(sels[c.sel], freq)
		return []clause{{[]int{c.sel}, cost}}, ok
	case condAnd:
		var out []clause
		for _, a := range c.args {
			if cl, ok := a.clauses(sels, freq); ok {
				out = append(out, cl...)
			}
		}
		return out, len(out) > 0
	case condOr:
		return orClause(c.args, sels, freq)
	}
	return nil, false
}

// orClause is the one clause of an OR of conditions: any of them true
// makes its cheapest clause hold.
func orClause(args []*cond, sels []*selection, freq literalFreq) ([]clause, bool) {
	var or clause
	for _, a := range args {
		cl, ok := a.clauses(sels, freq)
		if !ok {
			return nil, false
		}
		best := cl[0]
		for _, x := range cl[1:] {
			if x.cost < best.cost {
				best = x
			}
		}
		or.sels = append(or.sels, best.sels...)
		or.cost += best.cost
	}
	return []clause{or}, true
}

// clauses returns the rule's clauses, nil when it must always be
// evaluated. A condition list is an OR.
func (r *Rule) clauses(freq literalFreq) []clause {
	cl, ok := orClause(r.conds, r.sels, freq)
	if !ok {
		return nil
	}
	return cl
}

func newPrefilter(rules []*Rule) *prefilter {
	p := &prefilter{}
	// How many rules use each literal in each field. The map is sized
	// for every literal and a rule's own are told apart by the last rule
	// counting each: growing the map, and a map per rule, were a third of
	// the build of the 1,420 process creation rules' prefilter.
	literals := 0
	for _, r := range rules {
		for _, s := range r.sels {
			for _, g := range s.groups {
				for _, it := range g {
					literals += len(it.needles)
				}
			}
		}
	}
	freq := make(literalFreq, literals)
	for i, r := range rules {
		for _, s := range r.sels {
			for _, g := range s.groups {
				for _, it := range g {
					for _, n := range it.needles {
						k := gateKey(it, n)
						if u := freq[k]; u.lastRule != i+1 {
							freq[k] = literalUse{rules: u.rules + 1, lastRule: i + 1}
						}
					}
				}
			}
		}
	}
	var slotGroup, groupClause, clauseRule, need, ruleNeed []int32
	ruleNeed = make([]int32, len(rules))
	for i, r := range rules {
		cls := r.clauses(freq)
		// While any item of a group is false the group is; while every
		// group of every selection of a clause is, the rule is false.
		var groups [][][]slotReq // per clause, per group
		gated := len(cls) > 0
		for _, cl := range cls {
			var gs [][]slotReq
			for _, si := range cl.sels {
				for _, g := range r.sels[si].groups {
					reqs := groupReqs(g, freq)
					// clauses() found a gate for every group; should it
					// not, the rule is tried always.
					gated = gated && reqs != nil
					gs = append(gs, reqs)
				}
			}
			gated = gated && len(gs) > 0
			groups = append(groups, gs)
		}
		if !gated {
			p.ungated = append(p.ungated, int32(i))
			continue
		}
		ruleNeed[i] = int32(len(groups))
		for _, gs := range groups {
			cl := int32(len(clauseRule))
			clauseRule = append(clauseRule, int32(i))
			for _, reqs := range gs {
				group := int32(len(groupClause))
				groupClause = append(groupClause, cl)
				need = append(need, int32(len(reqs)))
				for _, q := range reqs {
					slotGroup = append(slotGroup, group)
					p.reqs = append(p.reqs, q)
				}
			}
		}
	}
	p.gates = gates{gateShape: gateShape{slotGroup, groupClause, clauseRule, ruleNeed}, need: need}
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
	if kw := byField[""]; kw != nil {
		for f, nr := range byField {
			if f == "" {
				continue
			}
			for n, slots := range kw {
				nr[n] = append(nr[n], slots...)
			}
		}
	}
	for f := range byField {
		p.fields = append(p.fields, f)
	}
	sort.Strings(p.fields)
	p.keyword, p.fieldIndex = -1, map[string]int{}
	for fi, f := range p.fields {
		if f == "" {
			p.keyword = fi
		} else {
			p.fieldIndex[f] = fi
		}
		needles, slots := sortedNeedles(byField[f])
		p.autos = append(p.autos, ahocorasick.New(needles))
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
func (p *prefilter) candidates(c *gateCount, ev *view, fn func(int)) {
	c.next()
	c.hits = append(c.hits[:0], p.ungated...)
	if p.keyword < 0 {
		for fi, f := range p.fields {
			for _, s := range ev.f[f] {
				p.find(c, fi, s)
			}
		}
	} else {
		// Every value, each with its field's automaton or the keywords';
		// the order of the fields does not matter, the hits are sorted.
		for f, vals := range ev.f {
			fi, ok := p.fieldIndex[f]
			if !ok {
				fi = p.keyword
			}
			for _, s := range vals {
				p.find(c, fi, s)
			}
		}
	}
	if len(c.hits) > len(p.ungated) {
		slices.Sort(c.hits)
	}
	for _, i := range c.hits {
		fn(int(i))
	}
}

// find fills the slots of the needles of field fi that s holds.
func (p *prefilter) find(c *gateCount, fi int, s string) {
	c.slotsOf = p.slotsOf[fi]
	p.autos[fi].FindFolded(s, c.found)
}
