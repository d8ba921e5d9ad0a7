// Package gctune trades memory for CPU in the stages that turn over many
// short-lived values: the EVTX decoder, the Sigma pass and the export each
// allocate many times their live heap, so at the default GOGC the collector
// ran every few megabytes and took a large share of their CPU.
package gctune

import (
	"os"
	"runtime/debug"
	"slices"
	"sync"
)

// Trade raises GOGC to 400 under a soft memory limit of limit bytes, which
// keeps the heap inside the stage's budget whatever the evidence, and
// returns the function that restores the previous settings. Stages that
// overlap (the rules load runs beside the ingest) may each trade: GOGC
// stays raised until the last of them restores, under the largest limit
// of those still in force. GOGC or GOMEMLIMIT in the environment leave the
// collector alone.
func Trade(limit int64) (restore func()) {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return func() {}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(inForce) == 0 {
		savedPercent = debug.SetGCPercent(400)
		savedLimit = debug.SetMemoryLimit(-1) // -1 reads it
	}
	inForce = append(inForce, limit)
	debug.SetMemoryLimit(slices.Max(inForce))
	var once sync.Once
	return func() {
		once.Do(func() {
			mu.Lock()
			defer mu.Unlock()
			i := slices.Index(inForce, limit)
			inForce = slices.Delete(inForce, i, i+1)
			if len(inForce) == 0 {
				debug.SetGCPercent(savedPercent)
				debug.SetMemoryLimit(savedLimit)
			} else {
				debug.SetMemoryLimit(slices.Max(inForce))
			}
		})
	}
}

var (
	mu           sync.Mutex // guards the trades and what they saved
	inForce      []int64    // the limits of the trades in force
	savedPercent int
	savedLimit   int64
)

// Budget is the soft limit on the Go heap of every command, outside the
// stages that Trade: with SQLite's caches (64 MiB for the timeline's
// connection, 16 MiB for timeline.csv's) and the report's buffers it keeps
// the process inside its 512 MiB. Without it the analyzers' heap, which
// the collector lets grow to twice what is live, reached 300 MiB.
const Budget = 256 << 20

// SetBudget sets Budget as the soft memory limit, unless GOMEMLIMIT in the
// environment sets another.
func SetBudget() {
	if os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	debug.SetMemoryLimit(Budget)
}
