// Package export hands a case's timeline and findings on to the platforms
// teams work in: Timesketch (its JSONL importer), OpenSearch or
// Elasticsearch (Elastic Common Schema documents for the _bulk API), or
// plain JSON lines of our own columns.
//
// It reads the timeline only, at the report's stage of the data flow, and
// streams: a few batches of rows read ahead and one line are held at a
// time, whatever the size of the case. The rows are read on a goroutine of
// their own while the lines are encoded (rows.go).
package export
