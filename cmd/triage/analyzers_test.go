package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"triage/internal/testcorpus"
)

// noInterpreterActivity are the TA0002 recordings that hold no cmd or
// PowerShell activity at all: share access (5145) and a service start
// timeout (7009).
var noInterpreterActivity = map[string]bool{
	"ID5145-Remote schedule task creation (ATexec).evtx":                    true,
	"ID5145-remote service creation over SMB.evtx":                          true,
	"ID5145-service massive remote creation via named pipe - Tchopper.evtx": true,
	"ID7009-Service deployment time out (meterpreter).evtx":                 true,
}

// TestExecutionRecordingsYieldT1059 runs the whole pipeline on every
// Execution recording: each one with PowerShell or cmd activity must give a
// T1059 finding with a reason.
func TestExecutionRecordingsYieldT1059(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(testcorpus.Dir(t), "evtx", "attack", "TA0002-Execution", "*", "*.evtx"))
	if len(files) < 19 {
		t.Fatalf("only %d recordings", len(files))
	}
	for _, f := range files {
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "x")
			if code, _, stderr := runCLI(t, "run", "--out", out, f); code != exitOK {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			db := openDB(t, out)
			n := count(t, db, `SELECT count(*) FROM findings WHERE technique_id LIKE 'T1059.%' AND rule != '' AND title != ''`)
			if noInterpreterActivity[name] {
				if n != 0 {
					t.Errorf("%d T1059 findings on a recording without interpreter activity", n)
				}
				return
			}
			if n == 0 {
				t.Error("no T1059.* finding")
			}
		})
	}
}

// TestAPTSimFindingsGolden checks every finding on the benign-heavy KAPE
// host against analyzers/testdata/aptsim-win10.golden, where each line
// carries a person's one-line justification.
func TestAPTSimFindingsGolden(t *testing.T) {
	out := filepath.Join(t.TempDir(), "x")
	if code, _, stderr := runCLI(t, "run", "--out", out, filepath.Join(testcorpus.Dir(t), "kape", "APTSIM-WIN10")); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	db := openDB(t, out)
	rows, err := db.Query(`SELECT severity || ' | ' || technique_id || ' | ' || title FROM findings ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		var s string
		rows.Scan(&s)
		got = append(got, s)
	}
	rows.Close()
	golden, err := os.ReadFile(filepath.Join("..", "..", "analyzers", "testdata", "aptsim-win10.golden"))
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, line := range strings.Split(strings.TrimSpace(string(golden)), "\n") {
		if strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndex(line, " | ")
		if i < 0 || strings.TrimSpace(line[i+3:]) == "" {
			t.Errorf("golden line without a justification: %q", line)
			continue
		}
		want = append(want, line[:i])
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("findings differ from the golden file; review and justify each change:\ngot:\n%s", strings.Join(got, "\n"))
	}
	if n := count(t, db, `SELECT count(*) FROM findings WHERE severity IN ('high', 'critical')`); n == 0 {
		t.Error("the APT simulator's security-tool tampering and reverse shell gave no high finding")
	}
}
