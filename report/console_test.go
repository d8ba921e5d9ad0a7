package report

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"triage/timeline"
)

func TestConsoleSummaryFits(t *testing.T) {
	db, err := timeline.Create(filepath.Join(t.TempDir(), "timeline.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for i, f := range []struct{ id, name, sev string }{
		{"T1059", "Command and Scripting Interpreter", "low"},
		{"T1059.001", "Command and Scripting Interpreter: PowerShell", "high"},
		{"T1059.003", "Command and Scripting Interpreter: Windows Command Shell", "critical"},
		{"T1059.007", "Command and Scripting Interpreter: JavaScript\x1b]0;owned\x07", "medium"},
	} {
		if _, err := db.Exec(`INSERT INTO findings (id, analyzer, host, ts, ts_ns, technique_id, technique_name, tactic,
			severity, confidence, title, rule) VALUES (?, 'a', 'h', '', 0, ?, ?, 'Execution', ?, 'low', 't', 'r')`,
			i+1, f.id, f.name, f.sev); err != nil {
			t.Fatal(err)
		}
	}
	for _, cols := range []int{80, 200} {
		var out bytes.Buffer
		if err := consoleSummary(db, &out, cols); err != nil {
			t.Fatal(err)
		}
		if got := TextWidth(out.String()); got > cols {
			t.Errorf("width %d: the table is %d wide:\n%s", cols, got, out.String())
		}
		if strings.Contains(out.String(), "\x1b") || !strings.Contains(out.String(), `\x1b`) {
			t.Errorf("width %d: the escape character is not shown escaped:\n%s", cols, out.String())
		}
		wide := strings.Contains(out.String(), "Command and Scripting Interpreter: Windows Command Shell")
		if wide != (cols == 200) {
			t.Errorf("width %d: full names shown %v:\n%s", cols, wide, out.String())
		}
		t.Logf("width %d:\n%s", cols, out.String())
	}
}

func TestWrapWordsAndWidth(t *testing.T) {
	if got := wrapWords("Command and Scripting Interpreter", 12); got != "Command and\nScripting\nInterpreter" {
		t.Errorf("wrapWords: %q", got)
	}
	if got := wrapWords("a JavaScript\\x1b]0;owned", 8); got != "a\nJavaScri\npt\\x1b]0\n;owned" {
		t.Errorf("wrapWords of a long word: %q", got)
	}
	if TextWidth("ab\n日本") != 4 || TextWidth("e\u0301") != 1 {
		t.Error("TextWidth counts wide or combining characters wrong")
	}
}
