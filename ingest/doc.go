// Package ingest is the stage between the parsers and the analyzers: it
// opens each evidence root through the collectors, hashes every artifact,
// parses the artifacts in parallel through one parser per artifact kind
// (parsers.go), writes their events into the timeline in a fixed order so
// that a rerun numbers everything the same way, records every file it did
// not examine and why, hashes the evidence again at the end to show it did
// not change, and keeps the manifest that lets a second examiner verify the
// run.
//
// The package never prints: log lines and progress go to the callbacks in
// Options, and the caller decides how to show them.
package ingest
