package analyzers

import "triage/timeline"

var jscript = scriptLanguage{
	technique:    timeline.MustTechnique("T1059.007"),
	name:         "JScript",
	id:           "t1059.007-jscript",
	extensions:   []string{".js", ".jse", ".hta"},
	engines:      []string{"jscript.dll", "jscript9.dll", "chakra.dll"},
	engineSwitch: lazy(`(?i)//?e:(?:js|jscript|jse|javascript)(?:\.encode)?\b`),
	scriptlets:   true,
	mshtaWord:    "javascript:",
}
