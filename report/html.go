package report

import (
	_ "embed"
	"html/template"
	"io"
	"strings"
	"sync"
)

//go:embed report.html.tmpl
var reportTemplate string

// tmpl is parsed on first use: parsed at init, it cost every triage
// process a quarter of a millisecond, the dump commands included.
var tmpl = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("report").Funcs(template.FuncMap{
		"join":  strings.Join,
		"short": func(s string) string { return shortHash(s) },
		"lines": func(s string) int { return strings.Count(s, "\n") + 1 },
	}).Parse(reportTemplate))
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
