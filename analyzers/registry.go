package analyzers

// Registry lists every analyzer, sorted by ID. New analyzers are added here
// by hand: there is no registration from init functions.
func Registry() []Analyzer {
	return []Analyzer{
		&sigmaAnalyzer{},                   // sigma
		&genericInterpreters{},             // t1059-interpreters
		otherLanguages,                     // t1059-other-interpreters
		&powerShell{},                      // t1059.001
		&commandShell{},                    // t1059.003
		unixShells,                         // t1059.004
		&windowsScriptHost{lang: vbscript}, // t1059.005
		python,                             // t1059.006
		&windowsScriptHost{lang: jscript},  // t1059.007-jscript
		node,                               // t1059.007-node
		autoIt,                             // t1059.010
		lua,                                // t1059.011
	}
}
