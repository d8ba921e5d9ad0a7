package report

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"triage/timeline"
)

// BenchmarkRenderManyFindings renders a timeline with 5,000 findings, each
// with its evidence row, across five techniques.
func BenchmarkRenderManyFindings(b *testing.B) {
	db, err := timeline.Create(filepath.Join(b.TempDir(), "timeline.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	w, _ := timeline.NewWriter(db)
	a := &timeline.Artifact{Host: "h", EvidenceRoot: "r", Path: "Security.evtx", Kind: "evtx", SHA256: "ab", MD5: "cd", Status: "ok"}
	w.AddArtifact(a)
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	const n = 5000
	for i := 0; i < n; i++ {
		w.AddEvent(&timeline.Event{TS: start.Add(time.Duration(i) * time.Minute), Host: "h", ArtifactID: a.ID, RecordID: int64(i),
			Source: "evtx", EventID: 4688, Provider: "Microsoft-Windows-Security-Auditing", Process: `C:\Windows\System32\cmd.exe`,
			CommandLine: fmt.Sprintf("cmd /c echo %d", i), Summary: "cmd.exe started"})
	}
	w.FinishArtifact(a)
	w.Close()
	tx, _ := db.Begin()
	for i := 0; i < n; i++ {
		ts := start.Add(time.Duration(i) * time.Minute)
		res, _ := tx.Exec(`INSERT INTO findings (analyzer, host, ts, ts_ns, technique_id, technique_name, tactic, severity, confidence,
			title, rule, matched) VALUES ('a', 'h', ?, ?, ?, 'name', 'Execution', 'medium', 'high', 'title', 'rule', 'cmd /c echo')`,
			timeline.FormatTime(ts), ts.UnixNano(), fmt.Sprintf("T1059.00%d", i%5))
		id, _ := res.LastInsertId()
		tx.Exec(`INSERT INTO finding_evidence VALUES (?, ?, 'Security.evtx', ?, 'ab')`, id, i+1, i)
	}
	tx.Commit()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := Render(db, Options{OutDir: b.TempDir(), ReportTime: start}); err != nil {
			b.Fatal(err)
		}
	}
}
