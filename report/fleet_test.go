package report

import (
	"database/sql"
	"fmt"
	"strings"
	"testing"
	"time"

	"triage/timeline"
)

func TestNormalizeCommandLine(t *testing.T) {
	for in, want := range map[string]string{
		`C:\Windows\System32\cmd.exe /c echo 1 > C:\Users\alice\AppData\Local\Temp\tmp4F2A.tmp`:    `cmd.exe /c echo <n> > c:\users\<user>\appdata\local\temp\<tmp>`,
		`"C:\Windows\SysWOW64\WindowsPowerShell\v1.0\powershell.exe"  -nop   -w hidden -c "iex 2"`: `powershell.exe -nop -w hidden -c "iex <n>"`,
		`wscript.exe //B {3F2504E0-4F89-11D3-9A0C-0305E82C3301}.vbs 0x1F`:                          `wscript.exe //b <guid>.vbs <hex>`,
		`CMD /C del C:\Users\Bob\x.txt`:        `cmd /c del c:\users\<user>\x.txt`,
		`powershell -enc 0123456789abcdef0123`: `powershell -enc <hex>`,
		`"unterminated`:                        `"unterminated`,
	} {
		if got := normalizeCommandLine(in); got != want {
			t.Errorf("normalizeCommandLine(%q)\n got %q\nwant %q", in, got, want)
		}
	}
}

// fleetTimeline is a case of n hosts that all run the same commands, and
// one host, odd, that also runs its own with a parent none of the others has.
func fleetDB(t *testing.T, n int) *sql.DB {
	t.Helper()
	db, w := newWriter(t)
	base := time.Date(2024, 1, 1, 9, 0, 0, 0, time.UTC)
	for h := 0; h < n; h++ {
		host := fmt.Sprintf("WS%02d", h)
		a := &timeline.Artifact{Host: host, EvidenceRoot: "r", Path: "Security.evtx", Kind: "evtx", SHA256: strings.Repeat("ab", 32), MD5: "cd", Status: "ok"}
		w.AddArtifact(a)
		add := func(i int, parent, process, cmd string) {
			e := timeline.Event{TS: base.Add(time.Duration(i) * time.Minute), Host: host, ArtifactID: a.ID, RecordID: int64(i),
				Source: "evtx", EventID: 4688, Provider: "Microsoft-Windows-Security-Auditing", Summary: "s",
				Process: process, ParentProcess: parent, CommandLine: cmd}
			if err := w.AddEvent(&e); err != nil {
				t.Fatal(err)
			}
		}
		// The same command, with the host's own numbers and user, everywhere.
		add(1, `C:\Windows\explorer.exe`, `C:\Windows\System32\cmd.exe`,
			fmt.Sprintf(`C:\Windows\System32\cmd.exe /c echo %d > C:\Users\user%d\out.txt`, h, h))
		if h == n-1 {
			add(2, `C:\Program Files\Microsoft Office\WINWORD.EXE`, `C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe`,
				`powershell.exe -nop -w hidden -enc SQBFAFgA`)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return db
}

func TestFleetViewPutsTheOddHostFirst(t *testing.T) {
	const n = 50
	d := &data{}
	db := fleetDB(t, n)
	if err := loadArtifacts(db, d); err != nil {
		t.Fatal(err)
	}
	if err := loadFleet(db, d); err != nil {
		t.Fatal(err)
	}
	if d.Fleet.Hosts != n || len(d.Fleet.Tables) != 3 {
		t.Fatalf("fleet: %d hosts, %d tables", d.Fleet.Hosts, len(d.Fleet.Tables))
	}
	cmds, pairs := d.Fleet.Tables[0], d.Fleet.Tables[1]
	if len(cmds.Rows) != 2 || cmds.Rows[0].Value != "powershell.exe -nop -w hidden -enc sqbfafga" || cmds.Rows[0].Hosts != 1 ||
		strings.Join(cmds.Rows[0].Seen, ",") != "WS49" {
		t.Errorf("command lines: %+v", cmds.Rows)
	}
	if cmds.Rows[1].Hosts != n || cmds.Rows[1].Value != `cmd.exe /c echo <n> > c:\users\<user>\out.txt` || cmds.Rows[1].Seen != nil {
		t.Errorf("the command every host ran: %+v", cmds.Rows[1])
	}
	if pairs.Rows[0].Value != "winword.exe → powershell.exe" || pairs.Rows[0].Hosts != 1 {
		t.Errorf("pairs: %+v", pairs.Rows)
	}
}

func TestFleetTablesAreBounded(t *testing.T) {
	s := newStack()
	for i := 0; i < maxFleetValues+10; i++ {
		s.add(fmt.Sprintf("h%d", i%3), fmt.Sprint(i), "")
	}
	tb := s.table("t", "c", 3)
	if len(tb.Rows) != fleetRowsShown || tb.More != maxFleetValues-fleetRowsShown || tb.Uncompared != 10 {
		t.Errorf("%d rows, %d more, %d uncompared", len(tb.Rows), tb.More, tb.Uncompared)
	}
}

func TestCompletenessSummarizesCleanArtifactsOfLargeCases(t *testing.T) {
	var all []artifact
	for i := 0; i < completenessRowsListed+100; i++ {
		a := artifact{Host: fmt.Sprintf("WS%02d", i%3), Kind: "evtx", Status: "ok", Flags: "dirty", Records: 2}
		switch i {
		case 7:
			a.Status = "damaged"
		case 8:
			a.Missing = 3
		case 9:
			a.Flags = "dirty, no_crc"
		}
		all = append(all, a)
	}
	c := summarizeCompleteness(all)
	if len(c.Rows) != 3 || c.Omitted != len(all)-3 || len(c.Clean) != 3 {
		t.Fatalf("%d rows, %d omitted, %d totals", len(c.Rows), c.Omitted, len(c.Clean))
	}
	sum := 0
	for _, k := range c.Clean {
		sum += k.Artifacts
	}
	if sum != c.Omitted {
		t.Errorf("totals count %d artifacts, %d omitted", sum, c.Omitted)
	}
	if small := summarizeCompleteness(all[:10]); len(small.Rows) != 10 || small.Clean != nil {
		t.Errorf("a small case is listed whole: %+v", small)
	}
}
