package main

import (
	"bytes"
	"strings"
	"testing"

	"triage/ingest"
	"triage/report"
	"triage/timeline"
)

func TestSummaryFits(t *testing.T) {
	all := []*ingest.Host{
		{Name: "WIN-C89CFTIHC0I", Artifacts: []timeline.Artifact{
			{Kind: "evtx", Records: 32180, Recovered: 21, Status: "ok"},
			{Kind: "prefetch", Records: 533, Status: "failed", Errors: []string{"bad"}},
		}},
		{Name: "WS02\x1b[31m", Artifacts: []timeline.Artifact{{Kind: "history", Records: 12, Status: "ok"}}},
	}
	spans := map[[2]string][2]string{
		{"WIN-C89CFTIHC0I", "evtx"}:     {"2022-03-10T16:33:50Z", "2022-03-10T21:42:44Z"},
		{"WIN-C89CFTIHC0I", "prefetch"}: {"2022-03-10T16:34:29Z", "2022-03-10T21:40:49Z"},
	}
	for _, tc := range []struct {
		cols  int
		wants []string
	}{
		{200, []string{"FIRST EVENT UTC", "RECOVERED", "32180"}},
		{80, []string{"Host WIN-C89CFTIHC0I", "RECOV", "2022-03-10T21:42:44Z"}},
		{64, []string{"Host WIN-C89CFTIHC0I", "ERRORS", "2022-03-10T21:42:44Z"}},
	} {
		var out bytes.Buffer
		printSummaryWidth(&out, all, spans, tc.cols)
		s := out.String()
		if got := report.TextWidth(s); got > tc.cols {
			t.Errorf("width %d: the summary is %d wide:\n%s", tc.cols, got, s)
		}
		for _, want := range tc.wants {
			if !strings.Contains(s, want) {
				t.Errorf("width %d: no %q in\n%s", tc.cols, want, s)
			}
		}
		if strings.Contains(s, "\x1b") {
			t.Errorf("width %d: an escape character from the evidence reached the terminal:\n%s", tc.cols, s)
		}
		t.Logf("width %d:\n%s", tc.cols, s)
	}
}
