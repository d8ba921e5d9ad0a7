// Package evtxwrite writes Windows XML Event Log (EVTX) files: the file
// header, 64 KiB chunks with their string and template tables, records whose
// Binary XML is a template instance with typed substitution values, and every
// checksum. It follows the same documents as parsers/evtx (libyal's "Windows
// XML Event Log (EVTX)" and MS-EVEN6 §2.2.12) and shares no code with it, so
// that a test built on its files checks the parser against the format and not
// against itself.
//
// It exists for tests, benchmarks and `triage demo`: the events it writes are
// exactly the ones asked for, which real logs never are. Like Windows, it
// writes one template per event shape (the System fields present and the
// EventData names and value types), defined inline the first time a chunk
// uses it and referenced after that, and element and attribute names inline
// on first use per chunk.
package evtxwrite
