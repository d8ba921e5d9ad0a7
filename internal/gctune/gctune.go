// Package gctune trades memory for CPU in the stages that turn over many
// short-lived values: the EVTX decoder, the Sigma pass and the export each
// allocate many times their live heap, so at the default GOGC the collector
// ran every few megabytes and took a large share of their CPU.
package gctune

import (
	"os"
	"runtime/debug"
)

// Trade raises GOGC to 400 under a soft memory limit of limit bytes, which
// keeps the heap inside the stage's budget whatever the evidence, and
// returns the function that restores the previous settings. GOGC or
// GOMEMLIMIT in the environment leave the collector alone.
func Trade(limit int64) (restore func()) {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return func() {}
	}
	percent := debug.SetGCPercent(400)
	previous := debug.SetMemoryLimit(limit)
	return func() {
		debug.SetGCPercent(percent)
		debug.SetMemoryLimit(previous)
	}
}
