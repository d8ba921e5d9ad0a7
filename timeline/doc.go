// Package timeline normalizes parsed artifacts into events and stores them,
// with their provenance, in a SQLite database (see schema.sql).
package timeline
