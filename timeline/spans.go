package timeline

// Span is the first and last of a set of event times, in TimeLayout, which
// sorts as the times do; both are "" when the set is empty.
type Span struct{ First, Last string }

func (s *Span) add(ts string) {
	if s.First == "" || ts < s.First {
		s.First = ts
	}
	if ts > s.Last {
		s.Last = ts
	}
}

// Merge widens s to take in o.
func (s *Span) Merge(o Span) {
	if o.First != "" {
		s.add(o.First)
		s.add(o.Last)
	}
}

// HostSource names a host's events from one source.
type HostSource struct{ Host, Source string }

// EventSpans are the spans of the events a Writer wrote, kept as it writes
// them: reading them back took a scan of the whole events table each, on
// a 30-host fleet two seconds of CPU.
type EventSpans struct {
	// Sources are the spans of each host's events from each source, of
	// the events with a time: WHERE ts != ” GROUP BY host, source.
	Sources map[HostSource]Span
	// Dated are the spans of each host's events dated after 1970: WHERE
	// ts_ns > 0 GROUP BY host, the report's first and last event.
	Dated map[string]Span
}

// spanTracker keeps EventSpans as events are written. Events come an
// artifact at a time, so the last host and source looked up are kept.
type spanTracker struct {
	spans         EventSpans
	last          HostSource
	source, dated *Span
}

func newSpanTracker() *spanTracker {
	return &spanTracker{spans: EventSpans{Sources: map[HostSource]Span{}, Dated: map[string]Span{}}}
}

func (t *spanTracker) add(e *Event) {
	if e.ts == "" {
		return
	}
	if t.source == nil || e.Host != t.last.Host || e.Source != t.last.Source {
		t.flush()
		t.last = HostSource{e.Host, e.Source}
		s, d := t.spans.Sources[t.last], t.spans.Dated[e.Host]
		t.source, t.dated = &s, &d
	}
	t.source.add(e.ts)
	if UnixNano(e.TS) > 0 {
		t.dated.add(e.ts)
	}
}

// flush stores the spans of the last host and source.
func (t *spanTracker) flush() {
	if t.source != nil {
		t.spans.Sources[t.last] = *t.source
		if t.dated.First != "" {
			t.spans.Dated[t.last.Host] = *t.dated
		}
		t.source, t.dated = nil, nil
	}
}
