package sigma

import (
	"cmp"
	"slices"
	"sort"
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

// item is one detection item: a field, its modifiers and its values.
type item struct {
	field    string // "" for a keyword search
	tests    []test // OR-linked, AND-linked under all
	all      bool
	neq      bool // the item is negated as a whole (pySigma)
	null     bool // field: null, i.e. the field is absent
	exists   int8 // 1: must exist, -1: must be absent, 0: no exists test
	needles  []string
	reqs     [][]string // literal sets the item implies (reqsOf)
	keywords bool
}

// selection is a search identifier: an OR of AND-groups of items.
type selection struct {
	name   string
	groups [][]*item
}

// maxItems bounds what one rule may hold, so that a hostile rule file
// cannot make compiling allocate without limit.
const maxItems = 100000

// isIdent reports whether a search identifier is [A-Za-z0-9_-]+.
func isIdent(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c == '_' || c == '-' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return s != ""
}

// compileDetection returns the selections sorted by name, and the
// conditions.
func compileDetection(n *yaml.Node, opts *LoadOptions) ([]*selection, []string, error) {
	m, err := mapping(n)
	if err != nil {
		return nil, nil, err
	}
	sels := make([]*selection, 0, len(m.keys))
	var conds []string
	budget := maxItems
	for i, name := range m.keys {
		v := m.vals[i]
		if name == "condition" {
			switch v.Kind {
			case yaml.ScalarNode:
				conds = append(conds, v.Value)
			case yaml.SequenceNode:
				for _, c := range v.Content {
					if c = deref(c); c.Kind != yaml.ScalarNode {
						return nil, nil, refuse(ReasonCondition, c, "condition list holds %s", kindName(c))
					}
					conds = append(conds, c.Value)
				}
			default:
				return nil, nil, refuse(ReasonCondition, v, "condition is %s", kindName(v))
			}
			continue
		}
		if name == "timeframe" {
			return nil, nil, refuse(ReasonCondition, m.keyN[i], "timeframe belongs to the old aggregations; use a correlation rule")
		}
		if !isIdent(name) {
			return nil, nil, refuse(ReasonStructure, m.keyN[i], "search identifier %q", name)
		}
		sel, err := compileSelection(name, v, opts, &budget)
		if err != nil {
			return nil, nil, err
		}
		sels = append(sels, sel)
	}
	if len(conds) == 0 {
		return nil, nil, refuse(ReasonCondition, n, "detection has no condition")
	}
	// The keys of a mapping are unique: no two selections share a name.
	slices.SortFunc(sels, func(a, b *selection) int { return strings.Compare(a.name, b.name) })
	return sels, conds, nil
}

// selectionNames lists the names of sels; nil when there are none.
func selectionNames(sels []*selection) []string {
	if len(sels) == 0 {
		return nil
	}
	names := make([]string, len(sels))
	for i, s := range sels {
		names[i] = s.name
	}
	return names
}

func compileSelection(name string, n *yaml.Node, opts *LoadOptions, budget *int) (*selection, error) {
	sel := &selection{name: name}
	switch n.Kind {
	case yaml.MappingNode:
		g, err := compileMap(n, opts, budget)
		if err != nil {
			return nil, err
		}
		sel.groups = [][]*item{g}
	case yaml.SequenceNode:
		// A list of maps is an OR of the maps; a list of plain values is a
		// keyword search. pySigma refuses a mix; so do we.
		var maps, values int
		for _, c := range n.Content {
			if deref(c).Kind == yaml.MappingNode {
				maps++
			} else {
				values++
			}
		}
		if maps > 0 && values > 0 {
			return nil, refuse(ReasonStructure, n, "%s mixes maps and values", name)
		}
		if maps > 0 {
			for _, c := range n.Content {
				g, err := compileMap(deref(c), opts, budget)
				if err != nil {
					return nil, err
				}
				sel.groups = append(sel.groups, g)
			}
			break
		}
		it, err := compileItem("", nil, n, opts, budget)
		if err != nil {
			return nil, err
		}
		sel.groups = [][]*item{{it}}
	case yaml.ScalarNode:
		it, err := compileItem("", nil, n, opts, budget)
		if err != nil {
			return nil, err
		}
		sel.groups = [][]*item{{it}}
	default:
		return nil, refuse(ReasonStructure, n, "%s is %s", name, kindName(n))
	}
	return sel, nil
}

func compileMap(n *yaml.Node, opts *LoadOptions, budget *int) ([]*item, error) {
	m, err := mapping(n)
	if err != nil {
		return nil, err
	}
	if len(m.keys) == 0 {
		return nil, refuse(ReasonStructure, n, "empty selection map")
	}
	out := make([]*item, 0, len(m.keys))
	for i, key := range m.keys {
		field, mods, _ := strings.Cut(key, "|")
		var names []string
		if mods != "" || strings.Contains(key, "|") {
			names = strings.Split(mods, "|")
		}
		it, err := compileItem(field, names, m.vals[i], opts, budget)
		if err != nil {
			return nil, err
		}
		out = append(out, it)
	}
	// An AND-group stops at its first false item: the cheap ones go first,
	// regexes last. The order of an AND does not change its value.
	slices.SortStableFunc(out, func(a, b *item) int { return cmp.Compare(a.cost(), b.cost()) })
	return out, nil
}

// cost ranks how expensive an item is to evaluate.
func (it *item) cost() int {
	c := 0
	for _, t := range it.tests {
		switch t.(type) {
		case regexTest:
			c += 100
		case anyTest:
			c += 4
		default:
			c++
		}
	}
	if it.keywords {
		c += 50
	}
	return c
}

func compileItem(field string, modNames []string, n *yaml.Node, opts *LoadOptions, budget *int) (*item, error) {
	keyNode := n
	mods, err := parseModifiers(modNames, keyNode)
	if err != nil {
		return nil, err
	}
	if field == "" && (mods.fieldref || mods.exists || mods.cidr || mods.compare != "" || mods.timePart != "") {
		return nil, refuse(ReasonModifier, n, "a keyword search cannot take %v", modNames)
	}
	it := &item{field: field, all: mods.all, neq: mods.neq, keywords: field == ""}
	if *budget--; *budget < 0 {
		return nil, refuse(ReasonTooLarge, n, "more than %d values and items", maxItems)
	}
	var vals []scalar
	switch n.Kind {
	case yaml.ScalarNode:
		vals = []scalar{readScalar(n)}
	case yaml.SequenceNode:
		if len(n.Content) == 0 {
			it.null = true // pySigma turns an empty list into null
			return it, nil
		}
		vals = make([]scalar, 0, len(n.Content))
		for _, c := range n.Content {
			c = deref(c)
			if c == nil || c.Kind != yaml.ScalarNode {
				return nil, refuse(ReasonStructure, c, "a value list holds %s", kindName(c))
			}
			s := readScalar(c)
			if s.kind == kindNull {
				return nil, refuse(ReasonValue, c, "null may not appear inside a list")
			}
			vals = append(vals, s)
		}
	default:
		return nil, refuse(ReasonStructure, n, "field %q has %s as its value", field, kindName(n))
	}
	if *budget -= len(vals); *budget < 0 {
		return nil, refuse(ReasonTooLarge, n, "more than %d values", maxItems)
	}
	if mods.exists {
		if len(vals) != 1 || vals[0].kind != kindBool {
			return nil, refuse(ReasonValue, n, "exists wants true or false")
		}
		it.exists = -1
		if vals[0].text == "true" {
			it.exists = 1
		}
		return it, nil
	}
	if len(vals) == 1 && vals[0].kind == kindNull {
		if len(modNames) > 0 && !(len(modNames) == 1 && mods.neq) {
			return nil, refuse(ReasonModifier, n, "null under the modifiers %v", modNames)
		}
		if field == "" {
			return nil, refuse(ReasonValue, n, "a keyword cannot be null")
		}
		it.null = true
		return it, nil
	}
	if mods.all && len(vals) == 1 && field != "" {
		// The specification forbids all on a single value; it changes
		// nothing, so the rule still means what it says.
		mods.all = false
		it.all = false
	}
	it.tests = make([]test, 0, len(vals))
	for _, v := range vals {
		var t test
		if field == "" {
			// A keyword is found anywhere in a value.
			km := mods
			km.contains = !mods.re
			t, err = compileValue(v, &km, opts)
		} else {
			t, err = compileValue(v, &mods, opts)
		}
		if err != nil {
			return nil, err
		}
		// Expansions (placeholders, base64offset) count against the bound.
		if x, ok := t.(anyTest); ok {
			if *budget -= len(x) - 1; *budget < 0 {
				return nil, refuse(ReasonTooLarge, n, "more than %d values after expansion", maxItems)
			}
		}
		it.tests = append(it.tests, t)
	}
	if !it.all {
		it.tests = mergeContains(it.tests)
	}
	it.needles = needlesOf(it)
	if it.needles != nil {
		it.reqs = reqsOf(it)
	}
	return it, nil
}

// needlesOf returns, for an item that can only match a value containing
// one of some lowered literals, those literals; nil when the item cannot
// be gated that way (regex, numbers, negation, short needles).
func needlesOf(it *item) []string {
	if it.neq || it.null || it.exists != 0 {
		return nil
	}
	if it.all {
		// Every test must match, so any one of them gates the item.
		for _, t := range it.tests {
			if out, ok := appendNeedles(nil, t); ok {
				return out
			}
		}
		return nil
	}
	var out []string
	for _, t := range it.tests {
		var ok bool
		if out, ok = appendNeedles(out, t); !ok {
			return nil
		}
	}
	if !slices.IsSorted(out) {
		sort.Strings(out)
	}
	return out
}

// appendNeedles appends the needles of one test; false when it has none.
func appendNeedles(out []string, t test) ([]string, bool) {
	switch t := t.(type) {
	case *globTest:
		if t.cased {
			return out, false
		}
		lit := t.p.longestLiteral()
		if len(lit) < 3 && !(t.kind == globEqual && lit != "") {
			return out, false
		}
		return append(out, lit), true
	case regexTest:
		if len(t.lits) == 0 {
			return out, false
		}
		return append(out, t.lits[0]), true
	case *containsAnyTest:
		for _, n := range t.needles {
			if len(n) < shortNeedle {
				return out, false
			}
		}
		return append(out, t.needles...), true
	case anyTest:
		for _, x := range t {
			var ok bool
			if out, ok = appendNeedles(out, x); !ok {
				return out, false
			}
		}
		return out, true
	}
	return out, false
}

// reqsOf returns sets of lowered literals such that, while the item is
// true, its field holds a literal of every set: the prefilter evaluates a
// group of items only once each of its sets has been found. Under all,
// every test adds its own; a single test adds each literal every match
// of it contains (each piece of a wildcard pattern, each literal of a
// regex); several tests OR-linked make one set, of a literal each.
func reqsOf(it *item) [][]string {
	var out [][]string
	if it.all || len(it.tests) == 1 {
		var lits []string
		for _, t := range it.tests {
			lits = appendReqs(lits, t)
		}
		if len(lits) > 0 {
			// Sets of one literal each, in one allocation.
			out = make([][]string, len(lits))
			for i := range lits {
				out[i] = lits[i : i+1 : i+1]
			}
		}
	}
	if len(out) == 0 && it.needles != nil {
		out = [][]string{it.needles}
	}
	return out
}

// appendReqs appends the literals of one test that every match of it
// contains, each a set of its own.
func appendReqs(out []string, t test) []string {
	switch t := t.(type) {
	case *globTest:
		if t.cased {
			return out
		}
		for _, e := range t.p {
			if e.kind == litElem && len(e.text) >= shortNeedle {
				out = append(out, e.text)
			}
		}
	case regexTest:
		for _, l := range t.lits {
			if len(l) >= shortNeedle {
				out = append(out, l)
			}
		}
	}
	return out
}
