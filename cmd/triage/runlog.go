package main

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// runLog is the audit trail written to run.log: every action and every
// error, one timestamped line each, mirrored to the console when asked.
type runLog struct {
	mu      sync.Mutex
	w       io.Writer
	console io.Writer // nil when a progress bar owns the terminal
	now     func() time.Time
}

func (l *runLog) Printf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	line := fmt.Sprintf(format, args...)
	fmt.Fprintf(l.w, "%s %s\n", l.now().UTC().Format(time.RFC3339), line)
	if l.console != nil {
		fmt.Fprintf(l.console, "triage: %s\n", line)
	}
}
