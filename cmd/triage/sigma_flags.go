package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"

	yaml "go.yaml.in/yaml/v3"

	"triage/analyzers"
	"triage/analyzers/sigma"
	"triage/internal/gctune"
)

// sigmaFlags are the Sigma options run and hunt share.
type sigmaFlags struct {
	paths        listFlag
	minLevel     string
	statuses     string
	exclude      listFlag
	placeholders string

	// loaded is where the load started by load puts the rules and their
	// record for the manifest, once done is closed; a pointer, so that
	// copies of the flags see them.
	loaded           *loadedSigma
	done             chan struct{}
	placeholdersHash string
	restoreGC        func()
}

// listFlag is a repeatable string flag; a comma also separates values.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error {
	*l = append(*l, v)
	return nil
}

func (s *sigmaFlags) register(fs *flag.FlagSet) {
	fs.Var(&s.paths, "sigma", "Sigma rule file or folder (read recursively, .yml/.yaml); repeatable")
	fs.StringVar(&s.minLevel, "sigma-min-level", "informational", "lowest Sigma rule level to run: informational, low, medium, high, critical")
	fs.StringVar(&s.statuses, "sigma-status", "stable,test,experimental", "Sigma rule statuses to run, comma-separated (also deprecated, unsupported)")
	fs.Var(&s.exclude, "sigma-exclude", "Sigma rule id or tag to leave out (e.g. attack.t1059.001); repeatable, or comma-separated")
	fs.StringVar(&s.placeholders, "sigma-placeholders", "", "YAML file of placeholder name → values for the expand modifier")
}

// load reads the rules; only flag values that cannot work are errors, a
// rule that cannot load is listed, never fatal.
func (s *sigmaFlags) load() error {
	if len(s.paths) == 0 {
		if s.placeholders != "" || len(s.exclude) > 0 {
			return fmt.Errorf("--sigma-placeholders and --sigma-exclude need --sigma")
		}
		return nil
	}
	if !sigma.ValidLevel(s.minLevel) {
		return fmt.Errorf("--sigma-min-level %q: want one of %s", s.minLevel, strings.Join(sigma.Levels, ", "))
	}
	sel := sigma.Selection{MinLevel: s.minLevel}
	for _, st := range strings.Split(s.statuses, ",") {
		switch st = strings.TrimSpace(st); st {
		case "stable", "test", "experimental", "deprecated", "unsupported":
			sel.Statuses = append(sel.Statuses, st)
		default:
			return fmt.Errorf("--sigma-status %q: want stable, test, experimental, deprecated or unsupported", st)
		}
	}
	sel.Statuses = append(sel.Statuses, "") // a rule without a status is taken as it comes
	for _, x := range s.exclude {
		for _, v := range strings.Split(x, ",") {
			if v = strings.TrimSpace(v); v != "" {
				sel.Exclude = append(sel.Exclude, v)
			}
		}
	}
	for _, p := range s.paths {
		if _, err := os.Stat(p); err != nil {
			return fmt.Errorf("--sigma %s: %v", p, err)
		}
	}
	opts := sigma.LoadOptions{}
	if s.placeholders != "" {
		var err error
		if opts.Placeholders, s.placeholdersHash, err = readPlaceholders(s.placeholders); err != nil {
			return fmt.Errorf("--sigma-placeholders %s: %v", s.placeholders, err)
		}
	}
	// The rules stay live to the end of the command, some 50 MB that
	// every collection would mark again: on the KAPE host the one the
	// Sigma pass's end set off cost 36 ms of CPU on the way to the report.
	// Collections are traded until release, under the same budget.
	s.restoreGC = gctune.Trade(gctune.Budget)
	// The rules load while the evidence is ingested: the analyzers need
	// them only after.
	s.done = make(chan struct{})
	loaded := &loadedSigma{}
	s.loaded = loaded
	go func() {
		defer close(s.done)
		loaded.rules = analyzers.NewSigmaRules(s.paths, sigma.Load(s.paths, opts), sel)
		// The record is most of a manifest's bytes: marshaled here, it is
		// not on the way from the findings to the finished run.
		loaded.manifest = s.newManifest(loaded.rules)
		loaded.manifestJSON = loaded.manifest.indentedJSON()
	}()
	return nil
}

type loadedSigma struct {
	rules        *analyzers.SigmaRules
	manifest     *manifestSigma
	manifestJSON json.RawMessage // manifest, as ingest.Manifest.Sigma holds it
}

// release ends what load started for the command's lifetime, once the
// command is over.
func (s *sigmaFlags) release() {
	if s.restoreGC != nil {
		s.restoreGC()
	}
}

// ruleSet waits for the rules load started; nil without --sigma.
func (s *sigmaFlags) ruleSet() *analyzers.SigmaRules {
	if s.done == nil {
		return nil
	}
	<-s.done
	return s.loaded.rules
}

// readPlaceholders reads name: [values] (or name: value) from YAML.
func readPlaceholders(path string) (map[string][]string, string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, "", err
	}
	sum := sha256.Sum256(b)
	var raw map[string]any
	if err := yaml.Unmarshal(b, &raw); err != nil {
		return nil, "", err
	}
	out := map[string][]string{}
	for k, v := range raw {
		switch v := v.(type) {
		case []any:
			for _, x := range v {
				out[k] = append(out[k], fmt.Sprint(x))
			}
		case nil:
			return nil, "", fmt.Errorf("%s has no values", k)
		default:
			out[k] = []string{fmt.Sprint(v)}
		}
	}
	return out, hex.EncodeToString(sum[:]), nil
}

// manifestSigma is the manifest's record of the Sigma rules run.
type manifestSigma struct {
	CommandLine        []string                    `json:"command_line,omitempty"` // of a hunt; a run's is the manifest's
	Paths              []string                    `json:"paths"`
	RuleSetSHA256      string                      `json:"ruleset_sha256"`
	PlaceholdersFile   string                      `json:"placeholders_file,omitempty"`
	PlaceholdersSHA256 string                      `json:"placeholders_sha256,omitempty"`
	Files              int                         `json:"files"`
	Loaded             int                         `json:"loaded"`
	NotLoaded          int                         `json:"not_loaded"`
	NotLoadedByReason  map[string]int              `json:"not_loaded_by_reason"`
	Rules              []analyzers.SigmaRuleRecord `json:"rules"`
}

// manifest waits for the rules load started and returns its record; nil
// without --sigma.
func (s *sigmaFlags) manifest() *manifestSigma {
	if s.ruleSet() == nil {
		return nil
	}
	return s.loaded.manifest
}

// manifestJSON is manifest as the run's manifest.json holds it.
func (s *sigmaFlags) manifestJSON() json.RawMessage {
	if s.ruleSet() == nil {
		return nil
	}
	return s.loaded.manifestJSON
}

func (s *sigmaFlags) newManifest(rules *analyzers.SigmaRules) *manifestSigma {
	m := &manifestSigma{Paths: s.paths, RuleSetSHA256: rules.SetSHA256(), PlaceholdersFile: s.placeholders,
		PlaceholdersSHA256: s.placeholdersHash, Files: len(rules.Collection.Files), NotLoadedByReason: map[string]int{},
		Rules: rules.Records()}
	for _, r := range m.Rules {
		if r.State == analyzers.SigmaLoaded {
			m.Loaded++
		} else {
			m.NotLoaded++
			m.NotLoadedByReason[r.Reason]++
		}
	}
	return m
}

// summary is the line run and hunt print and log.
func (m *manifestSigma) summary() string {
	return fmt.Sprintf("sigma: %d rules loaded from %d files, %d not loaded, rule set sha256 %s", m.Loaded, m.Files, m.NotLoaded, m.RuleSetSHA256)
}
