package sigma

import (
	"fmt"
	"slices"
	"strings"
)

// Selection chooses which loaded rules run, in the spirit of Hayabusa's
// flags: a minimum level, the statuses to include, ids or tags to leave
// out.
type Selection struct {
	MinLevel string   // "" means informational
	Statuses []string // nil means DefaultStatuses
	Exclude  []string // rule ids or tags (attack.t1059.001)
}

// DefaultStatuses leaves out deprecated and unsupported rules.
var DefaultStatuses = []string{"stable", "test", "experimental", ""}

// Select splits the collection's rules into those selected and those not,
// with the reason for each left out.
func (c *Collection) Select(sel Selection) (kept []*Rule, dropped []Refusal) {
	statuses := sel.Statuses
	if statuses == nil {
		statuses = DefaultStatuses
	}
	min := 0
	if sel.MinLevel != "" {
		min = LevelRank(sel.MinLevel)
	}
	excluded := map[string]bool{}
	for _, x := range sel.Exclude {
		excluded[strings.ToLower(x)] = true
	}
	for _, r := range c.Rules {
		reason := ""
		switch {
		case !slices.Contains(statuses, r.Status):
			reason = fmt.Sprintf("status %q is not selected", r.Status)
		case r.Level != "" && LevelRank(r.Level) < min:
			reason = fmt.Sprintf("level %s is below %s", r.Level, sel.MinLevel)
		case excluded[strings.ToLower(r.ID)]:
			reason = "id excluded"
		default:
			for _, t := range r.Tags {
				if excluded[strings.ToLower(t)] {
					reason = "tag " + t + " excluded"
					break
				}
			}
		}
		if reason != "" {
			dropped = append(dropped, Refusal{Path: r.Path, Line: r.Line, ID: r.ID, Title: r.Title, Reason: ReasonNotSelected, Detail: reason})
			continue
		}
		kept = append(kept, r)
	}
	return kept, dropped
}

// ValidLevel reports whether s names a Sigma level.
func ValidLevel(s string) bool { return LevelRank(s) >= 0 }
