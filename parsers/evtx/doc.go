// Package evtx reads Windows XML Event Log (EVTX) files.
//
// It follows libyal's "Windows XML Event Log (EVTX)" format document and
// Microsoft's MS-EVEN6 §2.2.12 (Binary XML). Evidence is treated as hostile:
// every length read from a file is bounded, nesting is capped, damage is
// reported with its offset and parsing goes on with the next record or chunk.
//
// Chunks are self-contained (names and templates are chunk-relative), so they
// are decoded in parallel and their records delivered in file order.
//
// Times are rendered in UTC with 7 fractional digits, the precision of a
// FILETIME and what Windows' Event Viewer shows.
package evtx
