package analyzers

import (
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
