package analyzers

// Registry lists every analyzer, sorted by ID. New analyzers are added here
// by hand: there is no registration from init functions.
func Registry() []Analyzer {
	return []Analyzer{
		&sigmaAnalyzer{},                   // sigma
		&genericInterpreters{},             // t1059
		&powerShell{},                      // t1059.001
		&commandShell{},                    // t1059.003
		&windowsScriptHost{lang: vbscript}, // t1059.005
		&windowsScriptHost{lang: jscript},  // t1059.007
	}
}
