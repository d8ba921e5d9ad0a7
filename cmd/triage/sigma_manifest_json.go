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
	var w jsonIndenter
	// Some 830 bytes a rule document on the shared rules: one allocation.
	b := w.open(make([]byte, 0, 1024+900*len(m.Rules)), '{')
	if len(m.CommandLine) > 0 {
		b = w.strings(w.key(b, "command_line"), m.CommandLine)
	}
	b = w.strings(w.key(b, "paths"), m.Paths)
	b = timeline.AppendJSONString(w.key(b, "ruleset_sha256"), m.RuleSetSHA256)
	b = w.stringOmitEmpty(b, "placeholders_file", m.PlaceholdersFile)
	b = w.stringOmitEmpty(b, "placeholders_sha256", m.PlaceholdersSHA256)
	b = appendInt(w.key(b, "files"), m.Files)
	b = appendInt(w.key(b, "loaded"), m.Loaded)
	b = appendInt(w.key(b, "not_loaded"), m.NotLoaded)
	b = w.counts(w.key(b, "not_loaded_by_reason"), m.NotLoadedByReason)
	b = w.key(b, "rules")
	if m.Rules == nil {
		b = append(b, "null"...)
	} else {
		b = w.open(b, '[')
		for i := range m.Rules {
			b = w.rule(w.next(b), &m.Rules[i])
		}
		b = w.close(b, ']')
	}
	return w.close(b, '}')
}

// rule appends r with the fields, names and omissions of its JSON tags.
func (w *jsonIndenter) rule(b []byte, r *analyzers.SigmaRuleRecord) []byte {
	b = w.open(b, '{')
	b = timeline.AppendJSONString(w.key(b, "path"), r.Path)
	b = appendInt(w.key(b, "doc"), r.Doc)
	b = timeline.AppendJSONString(w.key(b, "kind"), r.Kind)
	if r.Line != 0 {
		b = appendInt(w.key(b, "line"), r.Line)
	}
	b = timeline.AppendJSONString(w.key(b, "sha256"), r.FileSHA256)
	b = timeline.AppendJSONString(w.key(b, "id"), r.ID)
	b = timeline.AppendJSONString(w.key(b, "title"), r.Title)
	b = timeline.AppendJSONString(w.key(b, "status"), r.Status)
	b = w.stringOmitEmpty(b, "level", r.Level)
	b = w.stringOmitEmpty(b, "author", r.Author)
	if len(r.References) > 0 {
		b = w.strings(w.key(b, "references"), r.References)
	}
	b = timeline.AppendJSONString(w.key(b, "state"), r.State)
	b = w.stringOmitEmpty(b, "reason", r.Reason)
	b = w.stringOmitEmpty(b, "detail", r.Detail)
	return w.close(b, '}')
}

// jsonIndenter lays JSON out as json.MarshalIndent(v, "  ", "  ") lays it
// out, MarshalSigma's layout: each member on a line of its own, indented
// one step deeper than its object or array, which is two spaces in
// already; an empty object or array stays {} or []. The bytes pass in and
// out rather than living in a field: appended through a pointer, every
// append paid a GC write barrier while a collection ran.
type jsonIndenter struct {
	depth int
	empty bool // the object or array open has no member yet
}

const spaces = "                                "

func (w *jsonIndenter) newline(b []byte) []byte {
	b = append(b, '\n')
	for n := 2 * (w.depth + 1); n > 0; {
		k := min(n, len(spaces))
		b = append(b, spaces[:k]...)
		n -= k
	}
	return b
}

func (w *jsonIndenter) open(b []byte, bracket byte) []byte {
	w.depth++
	w.empty = true
	return append(b, bracket)
}

func (w *jsonIndenter) close(b []byte, bracket byte) []byte {
	w.depth--
	if !w.empty {
		b = w.newline(b)
	}
	w.empty = false
	return append(b, bracket)
}

// next starts a member of the object or array open.
func (w *jsonIndenter) next(b []byte) []byte {
	if !w.empty {
		b = append(b, ',')
	}
	w.empty = false
	return w.newline(b)
}

func (w *jsonIndenter) key(b []byte, k string) []byte {
	return append(timeline.AppendJSONString(w.next(b), k), ':', ' ')
}

func (w *jsonIndenter) stringOmitEmpty(b []byte, k, s string) []byte {
	if s == "" {
		return b
	}
	return timeline.AppendJSONString(w.key(b, k), s)
}

// strings appends list as an array; nil is null.
func (w *jsonIndenter) strings(b []byte, list []string) []byte {
	if list == nil {
		return append(b, "null"...)
	}
	b = w.open(b, '[')
	for _, s := range list {
		b = timeline.AppendJSONString(w.next(b), s)
	}
	return w.close(b, ']')
}

// counts appends m as an object, keys sorted as encoding/json sorts them;
// nil is null.
func (w *jsonIndenter) counts(b []byte, m map[string]int) []byte {
	if m == nil {
		return append(b, "null"...)
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b = w.open(b, '{')
	for _, k := range keys {
		b = appendInt(w.key(b, k), m[k])
	}
	return w.close(b, '}')
}

func appendInt(b []byte, n int) []byte { return strconv.AppendInt(b, int64(n), 10) }
