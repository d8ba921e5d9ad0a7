// Package report renders a finished timeline database as a self-contained
// HTML report, CSV files and console tables.
package report
