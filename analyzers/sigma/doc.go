// Package sigma compiles Sigma rules (specification v2.1.0) and matches
// them against events given as field → values maps.
//
// The engine reads YAML into nodes and builds every detection value from
// the scalar's source text, so that `00000429` stays a string as it does
// under YAML 1.1 (PyYAML). Field values match case-insensitively with the
// `*` and `?` wildcards and Sigma's escapes; a value without wildcards must
// equal the whole field. A field that holds several values (the unnamed
// Data elements of classic PowerShell events, or a name repeated in one
// record) matches when any of its values does.
//
// Anything the engine does not implement is refused when the rule is
// compiled, with the reason, never matched loosely. Rules are indexed by
// the channel and event id their logsource maps to (logsource.go), so an
// event meets only the rules of its log.
//
// The package reads no database: callers hand it events.
package sigma
