package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"triage/internal/demo"
)

func init() {
	verbs["demo"] = verb{"write a synthetic case's evidence and run the whole pipeline on it: demo [--out DIR]", runDemo}
}

// runDemo writes the demo evidence under DIR/evidence and runs `triage run`
// on it with DIR as the output folder, through the run verb itself, so the
// demo shows exactly what a run on real evidence does.
func runDemo(args []string, stdout, stderr io.Writer) int {
	fs := newVerbFlags("demo", "[--out DIR] [--report-time RFC3339] [--force]",
		"writes a synthetic KAPE collection of one workstation (an intrusion among ordinary activity) under DIR/evidence,",
		"then runs 'triage run --out DIR/case DIR/evidence' on it; the same binary writes the same evidence bytes")
	out := fs.String("out", "triage-demo", "`DIR` for the evidence (DIR/evidence) and the run's output (DIR/case)")
	reportTime := fs.String("report-time", "", "time to state as the run and report times, as `RFC3339`, for byte-identical reruns")
	force := fs.Bool("force", false, "replace a previous demo in --out")
	rest, code, ok := fs.parse(args, stdout, stderr)
	if !ok {
		return code
	}
	if len(rest) != 0 {
		return fs.fail(stderr, &usageError{msg: "demo takes no arguments"})
	}
	evidence := filepath.Join(*out, "evidence")
	rules := filepath.Join(*out, "sigma")
	if _, err := os.Stat(evidence); err == nil {
		if !*force {
			fmt.Fprintf(stderr, "triage: demo: %s already holds a demo\n", *out)
			fmt.Fprintln(stderr, "triage: hint: pass --force to replace it, or --out to write another")
			return exitUsage
		}
		for _, old := range []string{evidence, rules} {
			if err := os.RemoveAll(old); err != nil {
				fmt.Fprintf(stderr, "triage: demo: %v\n", err)
				return exitFail
			}
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		fmt.Fprintf(stderr, "triage: demo: %v\n", err)
		return exitFail
	}
	if err := demo.Write(evidence); err != nil {
		fmt.Fprintf(stderr, "triage: demo: %v\n", err)
		return exitFail
	}
	if err := demo.WriteRules(rules); err != nil {
		fmt.Fprintf(stderr, "triage: demo: %v\n", err)
		return exitFail
	}
	fmt.Fprintf(stdout, "demo evidence written to %s\n", evidence)
	// The run's outputs go beside the evidence, not around it: an --out
	// folder holds a run and nothing else.
	caseDir := filepath.Join(*out, "case")
	runArgs := []string{"--out", caseDir, "--sigma", rules, "--case", "DEMO-2026-0310", "--examiner", "triage demo"}
	if *reportTime != "" {
		runArgs = append(runArgs, "--report-time", *reportTime)
	}
	if *force {
		runArgs = append(runArgs, "--force")
	}
	code = runRun(append(runArgs, evidence), stdout, stderr)
	if code == exitOK {
		fmt.Fprintf(stdout, "report: %s\n", filepath.Join(caseDir, "report.html"))
	}
	return code
}
