// Package collectors finds forensic artifacts inside evidence: KAPE target
// folders, Velociraptor offline collections, zip files of either, plain
// folders, single files and disk images. It decides each artifact's kind from
// its content and path, and opens evidence read-only.
//
// Every file met under an evidence root ends either as an Artifact or as a
// Skipped entry saying why it was not examined (SkipReason), so that the
// manifest and the report can account for all of it. Zip entries are read
// as streams within the bounds of Options, never inflated whole into memory;
// damage found while an entry is read is kept in Artifact.Problems.
package collectors
