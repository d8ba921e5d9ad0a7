package sigma

import "fmt"

// resolve links what documents refer to once every file is read: filters
// to their rules, correlations to theirs, duplicate ids refused.
func (c *Collection) resolve() {
	byID := map[string]*Rule{}
	kept := c.Rules[:0]
	for _, r := range c.Rules {
		if r.ID != "" {
			if prev, dup := byID[r.ID]; dup {
				c.Refused = append(c.Refused, Refusal{Path: r.Path, Line: r.Line, ID: r.ID, Title: r.Title,
					Reason: ReasonDuplicateID, Detail: fmt.Sprintf("id also used by %s", prev.Path)})
				continue
			}
			byID[r.ID] = r
		}
		kept = append(kept, r)
	}
	c.Rules = kept
	c.resolveCorrelations()
	for _, f := range c.Filters {
		for _, r := range c.Rules {
			if f.appliesTo(r) {
				r.filters = append(r.filters, f)
			}
		}
	}
}
