// Package phases prints when each step of a command ends, for measuring
// the tool: with TRIAGE_PHASES=1 in the environment, each Mark writes the
// time since the process started, the CPU time used (where the system
// tells) and what ended to stderr. It changes nothing a command writes.
package phases

import (
	"fmt"
	"os"
	"sync"
	"time"
)

var (
	on    = os.Getenv("TRIAGE_PHASES") != ""
	start = time.Now()
	mu    sync.Mutex
)

// Mark says that what has ended, when TRIAGE_PHASES is set.
func Mark(format string, args ...any) {
	if !on {
		return
	}
	mu.Lock()
	defer mu.Unlock()
	fmt.Fprintf(os.Stderr, "phase %7.3fs cpu %7.3fs %s\n", time.Since(start).Seconds(), cpuSeconds(), fmt.Sprintf(format, args...))
}
