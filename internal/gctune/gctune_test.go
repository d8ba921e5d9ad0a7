package gctune

import (
	"os"
	"runtime/debug"
	"testing"
)

// Overlapping trades hold until the last restores, whichever order they
// restore in, under the largest limit of those in force.
func TestOverlappingTrades(t *testing.T) {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		t.Skip("GOGC or GOMEMLIMIT set: Trade leaves the collector alone")
	}
	percent := debug.SetGCPercent(100)
	limit := debug.SetMemoryLimit(1 << 40)
	defer func() {
		debug.SetGCPercent(percent)
		debug.SetMemoryLimit(limit)
	}()
	first := Trade(100 << 20)
	second := Trade(300 << 20)
	if got := debug.SetMemoryLimit(-1); got != 300<<20 {
		t.Errorf("limit %d while both trade, want the larger", got)
	}
	second()
	second() // a second call changes nothing
	if got := debug.SetMemoryLimit(-1); got != 100<<20 {
		t.Errorf("limit %d once the larger restored, want the one still in force", got)
	}
	third := Trade(200 << 20)
	first()
	if got := debug.SetGCPercent(-1); got != 400 {
		t.Errorf("GOGC %d while one still trades, want 400", got)
	}
	debug.SetGCPercent(400)
	third()
	if got := debug.SetGCPercent(-1); got != 100 {
		t.Errorf("GOGC %d once both restored, want 100", got)
	}
	if got := debug.SetMemoryLimit(-1); got != 1<<40 {
		t.Errorf("limit %d once both restored, want the one before", got)
	}
}
