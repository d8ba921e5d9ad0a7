package analyzers

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"triage/timeline"
)

// On lanes (Options.TimelinePath), the analyzers run beside one another:
// the findings, their evidence and the incidents must be those of the
// analyzers run one after another on one connection.
func TestLanesAreInTurn(t *testing.T) {
	tables := func(lanes bool) string {
		path := filepath.Join(t.TempDir(), "timeline.db")
		db := syntheticTimelineAt(t, path, 30_000, mixedEvent)
		defer db.Close()
		var opts Options
		if lanes {
			if err := timeline.Share(db); err != nil {
				t.Fatal(err)
			}
			opts.TimelinePath = path
		}
		if _, err := Run(context.Background(), db, opts); err != nil {
			t.Fatal(err)
		}
		return findingTables(t, db)
	}
	inTurn, lanes := tables(false), tables(true)
	for _, want := range []string{"t1059.001-powershell", "t1059.003-cmd", "t1059-interpreters"} {
		if !strings.Contains(inTurn, want) {
			t.Errorf("no finding of %s", want)
		}
	}
	if inTurn != lanes {
		t.Errorf("on lanes:\n%s\nin turn:\n%s", lanes, inTurn)
	}
}
