package timeline

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
	"time"

	"triage/parsers/evtx"
)

// TestReassembleInBatches writes more blocks than one INSERT carries, one
// of them past the text a batch holds and one in parts out of order, and
// wants every block once, in (host, block id) order, whole.
func TestReassembleInBatches(t *testing.T) {
	a := Artifact{Host: "h", Path: "ps.evtx", Kind: "evtx"}
	db, w := newTestWriter(t, &a)
	ts := time.Date(2024, 3, 5, 10, 0, 0, 0, time.UTC)
	var id uint64
	part := func(block string, n, total int, text string) Event {
		id++
		return FromEVTX("h", a.ID, &evtx.Record{ID: id, System: evtx.System{Provider: providerPowerShell, EventID: 4104, TimeCreated: ts},
			Data: []evtx.Field{{Name: "MessageNumber", Value: fmt.Sprint(n)}, {Name: "MessageTotal", Value: fmt.Sprint(total)},
				{Name: "ScriptBlockText", Value: text}, {Name: "ScriptBlockId", Value: block}}})
	}
	const blocks = 3*scriptsPerInsert + 5
	want := map[string]string{}
	var events []Event
	for i := blocks - 1; i >= 0; i-- {
		block := fmt.Sprintf("{%04d}", i)
		text, total := fmt.Sprintf("Write-Output %d", i), 1
		switch i {
		case 70:
			text = strings.Repeat("x", maxPendingText+1)
		case 130:
			events = append(events, part(block, 2, 2, " second"))
			text, total = "first", 2
			want[block] = "first second"
		}
		events = append(events, part(block, 1, total, text))
		if want[block] == "" {
			want[block] = text
		}
	}
	if err := w.AddEvents(events); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	rows, err := db.Query(`SELECT id, script_block_id, text, sha256, parts_found FROM scripts ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var rowID int64
		var block, text, sum string
		var found int
		if err := rows.Scan(&rowID, &block, &text, &sum, &found); err != nil {
			t.Fatal(err)
		}
		if wantBlock := fmt.Sprintf("{%04d}", n); block != wantBlock || rowID != int64(n+1) {
			t.Fatalf("row %d: id %d block %s, want id %d block %s", n, rowID, block, n+1, wantBlock)
		}
		if text != want[block] {
			t.Errorf("block %s: text %.40q (%d bytes), want %.40q", block, text, len(text), want[block])
		}
		if s := sha256.Sum256([]byte(text)); sum != hex.EncodeToString(s[:]) {
			t.Errorf("block %s: sha256 %s is not its text's", block, sum)
		}
		n++
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if n != blocks {
		t.Errorf("%d scripts, want %d", n, blocks)
	}
}
