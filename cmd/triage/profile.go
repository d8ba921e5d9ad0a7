package main

import (
	"fmt"
	"io"
	"os"
	"runtime/pprof"
)

// profileEnv names a file to write a CPU profile of the whole command to.
// It is for measuring the tool (README, "Performance"), not a flag: an
// examiner has no use for it, and it must not change what a run writes.
const profileEnv = "TRIAGE_CPUPROFILE"

// startProfile starts the CPU profile profileEnv asks for and returns what
// stops it; a profile that cannot be started is said and the command runs
// without it.
func startProfile(stderr io.Writer) (stop func()) {
	path := os.Getenv(profileEnv)
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err == nil {
		err = pprof.StartCPUProfile(f)
	}
	if err != nil {
		fmt.Fprintf(stderr, "triage: %s: %v\n", profileEnv, err)
		if f != nil {
			f.Close()
		}
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}
}
