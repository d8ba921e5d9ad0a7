// Package collectors finds forensic artifacts inside evidence: KAPE target
// folders, Velociraptor offline collections, zip files of either, plain
// folders, single files and disk images. It decides each artifact's kind from
// its content and path, and opens evidence read-only.
package collectors
