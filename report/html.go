package report

import (
	_ "embed"
	"html/template"
	"io"
	"regexp"
	"strings"
	"sync"
)

//go:embed report.html.tmpl
var reportTemplate string

//go:embed sigma.html.tmpl
var sigmaTemplate string

//go:embed case.html.tmpl
var caseTemplate string

// tmpl is parsed on first use: parsed at init, it cost every triage
// process a quarter of a millisecond, the dump commands included.
var tmpl = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("report").Funcs(template.FuncMap{
		"join":        strings.Join,
		"short":       func(s string) string { return shortHash(s) },
		"lines":       func(s string) int { return strings.Count(s, "\n") + 1 },
		"hash":        compactHash,
		"hashDigits":  func() int { return compactHashDigits },
		"path":        breakablePath,
		"timeBreak":   timeBreak,
		"fleetRows":   func() int { return fleetRowsShown },
		"fleetLimit":  func() int { return maxFleetValues },
		"scriptFiles": func() int { return maxScriptFiles },
	}).Parse(reportTemplate + strings.TrimSpace(sigmaTemplate) + strings.TrimSpace(caseTemplate)))
})

func shortHash(s string) string {
	if len(s) > 16 {
		return s[:16] + "…"
	}
	return s
}

// writeHTML renders the report. html/template escapes every value taken
// from the evidence; the only unescaped markup is the charts' SVG, which is
// built from numbers and fixed labels.
func writeHTML(w io.Writer, d *data) error {
	return tmpl().Execute(w, d)
}

// attackView is the T1059 sub-techniques the report always lists, found
// or not, so a reader sees what was looked for; names come from the
// timeline's technique table.
var attackView = []string{"T1059", "T1059.001", "T1059.003", "T1059.004", "T1059.005", "T1059.006", "T1059.007", "T1059.010", "T1059.011"}

// compactHashDigits is how many hex digits of a SHA-256 a table cell shows:
// 48 bits, enough to tell the artifacts of a case apart at a glance. The
// full value is the cell's tooltip, the target of its link (the artifact's
// row in the evidence manifest), and in the CSV files.
const compactHashDigits = 12

var hexSHA256 = regexp.MustCompile(`^[0-9a-f]{64}$`)

// compactHash renders a SHA-256 as its first digits, linked to the
// manifest's row for it, with the full value as its title. A value that is
// not a hex SHA-256 is shown whole, escaped.
func compactHash(sum string) template.HTML {
	if !hexSHA256.MatchString(sum) {
		return template.HTML(`<span class="mono">` + template.HTMLEscapeString(sum) + `</span>`)
	}
	return template.HTML(`<a class="hash mono" href="#sha256-` + sum + `" title="SHA-256 ` + sum + `">` +
		sum[:compactHashDigits] + `…</a>`) // sum is 64 hex digits, checked above
}

// breakablePath escapes p and lets a line break after each separator, so
// that a path wraps at its folders rather than anywhere in a name.
func breakablePath(p string) template.HTML {
	var b strings.Builder
	for {
		i := strings.IndexAny(p, `/\`)
		if i < 0 {
			b.WriteString(template.HTMLEscapeString(p))
			return template.HTML(b.String())
		}
		b.WriteString(template.HTMLEscapeString(p[:i+1]))
		b.WriteString("<wbr>")
		p = p[i+1:]
	}
}

// timeBreak lets a line break between a time's date and its time of day.
func timeBreak(ts string) template.HTML {
	date, clock, ok := strings.Cut(ts, "T")
	if !ok {
		return template.HTML(template.HTMLEscapeString(ts))
	}
	return template.HTML(template.HTMLEscapeString(date) + "T<wbr>" + template.HTMLEscapeString(clock))
}
