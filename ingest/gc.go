package ingest

import (
	"os"
	"runtime/debug"
)

// tuneGC trades memory for CPU while evidence is ingested, and returns the
// function that restores the previous settings. The EVTX decoder allocates
// many times its live heap, so at the default GOGC the collector ran every
// few megabytes and took a sixth of the ingest's CPU. The soft limit keeps
// the Go heap well inside the 512 MiB budget whatever the evidence. GOGC or
// GOMEMLIMIT in the environment leave the collector alone.
func tuneGC() (restore func()) {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return func() {}
	}
	percent := debug.SetGCPercent(400)
	limit := debug.SetMemoryLimit(384 << 20)
	return func() {
		debug.SetGCPercent(percent)
		debug.SetMemoryLimit(limit)
	}
}
