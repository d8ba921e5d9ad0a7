package export

import (
	"os"
	"runtime/debug"
)

// tuneGC trades memory for CPU while the events stream, and returns the
// function that restores the previous settings. The driver makes a string
// of every text column of every row, all garbage a line later, so at the
// default GOGC the collector ran every few megabytes over a live heap of
// a few. The soft limit keeps the heap small whatever the case. GOGC or
// GOMEMLIMIT in the environment leave the collector alone.
func tuneGC() (restore func()) {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return func() {}
	}
	percent := debug.SetGCPercent(400)
	limit := debug.SetMemoryLimit(64 << 20)
	return func() {
		debug.SetGCPercent(percent)
		debug.SetMemoryLimit(limit)
	}
}
