package analyzers

import "time"

// Options tune the analyzers for one run.
type Options struct {
	Location       *time.Location // host-local time zone for the business-hours analytic; nil means UTC
	BusinessStart  int            // first business hour, 0-23 (default 8)
	BusinessEnd    int            // hour business ends, 1-24 (default 18)
	IncidentWindow time.Duration  // findings closer than this may form one incident (default 5m)
	Sigma          *SigmaRules    // Sigma rules to run (sigma.go); nil runs none
	// TimelinePath is the file of the timeline db, which the Sigma pass
	// opens again, read-only, to read every event log record beside the
	// other analyzers and db's writes. Give it only when the timeline is
	// in WAL mode (timeline.Share); empty, every analyzer reads on db, one
	// after another.
	TimelinePath string
}

// Summary counts what a run of the analyzers wrote.
type Summary struct {
	Findings  int
	Incidents int
}
