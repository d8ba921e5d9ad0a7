package sigma

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Correlation is a Sigma correlation rule (the correlation specification):
// a count, distinct-value count, sum or average of the matches of other
// rules, or their co-occurrence, per group within a sliding timespan.
type Correlation struct {
	Meta
	Path     string
	Doc      int
	Type     string   // event_count, value_count, value_sum, value_avg, temporal, temporal_ordered
	Refs     []string // ids or names of rules or correlations
	GroupBy  []string
	Aliases  map[string]map[string]string // alias → rule name or id → field
	Timespan time.Duration
	Conds    []corrCond // AND-linked; a range has two
	Field    []string   // value_* types
	Generate bool

	rules []corrInput // resolved Refs
}

type corrCond struct {
	op string // gt gte lt lte eq neq
	n  float64
}

// corrInput is one referenced rule or correlation.
type corrInput struct {
	rule *Rule
	corr *Correlation
}

func (in corrInput) names() []string {
	if in.rule != nil {
		return []string{in.rule.ID, in.rule.Name}
	}
	return []string{in.corr.ID, in.corr.Name}
}

var timespanRE = regexp.MustCompile(`^([0-9]+)([smhdwMy])$`)

func parseTimespan(s string) (time.Duration, bool) {
	m := timespanRE.FindStringSubmatch(s)
	if m == nil {
		return 0, false
	}
	n, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil || n <= 0 || n > 1e6 {
		return 0, false
	}
	unit := map[string]time.Duration{"s": time.Second, "m": time.Minute, "h": time.Hour, "d": 24 * time.Hour,
		"w": 7 * 24 * time.Hour, "M": 2629746 * time.Second, "y": 31556952 * time.Second}[m[2]]
	return time.Duration(n) * unit, true
}

func compileCorrelation(m *ymap, meta *Meta) (*Correlation, error) {
	cm, err := mapping(m.get("correlation"))
	if err != nil {
		return nil, err
	}
	c := &Correlation{Meta: *meta, Type: text(cm.get("type")), Refs: texts(cm.get("rules")), GroupBy: texts(cm.get("group-by")),
		Field: texts(cm.get("field")), Generate: text(cm.get("generate")) == "true"}
	if g := m.get("generate"); g != nil {
		c.Generate = text(g) == "true"
	}
	switch c.Type {
	case "event_count", "value_count", "value_sum", "value_avg", "temporal", "temporal_ordered":
	case "value_percentile", "value_median":
		return nil, refuse(ReasonCorrelation, cm.node, "type %s is not supported", c.Type)
	default:
		return nil, refuse(ReasonCorrelation, cm.node, "unknown type %q", c.Type)
	}
	if len(c.Refs) == 0 {
		return nil, refuse(ReasonCorrelation, cm.node, "no rules")
	}
	var ok bool
	if c.Timespan, ok = parseTimespan(text(cm.get("timespan"))); !ok {
		return nil, refuse(ReasonCorrelation, cm.node, "timespan %q: want <number><s|m|h|d|w|M|y>", text(cm.get("timespan")))
	}
	if strings.HasPrefix(c.Type, "value_") && len(c.Field) == 0 {
		return nil, refuse(ReasonCorrelation, cm.node, "%s needs field", c.Type)
	}
	if a := cm.get("aliases"); a != nil {
		am, err := mapping(a)
		if err != nil {
			return nil, err
		}
		c.Aliases = map[string]map[string]string{}
		for i, alias := range am.keys {
			rm, err := mapping(am.vals[i])
			if err != nil {
				return nil, err
			}
			c.Aliases[alias] = map[string]string{}
			for j, rule := range rm.keys {
				c.Aliases[alias][rule] = text(rm.vals[j])
			}
		}
	}
	if cond := cm.get("condition"); cond != nil {
		cc, err := mapping(cond)
		if err != nil {
			return nil, err
		}
		for i, op := range cc.keys {
			n, err := strconv.ParseFloat(text(cc.vals[i]), 64)
			if err != nil {
				return nil, refuse(ReasonCorrelation, cc.vals[i], "condition %s wants a number", op)
			}
			switch op {
			case "gt", "gte", "lt", "lte", "eq", "neq":
				c.Conds = append(c.Conds, corrCond{op, n})
			default:
				return nil, refuse(ReasonCorrelation, cc.keyN[i], "condition operator %q", op)
			}
		}
		if len(c.Conds) > 2 {
			return nil, refuse(ReasonCorrelation, cond, "a condition has one operator or a range of two")
		}
	}
	if len(c.Conds) == 0 {
		if c.Type != "temporal" && c.Type != "temporal_ordered" {
			return nil, refuse(ReasonCorrelation, cm.node, "%s needs a condition", c.Type)
		}
		c.Conds = []corrCond{{"gte", float64(len(c.Refs))}} // pySigma's default
	}
	if meta.Level != "" && LevelRank(meta.Level) < 0 {
		return nil, refuse(ReasonCorrelation, m.get("level"), "level %q", meta.Level)
	}
	return c, nil
}

func (c *Correlation) holds(v float64) bool {
	for _, cc := range c.Conds {
		var ok bool
		switch cc.op {
		case "gt":
			ok = v > cc.n
		case "gte":
			ok = v >= cc.n
		case "lt":
			ok = v < cc.n
		case "lte":
			ok = v <= cc.n
		case "eq":
			ok = v == cc.n
		case "neq":
			ok = v != cc.n
		}
		if !ok {
			return false
		}
	}
	return true
}

// growing reports whether the condition, once true for a window, is
// decided by its smallest window (a lower bound); otherwise the largest
// window within the timespan is judged.
func (c *Correlation) growing() bool {
	for _, cc := range c.Conds {
		if cc.op == "lt" || cc.op == "lte" || cc.op == "neq" {
			return false
		}
	}
	return true
}

// fieldFor is the event field a group-by name reads for one input: an
// alias maps it per rule, else the name itself.
func (c *Correlation) fieldFor(name string, in corrInput) string {
	if a, ok := c.Aliases[name]; ok {
		for _, n := range in.names() {
			if f, ok := a[n]; ok && n != "" {
				return f
			}
		}
	}
	return name
}

// Observation is one match a correlation counts: a rule's event, or an
// inner correlation's hit.
type Observation struct {
	TS       time.Time
	Host     string
	EventIDs []int64
	Values   map[string]string // group-by and value fields, by the correlation's names
	input    int
}

// CorrelationHit is a correlation that fired for one group and window.
type CorrelationHit struct {
	Correlation *Correlation
	Host        string
	First, Last time.Time
	Group       map[string]string
	Value       float64 // the count, distinct count, sum or average judged
	EventIDs    []int64 // every event behind it, in time order
}

// Correlator gathers the matches of the rules correlations reference and
// judges the correlations at the end. It keeps only what the
// correlations read of each match, so memory follows the matches, not
// the timeline.
type Correlator struct {
	corrs  []*Correlation // in dependency order
	byRule map[*Rule][]corrRef
	obs    map[*Correlation][]Observation
}

type corrRef struct {
	corr  *Correlation
	input int
}

// NewCorrelator prepares the correlations of a collection.
func NewCorrelator(c *Collection) *Correlator {
	k := &Correlator{corrs: c.Correlations, byRule: map[*Rule][]corrRef{}, obs: map[*Correlation][]Observation{}}
	for _, cr := range c.Correlations {
		for i, in := range cr.rules {
			if in.rule != nil {
				k.byRule[in.rule] = append(k.byRule[in.rule], corrRef{cr, i})
			}
		}
	}
	return k
}

// Wants reports whether a rule's matches feed a correlation.
func (k *Correlator) Wants(r *Rule) bool { return len(k.byRule[r]) > 0 }

// Observe records a rule's match.
func (k *Correlator) Observe(r *Rule, ts time.Time, host string, eventID int64, f Fields) {
	for _, ref := range k.byRule[r] {
		cr := ref.corr
		vals := map[string]string{}
		for _, g := range cr.GroupBy {
			vals[g] = first(f[cr.fieldFor(g, cr.rules[ref.input])])
		}
		for _, fl := range cr.Field {
			vals["\x00"+fl] = first(f[cr.fieldFor(fl, cr.rules[ref.input])])
		}
		k.obs[cr] = append(k.obs[cr], Observation{TS: ts, Host: host, EventIDs: []int64{eventID}, Values: vals, input: ref.input})
	}
}

// Finish judges every correlation, inner ones first, and returns the
// hits of those that generate output (the outermost, and any with
// generate: true), in a stable order.
func (k *Correlator) Finish() []CorrelationHit {
	var out []CorrelationHit
	inner := map[*Correlation]bool{}
	for _, cr := range k.corrs {
		for _, in := range cr.rules {
			if in.corr != nil {
				inner[in.corr] = true
			}
		}
	}
	for _, cr := range k.corrs {
		hits := cr.judge(k.obs[cr])
		for _, h := range hits {
			// Feed the correlations that reference this one.
			for _, outer := range k.corrs {
				for i, in := range outer.rules {
					if in.corr == cr {
						vals := map[string]string{}
						for _, g := range outer.GroupBy {
							vals[g] = h.Group[outer.fieldFor(g, in)]
						}
						k.obs[outer] = append(k.obs[outer], Observation{TS: h.Last, Host: h.Host, EventIDs: h.EventIDs, Values: vals, input: i})
					}
				}
			}
		}
		if !inner[cr] || cr.Generate {
			out = append(out, hits...)
		}
	}
	return out
}

// judge slides the timespan over each group's observations in time order.
// From each left edge the window grows while it spans at most the
// timespan; a condition with a lower bound fires at the smallest window
// that meets it, any other is judged on the largest. After a hit the next
// window starts after it, so one burst is one hit.
func (cr *Correlation) judge(obs []Observation) []CorrelationHit {
	groups := map[string][]Observation{}
	var keys []string
	for _, o := range obs {
		k := o.Host
		for _, g := range cr.GroupBy {
			k += "\x00" + o.Values[g]
		}
		if _, ok := groups[k]; !ok {
			keys = append(keys, k)
		}
		groups[k] = append(groups[k], o)
	}
	sort.Strings(keys)
	var out []CorrelationHit
	for _, k := range keys {
		g := groups[k]
		sort.SliceStable(g, func(i, j int) bool { return g[i].TS.Before(g[j].TS) })
		for l := 0; l < len(g); {
			r := l
			for r+1 < len(g) && g[r+1].TS.Sub(g[l].TS) <= cr.Timespan {
				r++
			}
			end := -1
			if cr.growing() {
				for x := l; x <= r; x++ {
					if cr.holds(cr.metric(g[l : x+1])) {
						end = x
						break
					}
				}
			} else if cr.holds(cr.metric(g[l : r+1])) {
				end = r
			}
			if end < 0 {
				l++
				continue
			}
			out = append(out, cr.hit(g[l:end+1]))
			l = end + 1
		}
	}
	return out
}

func (cr *Correlation) metric(w []Observation) float64 {
	switch cr.Type {
	case "event_count":
		return float64(len(w))
	case "value_count":
		seen := map[string]bool{}
		for _, o := range w {
			var key []string
			for _, f := range cr.Field {
				key = append(key, o.Values["\x00"+f])
			}
			seen[strings.Join(key, "\x00")] = true
		}
		return float64(len(seen))
	case "value_sum", "value_avg":
		sum, n := 0.0, 0
		for _, o := range w {
			if v, ok := parseNumber(o.Values["\x00"+cr.Field[0]]); ok {
				sum += v
				n++
			}
		}
		if cr.Type == "value_avg" {
			if n == 0 {
				return 0
			}
			return sum / float64(n)
		}
		return sum
	case "temporal":
		seen := map[int]bool{}
		for _, o := range w {
			seen[o.input] = true
		}
		return float64(len(seen))
	case "temporal_ordered":
		// How many of the rules, in their listed order, occur one after
		// another in the window.
		next := 0
		for _, o := range w {
			if next < len(cr.rules) && o.input == next {
				next++
			}
		}
		return float64(next)
	}
	return 0
}

func (cr *Correlation) hit(w []Observation) CorrelationHit {
	h := CorrelationHit{Correlation: cr, Host: w[0].Host, First: w[0].TS, Last: w[len(w)-1].TS, Group: map[string]string{}, Value: cr.metric(w)}
	for _, g := range cr.GroupBy {
		h.Group[g] = w[0].Values[g]
	}
	for _, o := range w {
		h.EventIDs = append(h.EventIDs, o.EventIDs...)
	}
	return h
}

// resolveCorrelations links references, refuses the unresolvable and
// cycles, orders correlations inner first, and silences the rules whose
// correlations do not generate their matches.
func (c *Collection) resolveCorrelations() {
	rules := map[string]*Rule{}
	for _, r := range c.Rules {
		for _, n := range []string{r.ID, r.Name} {
			if n != "" {
				rules[n] = r
			}
		}
	}
	corrs := map[string]*Correlation{}
	for _, cr := range c.Correlations {
		for _, n := range []string{cr.ID, cr.Name} {
			if n != "" {
				corrs[n] = cr
			}
		}
	}
	bad := map[*Correlation]string{}
	for _, cr := range c.Correlations {
		for _, ref := range cr.Refs {
			switch {
			case rules[ref] != nil:
				cr.rules = append(cr.rules, corrInput{rule: rules[ref]})
			case corrs[ref] != nil && corrs[ref] != cr:
				cr.rules = append(cr.rules, corrInput{corr: corrs[ref]})
			default:
				bad[cr] = fmt.Sprintf("%s names no loaded rule or correlation", ref)
			}
		}
	}
	// Order inner first; what is left in a cycle, or rests on a refused
	// correlation, is refused.
	var ordered []*Correlation
	done := map[*Correlation]bool{}
	for progress := true; progress; {
		progress = false
		for _, cr := range c.Correlations {
			if done[cr] || bad[cr] != "" {
				continue
			}
			ready := true
			for _, in := range cr.rules {
				if in.corr != nil && !done[in.corr] {
					ready = false
					if bad[in.corr] != "" {
						bad[cr] = fmt.Sprintf("rests on %s, which is refused", in.corr.ID)
					}
				}
			}
			if ready {
				done[cr] = true
				ordered = append(ordered, cr)
				progress = true
			}
		}
	}
	for _, cr := range c.Correlations {
		if done[cr] {
			continue
		}
		reason := bad[cr]
		if reason == "" {
			reason = "its references form a cycle"
		}
		c.Refused = append(c.Refused, Refusal{Path: cr.Path, Line: cr.Line, ID: cr.ID, Title: cr.Title, Reason: ReasonUnknownRuleRef, Detail: reason})
	}
	c.Correlations = ordered
	for _, cr := range ordered {
		if cr.Generate {
			continue
		}
		for _, in := range cr.rules {
			if in.rule != nil {
				in.rule.suppress = true
			}
		}
	}
}

// Suppressed reports whether the rule's own matches are not output: a
// correlation uses them without generate.
func (r *Rule) Suppressed() bool { return r.suppress }
