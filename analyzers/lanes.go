package analyzers

import (
	"context"
	"database/sql"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"

	"triage/internal/phases"
	"triage/timeline"
)

// maxLanes bounds the analyzers run at once, each holding its working set
// and its connection's cache.
const maxLanes = 2

// maxLaneEvents is the largest timeline, by events, whose analyzers run on
// lanes. An analyzer's findings are folded once it is done, so until then
// they grow with the events it matches: on the 4 GiB synthetic log (6.5 M
// events) two at once took the run to 613–628 MiB, past its 512 MiB
// budget; on the 1.1 GiB one (1.7 M) the lanes' peak was 356–364 MiB.
var maxLaneEvents int64 = 3_000_000

// Lanes reports whether the analyzers, without a Sigma pass beside them,
// run side by side on a timeline of this many events, and so keep both
// cores busy.
func Lanes(events int64) bool { return events <= maxLaneEvents }

// runInLanes runs every analyzer of registry but the one at skip, putting
// what each found, finished, at its index in found. With
// Options.TimelinePath and no Sigma pass aside, analyzers run side by side
// on as many lanes as there are cores, each lane past the first on a
// read-only connection of its own: the T1059 analyzers each read every process start on one core,
// so one after another they left the other idle. An analyzer only reads
// the timeline, so which lane runs it, and when, changes none of its
// findings; the first error in registry order is returned.
func runInLanes(ctx context.Context, in *Input, registry []Analyzer, skip int, found [][]Finding) error {
	lanes := []*Input{{db: in.db, Opts: in.Opts, reads: in.reads}}
	// The Sigma pass aside already reads on every core: lanes beside it
	// only contended with it, 0.04 s later on the KAPE host.
	if in.Opts.TimelinePath != "" && skip < 0 && Lanes(in.events()) {
		for len(lanes) < min(runtime.GOMAXPROCS(0), maxLanes) {
			db, err := timeline.OpenLane(in.Opts.TimelinePath)
			if err != nil {
				return err
			}
			defer db.Close()
			lanes = append(lanes, &Input{db: db, Opts: in.Opts, reads: in.reads})
		}
	}
	// The Sigma analyzer writes its rule records on the run's connection;
	// without rules to run aside it is that write alone, done first.
	done := make([]bool, len(registry))
	if skip >= 0 {
		done[skip] = true // finished by Run, once its pass is over
	}
	for i, a := range registry {
		if _, writes := a.(*sigmaAnalyzer); writes && !done[i] {
			lanes[0].ctx = ctx
			if err := lanes[0].run(a, &found[i]); err != nil {
				return err
			}
			done[i] = true
		}
	}
	laneCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make([]error, len(registry))
	var next atomic.Int64
	var wg sync.WaitGroup
	for _, lane := range lanes {
		lane.ctx = laneCtx
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(registry) || laneCtx.Err() != nil {
					return
				}
				if done[i] {
					continue
				}
				if errs[i] = lane.run(registry[i], &found[i]); errs[i] != nil {
					cancel()
					return
				}
			}
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return err
	}
	// An analyzer cut short by another's error reports the cancellation:
	// the cause is the error to give.
	var first error
	for _, err := range errs {
		if err == nil {
			continue
		}
		if !errors.Is(err, context.Canceled) {
			return err
		}
		if first == nil {
			first = err
		}
	}
	return first
}

// run runs a on in and puts what it found, finished, in found.
func (in *Input) run(a Analyzer, found *[]Finding) error {
	in.err = nil
	fs, err := a.Analyze(in.ctx, in)
	if err == nil {
		err = in.err
	}
	if *found, err = in.finish(a, fs, err); err != nil {
		return err
	}
	phases.Mark("analyzer %s", a.Meta().ID)
	return nil
}

// events is how many events the timeline holds, near enough: ids are
// given in insertion order, so the last is the count, read without a scan.
func (in *Input) events() int64 {
	var last sql.NullInt64
	if err := in.db.QueryRowContext(in.ctx, `SELECT max(id) FROM events`).Scan(&last); err != nil {
		return 0 // the first analyzer will say what is wrong
	}
	return last.Int64
}
