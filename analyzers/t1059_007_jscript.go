package analyzers

var jscript = scriptLanguage{
	technique:  Technique{"T1059.007", "Command and Scripting Interpreter: JavaScript", "Execution"},
	name:       "JScript",
	id:         "t1059.007-jscript",
	extensions: []string{".js", ".jse", ".hta"},
	engines:    []string{"jscript.dll", "jscript9.dll", "chakra.dll"},
	mshtaWord:  "javascript:",
}
