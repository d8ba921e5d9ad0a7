package analyzers

import "triage/timeline"

var vbscript = scriptLanguage{
	technique:  timeline.MustTechnique("T1059.005"),
	name:       "VBScript",
	id:         "t1059.005-vbscript",
	extensions: []string{".vbs", ".vbe", ".wsf"},
	engines:    []string{"vbscript.dll"},
	mshtaWord:  "vbscript:",
}
