package analyzers

import (
	"context"

	"triage/timeline"
)

// asidePass is the Sigma analyzer running beside the others. Its pass
// reads every event log record, on both cores, while the others read on
// one, one after another; on a read-only connection of its own it need not
// wait for them, nor they for it.
type asidePass struct {
	index  int // in the registry; -1 when every analyzer runs in turn
	done   chan struct{}
	cancel context.CancelFunc
	found  []Finding
	err    error
}

// startAside starts the Sigma analyzer of registry on a connection of its
// own, when there are rules to run and Options.TimelinePath says where the
// timeline is. Its Finding list comes from wait and is finished (ordered,
// merged, folded) like every other's, so the findings are the same as when
// it runs in turn.
func startAside(ctx context.Context, in *Input, registry []Analyzer) *asidePass {
	p := &asidePass{index: -1}
	if in.Opts.TimelinePath == "" || in.Opts.Sigma == nil || len(in.Opts.Sigma.Selected) == 0 {
		return p
	}
	for i, a := range registry {
		if _, ok := a.(*sigmaAnalyzer); ok {
			p.index = i
		}
	}
	if p.index < 0 {
		return p
	}
	p.done = make(chan struct{})
	ctx, p.cancel = context.WithCancel(ctx)
	go func() {
		defer close(p.done)
		reader, err := timeline.OpenPass(in.Opts.TimelinePath)
		if err != nil {
			p.err = err
			return
		}
		defer reader.Close()
		// Its own Input: the streams' caches and first error are the
		// other analyzers'.
		p.found, p.err = registry[p.index].Analyze(ctx, &Input{db: in.db, reader: reader, Opts: in.Opts, ctx: ctx})
	}()
	return p
}

// wait returns what the analyzer found once it is over; at once when none
// runs aside.
func (p *asidePass) wait() ([]Finding, error) {
	if p.done == nil {
		return nil, nil
	}
	<-p.done
	return p.found, p.err
}

// stop ends the analyzer early, when another's error ends the run, and
// waits for it.
func (p *asidePass) stop() {
	if p.done != nil {
		p.cancel()
		<-p.done
	}
}
