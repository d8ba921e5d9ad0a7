package main

import (
	"encoding/json"
	"slices"
	"strconv"

	"triage/analyzers"
	"triage/timeline"
)

// indentedJSON is m as ingest.MarshalSigma writes it, byte for byte, for
// ingest.Manifest.Sigma. Reflection over the record of some 3,000 rule
// documents cost about twice what appending it costs.
func (m *manifestSigma) indentedJSON() json.RawMessage {
	if m == nil {
		return json.RawMessage("null")
	}
	// Some 830 bytes a rule document on the shared rules: one allocation.
	w := jsonIndenter{b: make([]byte, 0, 1024+900*len(m.Rules))}
	w.open('{')
	if len(m.CommandLine) > 0 {
		w.key("command_line")
		w.strings(m.CommandLine)
	}
	w.key("paths")
	w.strings(m.Paths)
	w.key("ruleset_sha256")
	w.string(m.RuleSetSHA256)
	w.stringOmitEmpty("placeholders_file", m.PlaceholdersFile)
	w.stringOmitEmpty("placeholders_sha256", m.PlaceholdersSHA256)
	w.key("files")
	w.int(m.Files)
	w.key("loaded")
	w.int(m.Loaded)
	w.key("not_loaded")
	w.int(m.NotLoaded)
	w.key("not_loaded_by_reason")
	w.counts(m.NotLoadedByReason)
	w.key("rules")
	if m.Rules == nil {
		w.null()
	} else {
		w.open('[')
		for i := range m.Rules {
			w.next()
			w.rule(&m.Rules[i])
		}
		w.close(']')
	}
	w.close('}')
	return w.b
}

// rule appends r with the fields, names and omissions of its JSON tags.
func (w *jsonIndenter) rule(r *analyzers.SigmaRuleRecord) {
	w.open('{')
	w.key("path")
	w.string(r.Path)
	w.key("doc")
	w.int(r.Doc)
	w.key("kind")
	w.string(r.Kind)
	if r.Line != 0 {
		w.key("line")
		w.int(r.Line)
	}
	w.key("sha256")
	w.string(r.FileSHA256)
	w.key("id")
	w.string(r.ID)
	w.key("title")
	w.string(r.Title)
	w.key("status")
	w.string(r.Status)
	w.stringOmitEmpty("level", r.Level)
	w.stringOmitEmpty("author", r.Author)
	if len(r.References) > 0 {
		w.key("references")
		w.strings(r.References)
	}
	w.key("state")
	w.string(r.State)
	w.stringOmitEmpty("reason", r.Reason)
	w.stringOmitEmpty("detail", r.Detail)
	w.close('}')
}

// jsonIndenter appends JSON laid out as json.MarshalIndent(v, "  ", "  ")
// lays it out, MarshalSigma's layout: each member on a line of its own,
// indented one step deeper than its object or array, which is two spaces
// in already; an empty object or array stays {} or [].
type jsonIndenter struct {
	b     []byte
	depth int
	empty bool // the object or array open has no member yet
}

func (w *jsonIndenter) newline() {
	w.b = append(w.b, '\n')
	for range w.depth + 1 {
		w.b = append(w.b, "  "...)
	}
}

func (w *jsonIndenter) open(bracket byte) {
	w.b = append(w.b, bracket)
	w.depth++
	w.empty = true
}

func (w *jsonIndenter) close(bracket byte) {
	w.depth--
	if !w.empty {
		w.newline()
	}
	w.b = append(w.b, bracket)
	w.empty = false
}

// next starts a member of the object or array open.
func (w *jsonIndenter) next() {
	if !w.empty {
		w.b = append(w.b, ',')
	}
	w.empty = false
	w.newline()
}

func (w *jsonIndenter) key(k string) {
	w.next()
	w.b = timeline.AppendJSONString(w.b, k)
	w.b = append(w.b, ':', ' ')
}

func (w *jsonIndenter) null()           { w.b = append(w.b, "null"...) }
func (w *jsonIndenter) string(s string) { w.b = timeline.AppendJSONString(w.b, s) }
func (w *jsonIndenter) int(n int)       { w.b = strconv.AppendInt(w.b, int64(n), 10) }

func (w *jsonIndenter) stringOmitEmpty(k, s string) {
	if s != "" {
		w.key(k)
		w.string(s)
	}
}

// strings appends list as an array; nil is null.
func (w *jsonIndenter) strings(list []string) {
	if list == nil {
		w.null()
		return
	}
	w.open('[')
	for _, s := range list {
		w.next()
		w.string(s)
	}
	w.close(']')
}

// counts appends m as an object, keys sorted as encoding/json sorts them;
// nil is null.
func (w *jsonIndenter) counts(m map[string]int) {
	if m == nil {
		w.null()
		return
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	w.open('{')
	for _, k := range keys {
		w.key(k)
		w.int(m[k])
	}
	w.close('}')
}
