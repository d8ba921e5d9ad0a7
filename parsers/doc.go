// Package parsers groups the decoders for artifact formats. Each format has
// its own package (evtx, prefetch, lzxpress, textfile); none of them prints,
// and every length they read from evidence is bounded before use.
package parsers
