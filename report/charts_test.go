package report

import (
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestActivityAxisLabelsUnderBars checks that every axis label of the runs
// chart is centred under a bar's slot (or starts or ends at the slot's edge
// near the chart's sides), that the labels do not overlap, and that the
// first and last bars are named.
func TestActivityAxisLabelsUnderBars(t *testing.T) {
	base := time.Date(2022, 3, 10, 19, 5, 0, 0, time.UTC)
	for _, tc := range []struct {
		name  string
		times []time.Time
	}{
		{"three hours", []time.Time{base, base.Add(time.Hour), base.Add(2 * time.Hour)}},
		{"two days by the hour", []time.Time{base, base.Add(47 * time.Hour)}},
		{"a month by the day", []time.Time{base, base.Add(10 * 24 * time.Hour), base.Add(30 * 24 * time.Hour)}},
		{"two years", []time.Time{base, base.Add(700 * 24 * time.Hour)}},
	} {
		var runs runBins
		for _, t := range tc.times {
			runs.add(t)
		}
		svg := string(runs.activity().SVG)
		ticks := regexp.MustCompile(`<line x1="([0-9.]+)" y1="180" x2="[0-9.]+" y2="184"`).FindAllStringSubmatch(svg, -1)
		labels := regexp.MustCompile(`<text x="([0-9.]+)" y="197" font-size="11" text-anchor="(\w+)">([^<]+)</text>`).FindAllStringSubmatch(svg, -1)
		if len(labels) < 2 || len(ticks) != len(labels) {
			t.Fatalf("%s: %d labels, %d ticks:\n%s", tc.name, len(labels), len(ticks), svg)
		}
		prevEnd := -1.0
		for i, l := range labels {
			x, _ := strconv.ParseFloat(l[1], 64)
			cx, _ := strconv.ParseFloat(ticks[i][1], 64)
			w := float64(len(l[3]))*axisCharWidth + 10
			start := map[string]float64{"middle": x - w/2, "start": x, "end": x - w}[l[2]]
			if l[2] == "middle" && x != cx {
				t.Errorf("%s: label %q at %.2f, its bar's centre at %.2f", tc.name, l[3], x, cx)
			}
			if start < prevEnd {
				t.Errorf("%s: label %q overlaps the one before", tc.name, l[3])
			}
			prevEnd = start + w
		}
		first := tc.times[0].Format("15:04")
		if !strings.Contains(tc.name, "hour") {
			first = tc.times[0].Format("2006-01-02")
		}
		if labels[0][3] != first && labels[0][3] != "19:00" {
			t.Errorf("%s: first label %q", tc.name, labels[0][3])
		}
	}
}

func TestCompactHashLinksToTheManifest(t *testing.T) {
	sum := strings.Repeat("0123456789abcdef", 4)
	got := string(compactHash(sum))
	if !strings.Contains(got, `href="#sha256-`+sum+`"`) || !strings.Contains(got, `title="SHA-256 `+sum+`"`) ||
		!strings.Contains(got, ">0123456789ab…<") {
		t.Errorf("compactHash: %s", got)
	}
	if got := string(compactHash(`<b>"x"`)); strings.Contains(got, "<b>") || strings.Contains(got, "href") {
		t.Errorf("compactHash of a value that is not a hash: %s", got)
	}
	if got := string(breakablePath(`C/a<b>/c\d`)); got != `C/<wbr>a&lt;b&gt;/<wbr>c\<wbr>d` {
		t.Errorf("breakablePath: %s", got)
	}
}

// TestEveryCompactHashHasItsFullValue renders the hostile timeline and
// checks that each compact hash links to a manifest row holding the full
// value, so that the report keeps every hash in full.
func TestEveryCompactHashHasItsFullValue(t *testing.T) {
	html := read(t, filepath.Join(render(t, hostileTimeline(t)), "report.html"))
	links := regexp.MustCompile(`href="#sha256-([0-9a-f]{64})"`).FindAllStringSubmatch(html, -1)
	if len(links) == 0 {
		t.Fatal("no compact hashes in the report")
	}
	for _, l := range links {
		if !strings.Contains(html, `id="sha256-`+l[1]+`"`) {
			t.Errorf("no manifest row for %s", l[1])
		}
	}
}
