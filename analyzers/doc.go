// Package analyzers reads the timeline and writes findings for MITRE ATT&CK
// T1059 and the techniques seen inside the scripts it finds. Each analyzer
// covers one technique and is listed in the registry in registry.go.
package analyzers
