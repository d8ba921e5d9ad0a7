package report

import (
	"database/sql"
	"fmt"
	"html/template"
	"strings"
	"time"

	"triage/timeline"
)

// chart is a bar chart of interpreter runs per day (per hour for short
// spans), drawn as inline SVG.
type chart struct {
	SVG   template.HTML
	Total int
}

// axisCharWidth is the advance of a digit at the axis's 11px, about the
// same in DejaVu Sans and Arial; labels are spaced by it so none overlap.
const axisCharWidth = 7.0

// writeTimeAxis labels the buckets of a bar chart under the bars they name:
// each label is centred on its bar, with a tick, and labels are spread so
// that they never overlap: the first bar always named, the last where its
// label fits. Hourly buckets show the hour, with the date under the first
// label of each day.
func writeTimeAxis(b *strings.Builder, first time.Time, step time.Duration, buckets int, left, bw, h, w float64) {
	hourly := step < 24*time.Hour
	label := func(t time.Time) string {
		if hourly {
			return t.Format("15:04")
		}
		return t.Format("2006-01-02")
	}
	labelW := float64(len(label(first)))*axisCharWidth + 10
	stride := int(labelW/bw) + 1
	if hourly {
		// Hours on the quarter of the day where they fit, so the labels read as a clock.
		for _, s := range []int{1, 2, 3, 6, 12, 24} {
			if float64(s)*bw >= labelW {
				stride = s
				break
			}
		}
	}
	named := func(i int) bool {
		switch {
		case i == 0:
			return true
		case hourly:
			return first.Add(time.Duration(i)*step).Hour()%stride == 0
		}
		return i%stride == 0
	}
	lastX := -1e9
	var dateShown string
	for i := 0; i < buckets; i++ {
		cx := left + (float64(i)+0.5)*bw
		isLast := i == buckets-1
		if !named(i) && !isLast {
			continue
		}
		t := first.Add(time.Duration(i) * step)
		// Centred under its bar, or, near a side of the chart, starting or
		// ending at the bar's edge so that it stays inside.
		anchor, x, start := "middle", cx, cx-labelW/2
		switch {
		case cx-labelW/2 < 0:
			anchor, x = "start", maxf(cx-bw/2, 0)
			start = x
		case cx+labelW/2 > w:
			anchor, x = "end", minf(cx+bw/2, w)
			start = x - labelW
		}
		// A label that would run into the one before is left out.
		if start < lastX {
			continue
		}
		fmt.Fprintf(b, `<line x1="%.2f" y1="%.0f" x2="%.2f" y2="%.0f" stroke="#888"/>`, cx, h, cx, h+4)
		fmt.Fprintf(b, `<text x="%.2f" y="%.0f" font-size="11" text-anchor="%s">%s</text>`, x, h+17, anchor, label(t))
		if d := t.Format("2006-01-02"); hourly && d != dateShown {
			fmt.Fprintf(b, `<text x="%.2f" y="%.0f" font-size="11" text-anchor="%s" fill="#5f6368">%s</text>`, x, h+31, anchor, d)
			dateShown = d
		}
		lastX = start + labelW
	}
}

// heatmap is interpreter runs by weekday and hour in the report's zone.
type heatmap struct {
	SVG   template.HTML
	Total int
}

// interpreterRuns selects process starts and prefetch runs of interpreters.
// The event ids are stated apart from their providers so that the lookup
// is on events_event_id's (source, event_id), not on every log record.
// LIKE folds ASCII case itself, as lower() does (the analyzers'
// TestLikeFoldsAsLowerDoes); IN compares exactly, so lower() stays there.
const interpreterRuns = `SELECT ts, host, process, source, channel, event_id FROM events WHERE ts_ns > 0 AND (
	(source='evtx' AND event_id IN (4688, 1) AND ((provider='Microsoft-Windows-Security-Auditing' AND event_id=4688) OR (provider='Microsoft-Windows-Sysmon' AND event_id=1)))
	OR source='prefetch') AND (process LIKE '%\powershell.exe' OR process LIKE '%\pwsh.exe' OR process LIKE '%\cmd.exe'
	OR process LIKE '%\wscript.exe' OR process LIKE '%\cscript.exe' OR process LIKE '%\mshta.exe'
	OR lower(process) IN ('powershell.exe','cmd.exe','wscript.exe','cscript.exe','mshta.exe','pwsh.exe'))
`

func loadCharts(db *sql.DB, d *data) error {
	q, args := d.scoped(interpreterRuns)
	rows, err := db.Query(q+` ORDER BY ts_ns, id`, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	var runs runBins
	// The case's page counts every host's runs too, for the host pages,
	// which then need no query of their own (a third of their time on the
	// 30-host case). Its StartSet, keyed by host, gives each host's runs
	// as the host's own page would count them.
	var byHost map[string]*runBins
	if d.host == "" {
		byHost = map[string]*runBins{}
	}
	starts := timeline.StartSet{InTimeOrder: true}
	for rows.Next() {
		var ts, host, process, source, channel string
		var eventID int
		if err := rows.Scan(&ts, &host, &process, &source, &channel, &eventID); err != nil {
			return err
		}
		t, err := timeline.ParseTime(ts)
		if err != nil {
			continue
		}
		if starts.Add(host, process, timeline.RecordKind(source, channel, eventID), t) {
			local := t.In(d.loc)
			runs.add(local)
			if byHost != nil {
				b := byHost[host]
				if b == nil {
					if len(byHost) == maxHostCharts {
						byHost = nil // each host page reads its own
						continue
					}
					b = &runBins{}
					byHost[strings.Clone(host)] = b
				}
				b.add(local)
			}
		}
	}
	d.Activity = runs.activity()
	d.Heatmap = runs.heatmap()
	d.hostRuns = byHost
	return rows.Err()
}

// maxHostCharts bounds the hosts whose runs the case's page counts for
// their pages: some 8 KiB each.
const maxHostCharts = 1024

// hostCharts sets a host page's charts from the runs the case's page
// counted, when it did.
func hostCharts(runs map[string]*runBins) func(*sql.DB, *data) error {
	return func(db *sql.DB, d *data) error {
		if runs == nil {
			return loadCharts(db, d)
		}
		b := runs[d.host]
		if b == nil {
			b = &runBins{}
		}
		d.Activity, d.Heatmap = b.activity(), b.heatmap()
		return nil
	}
}

// maxActivityDays bounds the runs chart's bars: beyond it they would be
// under a pixel wide; the axis says where the chart starts.
const maxActivityDays = 730

// runBins counts runs, given in time order, into what the charts draw:
// the first 48 hours from the first run by the hour, the first
// maxActivityDays days by the day, and the weeks by weekday and hour. Its
// size is fixed, whatever the number of runs.
type runBins struct {
	n           int
	first, last time.Time
	hours       [49]int // from first, truncated to the hour
	days        [maxActivityDays]int
	week        [7][24]int // Monday first
}

func (b *runBins) add(t time.Time) {
	if b.n == 0 {
		b.first = t
	}
	b.n++
	b.last = t
	if i := int(t.Sub(b.first.Truncate(time.Hour)) / time.Hour); i >= 0 && i < len(b.hours) {
		b.hours[i]++
	}
	if i := int(t.Sub(day(b.first)) / (24 * time.Hour)); i >= 0 && i < len(b.days) {
		b.days[i]++
	}
	b.week[(int(t.Weekday())+6)%7][t.Hour()]++
}

// activity is the chart of runs per hour, within two days, else per day.
func (r *runBins) activity() chart {
	c := chart{Total: r.n}
	if r.n == 0 {
		return c
	}
	step, label := 24*time.Hour, "2006-01-02"
	first, bins := day(r.first), r.days[:]
	if r.last.Sub(r.first) <= 48*time.Hour {
		step, label = time.Hour, "2006-01-02 15:00"
		first, bins = r.first.Truncate(time.Hour), r.hours[:]
	}
	days := min(int(r.last.Sub(first)/step)+1, len(bins))
	counts := bins[:days]
	max := 1
	for _, n := range counts {
		if n > max {
			max = n
		}
	}
	const w, h, left, bottom = 900.0, 180.0, 40.0, 44.0
	bw := (w - left) / float64(days)
	// A run spanning one or two buckets would otherwise draw a solid block
	// across the page and read as heavy activity.
	bw = minf(bw, 60)
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %.0f %.0f" role="img" aria-label="Interpreter runs per day">`, w, h+bottom)
	fmt.Fprintf(&b, `<line x1="%.0f" y1="%.0f" x2="%.0f" y2="%.0f" stroke="#888"/>`, left, h, w, h)
	fmt.Fprintf(&b, `<text x="%.0f" y="12" font-size="11" text-anchor="end">%d</text>`, left-4, max)
	for i, n := range counts {
		if n == 0 {
			continue
		}
		bh := float64(n) / float64(max) * (h - 16)
		fmt.Fprintf(&b, `<rect x="%.2f" y="%.2f" width="%.2f" height="%.2f" fill="#3465a4"><title>%s: %d</title></rect>`,
			left+float64(i)*bw, h-bh, maxf(bw-1, 1), bh, first.Add(time.Duration(i)*step).Format(label), n)
	}
	writeTimeAxis(&b, first, step, days, left, bw, h, w)
	b.WriteString(`</svg>`)
	c.SVG = template.HTML(b.String()) // built only from numbers and dates above
	return c
}

// heatmap is the runs by weekday and hour.
func (r *runBins) heatmap() heatmap {
	grid := &r.week
	max := 0
	for _, row := range grid {
		for _, n := range row {
			if n > max {
				max = n
			}
		}
	}
	hm := heatmap{Total: r.n}
	const cell, left, top = 30.0, 40.0, 18.0
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %.0f %.0f" role="img" aria-label="Interpreter runs by weekday and hour">`, left+24*cell, top+7*cell+4)
	for h := 0; h < 24; h += 2 {
		fmt.Fprintf(&b, `<text x="%.0f" y="12" font-size="10" text-anchor="middle">%02d</text>`, left+float64(h)*cell+cell/2, h)
	}
	for wd, name := range []string{"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"} {
		fmt.Fprintf(&b, `<text x="%.0f" y="%.0f" font-size="10" text-anchor="end">%s</text>`, left-4, top+float64(wd)*cell+cell/2+4, name)
		for h := 0; h < 24; h++ {
			n := grid[wd][h]
			fill := "#f2f2f2"
			if n > 0 {
				// Lighter to darker blue as runs increase.
				level := 0.25 + 0.75*float64(n)/float64(max)
				fill = fmt.Sprintf("rgba(32,74,135,%.2f)", level)
			}
			fmt.Fprintf(&b, `<rect x="%.0f" y="%.0f" width="%.0f" height="%.0f" fill="%s" stroke="#fff"><title>%s %02d:00: %d</title></rect>`,
				left+float64(h)*cell, top+float64(wd)*cell, cell, cell, fill, name, h, n)
		}
	}
	b.WriteString(`</svg>`)
	hm.SVG = template.HTML(b.String()) // built only from numbers and fixed labels above
	return hm
}

func day(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, t.Location())
}

func maxf(a, b float64) float64 {
	if a > b {
		return a
	}
	return b
}

func minf(a, b float64) float64 {
	if a < b {
		return a
	}
	return b
}
