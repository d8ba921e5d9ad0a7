package analyzers

var vbscript = scriptLanguage{
	technique:  Technique{"T1059.005", "Command and Scripting Interpreter: Visual Basic", "Execution"},
	name:       "VBScript",
	id:         "t1059.005-vbscript",
	extensions: []string{".vbs", ".vbe", ".wsf"},
	engines:    []string{"vbscript.dll"},
	mshtaWord:  "vbscript:",
}
