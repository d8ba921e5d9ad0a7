package sigma

import (
	"slices"
	"sort"
	"strings"
	"unsafe"

	yaml "go.yaml.in/yaml/v3"
)

// Rule is a compiled Sigma detection rule.
type Rule struct {
	Meta
	Logsource Logsource
	Sources   []Source
	Path      string // the file it came from
	Doc       int    // its document in that file, from 0

	names    []string // selection names, sorted
	sels     []*selection
	conds    []*cond   // OR-linked condition list
	filters  []*Filter // applied filters, AND-linked (filter.go)
	suppress bool      // a correlation without generate uses it
}

// Levels in increasing order; a rule's level becomes a finding's severity.
var Levels = []string{"informational", "low", "medium", "high", "critical"}

// LevelRank orders levels; unknown levels rank below informational.
func LevelRank(level string) int {
	for i, l := range Levels {
		if l == level {
			return i
		}
	}
	return -1
}

func compileRule(m *ymap, meta *Meta, opts LoadOptions) (*Rule, error) {
	det := m.get("detection")
	if det == nil {
		return nil, refuse(ReasonStructure, m.node, "no detection section")
	}
	if meta.Title == "" {
		return nil, refuse(ReasonStructure, m.node, "no title")
	}
	r := &Rule{Meta: *meta}
	if ls := m.get("logsource"); ls != nil {
		lm, err := mapping(ls)
		if err != nil {
			return nil, err
		}
		r.Logsource = Logsource{Product: text(lm.get("product")), Category: text(lm.get("category")), Service: text(lm.get("service"))}
	}
	if meta.Level != "" && LevelRank(meta.Level) < 0 {
		return nil, refuse(ReasonStructure, m.get("level"), "level %q", meta.Level)
	}
	sels, conds, err := compileDetection(det, &opts)
	if err != nil {
		return nil, err
	}
	if len(sels) > 0 {
		r.names, r.sels = selectionNames(sels), sels
	}
	r.conds = make([]*cond, 0, len(conds))
	for _, c := range conds {
		pc, err := parseCondition(c, r.names)
		if err != nil {
			return nil, refuse(ReasonCondition, condNode(det), "%q: %v", clip(c), err)
		}
		r.conds = append(r.conds, pc)
	}
	srcs, reason, detail := sourcesOf(r.Logsource)
	if reason != "" {
		return nil, refuse(reason, m.get("logsource"), "%s", detail)
	}
	r.Sources = srcs
	return r, nil
}

func condNode(det *yaml.Node) *yaml.Node {
	if m, err := mapping(det); err == nil {
		if c := m.get("condition"); c != nil {
			return c
		}
	}
	return det
}

// Fields is an event as rules read it: field name → values. A name has
// several values when the record repeats it; the unnamed Data elements of
// a record are all values of Data.
type Fields map[string][]string

// Add appends a value under the Sigma name of a timeline field key:
// "Data[3]" is Data, "Name#2" (the second Name) is Name, and a name with
// spaces is also found without them.
func (f Fields) Add(key, value string) {
	name := key
	if i := strings.LastIndexByte(name, '#'); i > 0 && allDigits(name[i+1:]) {
		name = name[:i]
	}
	if strings.HasSuffix(name, "]") {
		if i := strings.LastIndexByte(name, '['); i > 0 && allDigits(name[i+1:len(name)-1]) {
			name = name[:i]
		}
	}
	f[name] = append(f[name], value)
	if strings.IndexByte(name, ' ') >= 0 {
		// Defender and other providers name fields with spaces ("Threat
		// Name"); rules, like every Sigma backend for Windows, write them
		// without.
		packed := strings.ReplaceAll(name, " ", "")
		f[packed] = append(f[packed], value)
	}
}

// Reset empties f for reuse, keeping the value slices' storage.
func (f Fields) Reset() {
	for k, v := range f {
		if len(v) == 0 {
			delete(f, k) // unused by the last event too
			continue
		}
		f[k] = v[:0]
	}
}

// Clone copies f's values, for keeping past a Reset.
func (f Fields) Clone() Fields {
	c := make(Fields, len(f))
	for k, v := range f {
		if len(v) > 0 {
			c[k] = slices.Clone(v)
		}
	}
	return c
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// view is an event under evaluation, with the lowered values computed
// once per field. A RuleSet reuses one view from event to event (reset),
// keeping its map and buffers.
type view struct {
	f       Fields
	lower   map[string]fieldValues // per field read, once read
	lowBuf  []string               // storage of the lower slices
	all     []string               // every value, for keywords, once allDone
	allLo   []string
	allDone bool
	// arena holds the lowered ASCII values of the event: they are read
	// while it is matched and by nothing after, so the next event writes
	// over them instead of allocating its own.
	arena []byte
}

// fieldValues is a field's values and the same lowered; nil for a field the
// event lacks.
type fieldValues struct{ vals, lows []string }

func newView(f Fields) *view { return &view{f: f} }

// reset makes v a view of f, forgetting the last event's values.
func (v *view) reset(f Fields) {
	v.f = f
	clear(v.lower)
	v.lowBuf, v.all, v.allLo, v.allDone = v.lowBuf[:0], v.all[:0], v.allLo[:0], false
	v.arena = v.arena[:0]
}

func (v *view) values(name string) (vals, lows []string, ok bool) {
	if c, done := v.lower[name]; done {
		return c.vals, c.lows, c.vals != nil
	}
	if v.lower == nil {
		v.lower = make(map[string]fieldValues, 8)
	}
	// A name with no values is absent: Reset leaves the key behind.
	vals = v.f[name]
	if len(vals) == 0 {
		v.lower[name] = fieldValues{}
		return nil, nil, false
	}
	start := len(v.lowBuf)
	for _, s := range vals {
		v.lowBuf = append(v.lowBuf, v.lowered(s))
	}
	lows = v.lowBuf[start:len(v.lowBuf):len(v.lowBuf)]
	v.lower[name] = fieldValues{vals, lows}
	return vals, lows, true
}

func (v *view) everything() (vals, lows []string) {
	if !v.allDone {
		v.allDone = true
		names := make([]string, 0, len(v.f))
		for k := range v.f {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			vals, lows, _ := v.values(k)
			v.all = append(v.all, vals...)
			v.allLo = append(v.allLo, lows...)
		}
	}
	return v.all, v.allLo
}

// lowered is s lowered: s itself when it is lower already, in the arena
// when it is ASCII, else a string of its own.
func (v *view) lowered(s string) string {
	upper := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x80 {
			return strings.ToLower(s)
		}
		upper = upper || 'A' <= c && c <= 'Z'
	}
	if !upper {
		return s
	}
	if cap(v.arena)-len(v.arena) < len(s) {
		// A new block: the values lowered into the old one still view it.
		v.arena = make([]byte, 0, max(2*cap(v.arena), len(s), 4096))
	}
	start := len(v.arena)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		v.arena = append(v.arena, c)
	}
	b := v.arena[start:]
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// lowerASCIIFirst lowers s, without allocating when it is lower already.
func lowerASCIIFirst(s string) string {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x80 || 'A' <= c && c <= 'Z' {
			return strings.ToLower(s)
		}
	}
	return s
}

func (it *item) eval(v *view) bool {
	ok := it.evalPositive(v)
	if it.neq {
		return !ok
	}
	return ok
}

func (it *item) evalPositive(v *view) bool {
	var vals, lows []string
	if it.keywords {
		vals, lows = v.everything()
	} else {
		var present bool
		vals, lows, present = v.values(it.field)
		switch {
		case it.null:
			return !present
		case it.exists != 0:
			return present == (it.exists > 0)
		case !present:
			return false
		}
	}
	if it.all {
		for _, t := range it.tests {
			if !t.match(v, vals, lows) {
				return false
			}
		}
		return true
	}
	for _, t := range it.tests {
		if t.match(v, vals, lows) {
			return true
		}
	}
	return false
}

func (s *selection) eval(v *view) bool {
	for _, g := range s.groups {
		ok := true
		for _, it := range g {
			if !it.eval(v) {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

func (c *cond) eval(sels []*selection, v *view) bool {
	switch c.op {
	case condSel:
		return sels[c.sel].eval(v)
	case condAnd:
		for _, a := range c.args {
			if !a.eval(sels, v) {
				return false
			}
		}
		return true
	case condOr:
		for _, a := range c.args {
			if a.eval(sels, v) {
				return true
			}
		}
		return false
	case condNot:
		return !c.args[0].eval(sels, v)
	}
	return false
}

// Match reports whether the rule matches an event (its own fields; the
// caller picks the view the rule's source asks for).
func (r *Rule) Match(f Fields) bool { return r.match(newView(f)) }

func (r *Rule) match(v *view) bool {
	hit := false
	for _, c := range r.conds {
		if c.eval(r.sels, v) {
			hit = true
			break
		}
	}
	if !hit {
		return false
	}
	for _, f := range r.filters {
		if !f.cond.eval(f.sels, v) {
			return false
		}
	}
	return true
}

// Matched lists the fields of the event that the rule's positive
// selections read, with their values verbatim, sorted by field.
func (r *Rule) Matched(f Fields) []FieldValue { return r.matched(newView(f)) }

// matched is Matched on a view of the event, whose lowered values the
// match left behind: a new view per hit lowered them all again, a fifth
// of the matching on process starts that several rules match.
func (r *Rule) matched(v *view) []FieldValue {
	f := v.f
	seen := map[string]bool{}
	var out []FieldValue
	var visit func(c *cond, negated bool)
	visit = func(c *cond, negated bool) {
		switch c.op {
		case condNot:
			visit(c.args[0], !negated)
		case condSel:
			s := r.sels[c.sel]
			if negated || !s.eval(v) {
				return
			}
			for _, g := range s.groups {
				for _, it := range g {
					if it.keywords || it.neq || it.null || seen[it.field] || !it.eval(v) {
						continue
					}
					seen[it.field] = true
					for _, val := range f[it.field] {
						out = append(out, FieldValue{Field: it.field, Value: val})
					}
				}
			}
		default:
			for _, a := range c.args {
				visit(a, negated)
			}
		}
	}
	for _, c := range r.conds {
		visit(c, false)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Field < out[j].Field })
	return out
}

// FieldValue is one field's value as the event holds it.
type FieldValue struct{ Field, Value string }
