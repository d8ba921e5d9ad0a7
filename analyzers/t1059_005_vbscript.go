package analyzers

import "triage/timeline"

var vbscript = scriptLanguage{
	technique:    timeline.MustTechnique("T1059.005"),
	name:         "VBScript",
	id:           "t1059.005-vbscript",
	extensions:   []string{".vbs", ".vbe", ".wsf"},
	engines:      []string{"vbscript.dll"},
	engineSwitch: lazy(`(?i)//?e:(?:vbs|vbscript|vbe)(?:\.encode)?\b`),
	scriptlets:   false,
	mshtaWord:    "vbscript:",
}
