//go:build unix

package phases

import (
	"syscall"
	"time"
)

// cpuSeconds is the CPU time the process has used, user and system; with
// the wall time it tells how busy the cores were between two marks.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}
