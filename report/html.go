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

//go:embed sigma.html.tmpl
var sigmaTemplate string

// tmpl is parsed on first use: parsed at init, it cost every triage
// process a quarter of a millisecond, the dump commands included.
var tmpl = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("report").Funcs(template.FuncMap{
		"join":  strings.Join,
		"short": func(s string) string { return shortHash(s) },
		"lines": func(s string) int { return strings.Count(s, "\n") + 1 },
	}).Parse(reportTemplate + strings.TrimSpace(sigmaTemplate)))
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
// or not, so a reader sees what was looked for.
var attackView = []struct{ ID, Name string }{
	{"T1059", "Command and Scripting Interpreter"},
	{"T1059.001", "PowerShell"},
	{"T1059.003", "Windows Command Shell"},
	{"T1059.005", "Visual Basic"},
	{"T1059.007", "JavaScript"},
}

// relatedNames names the techniques the analyzers tag inside scripts.
var relatedNames = map[string]string{
	"T1027": "Obfuscated Files or Information", "T1105": "Ingress Tool Transfer",
	"T1070.001": "Clear Windows Event Logs", "T1490": "Inhibit System Recovery",
	"T1562.001": "Disable or Modify Tools", "T1562.010": "Downgrade Attack", "T1136": "Create Account",
	"T1547.001": "Registry Run Keys / Startup Folder", "T1053.005": "Scheduled Task",
	"T1543.003": "Windows Service", "T1569.002": "Service Execution",
}
