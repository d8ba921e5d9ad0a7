package analyzers

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// On lanes (Options.TimelinePath), the analyzers run beside one another:
// the findings, their evidence and the incidents must be those of the
// analyzers run one after another on one connection.
func TestLanesAreInTurn(t *testing.T) {
	inTurn, lanes := runTables(t, 30_000, mixedEvent, Options{}, false), runTables(t, 30_000, mixedEvent, Options{}, true)
	for _, want := range []string{"t1059.001-powershell", "t1059.003-cmd", "t1059-interpreters"} {
		if !strings.Contains(inTurn, want) {
			t.Errorf("no finding of %s", want)
		}
	}
	if inTurn != lanes {
		t.Errorf("on lanes:\n%s\nin turn:\n%s", lanes, inTurn)
	}
}

// A timeline past maxLaneEvents runs its analyzers in turn even when they
// could run on lanes, with the same findings.
func TestLargeTimelineRunsInTurn(t *testing.T) {
	saved := maxLaneEvents
	defer func() { maxLaneEvents = saved }()
	maxLaneEvents = 1000
	if inTurn, shared := runTables(t, 5000, mixedEvent, Options{}, false), runTables(t, 5000, mixedEvent, Options{}, true); inTurn != shared {
		t.Errorf("past the limit, shared:\n%s\nin turn:\n%s", shared, inTurn)
	}
	db := syntheticTimelineAt(t, filepath.Join(t.TempDir(), "timeline.db"), 5000, mixedEvent)
	defer db.Close()
	if n := (&Input{db: db, ctx: context.Background()}).events(); n != 5000 {
		t.Errorf("events: %d, want 5000", n)
	}
}
