package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"

	"triage/internal/printable"
	"triage/parsers/evtx"
	"triage/timeline"
)

func init() { dumpers["evtx"] = runDumpEVTX }

// The JSON shape of one record, in key order: file, record_id (the
// EventRecordID Windows shows, as the timeline uses; the header's number
// where the record has none), record_number (the record header's number,
// which differs from it in exported logs), time, event_id, provider, channel, computer, user_sid, level, recovered, chunk,
// offset, then data with the EventData keys in document order. It is
// written by hand (see appendRecordJSON) because encoding/json's reflection
// took most of the dump's time; the bytes are the same as json.Marshal's.

func runDumpEVTX(args []string, stdout, stderr io.Writer) int {
	fs := newVerbFlags("dump evtx", "[flags] FILE...",
		"prints one JSON object per record; data keys are the EventData names, unnamed <Data> as \"Data[i]\";",
		"damage goes to stderr with its offset and decoding goes on")
	asXML := fs.Bool("xml", false, "print each record's XML instead of JSON")
	files, code, ok := fs.parse(args, stdout, stderr)
	if !ok {
		return code
	}
	if len(files) == 0 {
		return fs.fail(stderr, &usageError{msg: "no FILE to dump"})
	}
	defer tuneDumpGC()()
	// Records come in runs of a chunk or so, which pass the buffer by;
	// a larger one only cost page faults to a process that lives 20 ms.
	w := bufio.NewWriterSize(stdout, 64<<10)
	status := exitOK
	for _, name := range files {
		err := dumpEVTXFile(w, stderr, name, *asXML)
		var we writeError
		if errors.As(err, &we) {
			fmt.Fprintf(stderr, "triage: dump evtx: %v\n", err)
			return exitFail // every later write would fail the same way
		}
		if err != nil {
			fmt.Fprintf(stderr, "triage: %s: %v\n", printable.Escape(name), printable.Escape(err.Error()))
			status = exitFail
		}
	}
	if err := w.Flush(); err != nil {
		fmt.Fprintf(stderr, "triage: dump evtx: %v\n", writeError{err})
		return exitFail
	}
	return status
}

// writeError is a failure to write the dump itself, as opposed to one
// file that could not be read.
type writeError struct{ err error }

func (e writeError) Error() string { return "write standard output: " + e.err.Error() }
func (e writeError) Unwrap() error { return e.err }

func dumpEVTXFile(w *bufio.Writer, stderr io.Writer, name string, asXML bool) error {
	f, err := evtx.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	// One worker more than there are processors: this goroutine, which
	// writes, and the Reader's own hand-offs leave processors idle that
	// a third worker fills, about a twentieth off the wall time.
	f.SetWorkers(runtime.GOMAXPROCS(0) + 1)
	file := timeline.AppendJSONString(nil, name)
	encode := func(b []byte, rec *evtx.Record) []byte { return appendRecordJSON(b, file, rec) }
	if asXML {
		encode = func(b []byte, rec *evtx.Record) []byte { return append(b, rec.XML()...) }
	}
	shown := printable.Escape(name)
	for records, err := range f.Encoded(encode) {
		if err != nil {
			fmt.Fprintf(stderr, "triage: %s: %s\n", shown, printable.Escape(trimPrefix(err)))
			continue
		}
		if _, err := w.Write(records); err != nil {
			return writeError{err}
		}
	}
	return nil
}

// tuneDumpGC turns the collector off until the heap nears 128 MiB, and
// returns the function that restores the previous settings. A dump's live
// heap is the few chunks in flight, but it allocates about its input's
// size: at the default GOGC a 16 MiB dump spent a quarter of its CPU in the
// collector, and even at GOGC 400 its one collection, with the write
// barriers on while it marked, cost an eighth. A larger dump collects near
// the limit, each time finding almost everything dead. GOGC or GOMEMLIMIT
// in the environment leave the collector alone.
func tuneDumpGC() (restore func()) {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return func() {}
	}
	percent := debug.SetGCPercent(-1)
	limit := debug.SetMemoryLimit(128 << 20)
	return func() {
		debug.SetGCPercent(percent)
		debug.SetMemoryLimit(limit)
	}
}

// trimPrefix drops the package prefix, since the line already says triage.
func trimPrefix(err error) string {
	s := err.Error()
	var fe *evtx.FormatError
	if errors.As(err, &fe) && len(s) > 6 && s[:6] == "evtx: " {
		return s[6:]
	}
	return s
}

// appendRecordJSON appends rec as one JSON line; file is the file name
// already encoded as a JSON string.
func appendRecordJSON(b, file []byte, rec *evtx.Record) []byte {
	b = append(b, `{"file":`...)
	b = append(b, file...)
	b = append(b, `,"record_id":`...)
	b = strconv.AppendUint(b, recordID(rec), 10)
	b = append(b, `,"record_number":`...)
	b = strconv.AppendUint(b, rec.ID, 10)
	b = append(b, `,"time":"`...)
	b = timeline.AppendTime(b, rec.Time()) // digits and punctuation only
	b = append(b, `","event_id":`...)
	b = strconv.AppendUint(b, uint64(rec.System.EventID), 10)
	b = append(b, `,"provider":`...)
	b = timeline.AppendJSONString(b, rec.System.Provider)
	b = append(b, `,"channel":`...)
	b = timeline.AppendJSONString(b, rec.System.Channel)
	b = append(b, `,"computer":`...)
	b = timeline.AppendJSONString(b, rec.System.Computer)
	b = append(b, `,"user_sid":`...)
	b = timeline.AppendJSONString(b, rec.System.UserID)
	b = append(b, `,"level":`...)
	b = strconv.AppendUint(b, uint64(rec.System.Level), 10)
	b = append(b, `,"recovered":`...)
	b = strconv.AppendBool(b, rec.Recovered)
	b = append(b, `,"chunk":`...)
	b = strconv.AppendInt(b, int64(rec.Chunk), 10)
	b = append(b, `,"offset":`...)
	b = strconv.AppendInt(b, rec.Offset, 10)
	b = append(b, `,"data":{`...)
	var scratch [32]string // the keys of nearly every record, off the heap
	for i, k := range evtx.AppendFieldKeys(scratch[:0], rec.Data) {
		if i > 0 {
			b = append(b, ',')
		}
		b = timeline.AppendJSONString(b, k)
		b = append(b, ':')
		b = timeline.AppendJSONString(b, rec.Data[i].Value)
	}
	return append(b, "}}\n"...)
}

// recordID is the EventRecordID of the record's System element, the number
// Event Viewer shows and the timeline keeps; a record without one falls
// back to the header's number.
func recordID(rec *evtx.Record) uint64 {
	if rec.System.EventRecordID != 0 {
		return rec.System.EventRecordID
	}
	return rec.ID
}
