package main

import (
	"errors"
	"fmt"
	"io"

	"triage/timeline"
)

// caseHint says what to do about a case folder that could not be opened:
// one written by another schema version is rebuilt from its evidence.
func caseHint(stderr io.Writer, err error) {
	if errors.Is(err, timeline.ErrSchemaVersion) {
		fmt.Fprintln(stderr, "triage: hint: the case was written by another version of triage; run triage run --force on its evidence to rebuild it")
		return
	}
	fmt.Fprintln(stderr, "triage: hint: DIR is the --out folder of a triage run")
}
