package timeline

import (
	"reflect"
	"testing"
	"time"
)

// TestWriterSpans: the spans a Writer keeps are those the queries they
// stand for read back, before 1970 and without a time included.
func TestWriterSpans(t *testing.T) {
	a := &Artifact{Host: "h", EvidenceRoot: "r", Path: "p", Kind: "evtx"}
	db, w := newTestWriter(t, a)
	t0 := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	times := []time.Time{t0, {}, t0.Add(-time.Hour), time.Date(1601, 1, 1, 0, 0, 0, 0, time.UTC), t0.Add(time.Hour),
		time.Unix(0, 0), time.Unix(0, 1), t0.Add(time.Minute)}
	for i, ts := range times {
		for _, host := range []string{"h", "g", "only-old"} {
			for _, source := range []string{"evtx", "prefetch"} {
				e := Event{TS: ts, Host: host, ArtifactID: a.ID, RecordID: int64(i), Source: source, Summary: "s"}
				if !ts.IsZero() {
					e.TS = ts.Add(time.Duration(len(host)+len(source)) * time.Millisecond)
				}
				if host == "only-old" && UnixNano(e.TS) > 0 {
					continue
				}
				if err := w.AddEvents([]Event{e}); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	got := w.Spans()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	want := EventSpans{Sources: map[HostSource]Span{}, Dated: map[string]Span{}}
	rows, err := db.Query(`SELECT host, source, min(ts), max(ts) FROM events WHERE ts != '' GROUP BY host, source`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var k HostSource
		var s Span
		rows.Scan(&k.Host, &k.Source, &s.First, &s.Last)
		want.Sources[k] = s
	}
	rows, err = db.Query(`SELECT host, min(ts), max(ts) FROM events WHERE ts_ns > 0 GROUP BY host`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var host string
		var s Span
		rows.Scan(&host, &s.First, &s.Last)
		want.Dated[host] = s
	}
	if !reflect.DeepEqual(*got, want) {
		t.Errorf("Spans:\n%v\nwant\n%v", *got, want)
	}
	if _, ok := got.Dated["only-old"]; ok {
		t.Error("a host with no event after 1970 has a dated span")
	}
}
