package sigma

import yaml "go.yaml.in/yaml/v3"

// Filter is a Sigma filter document: a condition ANDed to the condition
// of each rule it names whose logsource it contains (pySigma's
// semantics: the filter's own condition is usually "not selection").
type Filter struct {
	Meta
	Logsource Logsource
	Rules     []string // ids or names; empty or "any" means every rule
	Path      string
	Doc       int

	names []string
	sels  []*selection
	cond  *cond
}

func compileFilter(m *ymap, meta *Meta, opts LoadOptions) (*Filter, error) {
	f := &Filter{Meta: *meta}
	if ls := m.get("logsource"); ls != nil {
		lm, err := mapping(ls)
		if err != nil {
			return nil, err
		}
		f.Logsource = Logsource{Product: text(lm.get("product")), Category: text(lm.get("category")), Service: text(lm.get("service"))}
	}
	fm, err := mapping(m.get("filter"))
	if err != nil {
		return nil, err
	}
	f.Rules = texts(fm.get("rules"))
	// The filter section is a detection section with a rules list.
	det := &yaml.Node{Kind: yaml.MappingNode, Line: fm.node.Line}
	for i, k := range fm.keys {
		if k != "rules" {
			det.Content = append(det.Content, fm.keyN[i], fm.vals[i])
		}
	}
	sels, conds, err := compileDetection(det, &opts)
	if err != nil {
		return nil, err
	}
	if len(conds) != 1 {
		return nil, refuse(ReasonFilter, fm.node, "a filter has one condition, found %d", len(conds))
	}
	if len(sels) > 0 {
		f.names, f.sels = selectionNames(sels), sels
	}
	if f.cond, err = parseCondition(conds[0], f.names); err != nil {
		return nil, refuse(ReasonFilter, fm.node, "%q: %v", clip(conds[0]), err)
	}
	return f, nil
}

// appliesTo reports whether the filter is for the rule: the rule is named
// (or none is) and every logsource attribute the filter sets is the rule's.
func (f *Filter) appliesTo(r *Rule) bool {
	named := len(f.Rules) == 0
	for _, id := range f.Rules {
		if id == "any" || id == r.ID || (r.Name != "" && id == r.Name) {
			named = true
		}
	}
	ls := f.Logsource
	return named && (ls.Product == "" || ls.Product == r.Logsource.Product) &&
		(ls.Category == "" || ls.Category == r.Logsource.Category) &&
		(ls.Service == "" || ls.Service == r.Logsource.Service)
}
