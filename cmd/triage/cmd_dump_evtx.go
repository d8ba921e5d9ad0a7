package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/bits"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"time"
	"unicode/utf8"

	"triage/parsers/evtx"
	"triage/timeline"
)

func init() { dumpers["evtx"] = runDumpEVTX }

// The JSON shape of one record, in key order: file, record_id, time,
// event_id, provider, channel, computer, user_sid, level, recovered, chunk,
// offset, then data with the EventData keys in document order. It is
// written by hand (see appendRecordJSON) because encoding/json's reflection
// took most of the dump's time; the bytes are the same as json.Marshal's.

func runDumpEVTX(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("dump evtx", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asXML := fs.Bool("xml", false, "print each record's XML instead of JSON")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: triage dump evtx [--xml] FILE...")
		fmt.Fprintln(stderr, "prints one JSON object per record; data keys are the EventData names, unnamed <Data> as \"Data[i]\"")
	}
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return exitUsage
	}
	defer tuneDumpGC()()
	// Records come in runs of a chunk or so, which pass the buffer by;
	// a larger one only cost page faults to a process that lives 20 ms.
	w := bufio.NewWriterSize(stdout, 64<<10)
	defer w.Flush()
	status := exitOK
	for _, name := range fs.Args() {
		if err := dumpEVTXFile(w, stderr, name, *asXML); err != nil {
			fmt.Fprintf(stderr, "triage: %s: %v\n", name, err)
			status = exitFail
		}
	}
	return status
}

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
	for records, err := range f.Encoded(encode) {
		if err != nil {
			fmt.Fprintf(stderr, "triage: %s: %v\n", name, trimPrefix(err))
			continue
		}
		w.Write(records)
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
	b = strconv.AppendUint(b, rec.ID, 10)
	b = append(b, `,"time":"`...)
	b = appendTime(b, rec.Time().UTC()) // digits and punctuation only
	b = append(b, `","event_id":`...)
	b = strconv.AppendUint(b, uint64(rec.System.EventID), 10)
	b = append(b, `,"provider":`...)
	b = appendJSONString(b, rec.System.Provider)
	b = append(b, `,"channel":`...)
	b = appendJSONString(b, rec.System.Channel)
	b = append(b, `,"computer":`...)
	b = appendJSONString(b, rec.System.Computer)
	b = append(b, `,"user_sid":`...)
	b = appendJSONString(b, rec.System.UserID)
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
		b = appendJSONString(b, k)
		b = append(b, ':')
		b = appendJSONString(b, rec.Data[i].Value)
	}
	return append(b, "}}\n"...)
}

// appendTime appends t in evtx.TimeLayout, which time's layout
// interpreter took a fortieth of the dump to do.
func appendTime(b []byte, t time.Time) []byte {
	year, month, day := t.Date()
	if year < 0 || year > 9999 {
		return t.AppendFormat(b, evtx.TimeLayout)
	}
	hour, min, sec := t.Clock()
	b = appendDigits(b, year, 4)
	b = append(b, '-')
	b = appendDigits(b, int(month), 2)
	b = append(b, '-')
	b = appendDigits(b, day, 2)
	b = append(b, 'T')
	b = appendDigits(b, hour, 2)
	b = append(b, ':')
	b = appendDigits(b, min, 2)
	b = append(b, ':')
	b = appendDigits(b, sec, 2)
	b = append(b, '.')
	b = appendDigits(b, t.Nanosecond()/100, 7)
	return append(b, 'Z')
}

// appendDigits appends n, which is not negative, zero-padded to width
// digits, two at a time.
func appendDigits(b []byte, n, width int) []byte {
	const pairs = "00010203040506070809101112131415161718192021222324252627282930313233343536373839" +
		"40414243444546474849505152535455565758596061626364656667686970717273747576777879" +
		"8081828384858687888990919293949596979899"
	var d [8]byte
	i := width
	for ; i >= 2; i -= 2 {
		p := n % 100 * 2
		d[i-2], d[i-1] = pairs[p], pairs[p+1]
		n /= 100
	}
	if i == 1 {
		d[0] = byte('0' + n%10)
	}
	return append(b, d[:width]...)
}

// appendJSONString appends s as timeline.AppendJSONString does, byte for
// byte (TestAppendJSONString checks), but copies runs of printable ASCII
// found eight bytes at a time; that encoder tests each byte, which took a
// tenth of the dump. Escaping ASCII is JSON's fixed table; anything beyond
// ASCII goes to timeline's encoder, which validates UTF-8.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	for {
		i := plainPrefix(s)
		b = append(b, s[:i]...)
		s = s[i:]
		if s == "" {
			return append(b, '"')
		}
		c := s[0]
		if c >= utf8.RuneSelf {
			n := len(b)
			b = timeline.AppendJSONString(b, s)
			return append(b[:n], b[n+1:]...) // drop the quote it opened with
		}
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		case '\b':
			b = append(b, '\\', 'b')
		case '\f':
			b = append(b, '\\', 'f')
		default: // other control characters, and <, > and & as encoding/json escapes them for HTML
			const hex = "0123456789abcdef"
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&15])
		}
		s = s[1:]
	}
}

// plainPrefix is the length of the longest prefix of s that encoding/json
// writes as is: printable ASCII but '"', '\\', '<', '>' and '&'.
func plainPrefix(s string) int {
	i := 0
	for ; i+8 <= len(s); i += 8 {
		if bad := escapeFlags(s[i : i+8]); bad != 0 {
			return i + bits.TrailingZeros64(bad)/8
		}
	}
	if i == len(s) {
		return i
	}
	if len(s) >= 8 {
		// The last eight bytes, overlapping plain ones already tested,
		// which raise no flag.
		if bad := escapeFlags(s[len(s)-8:]); bad != 0 {
			return len(s) - 8 + bits.TrailingZeros64(bad)/8
		}
		return len(s)
	}
	for ; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x80 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			break
		}
	}
	return i
}

// escapeFlags sets the high bit of each byte of t, eight bytes, that JSON
// escapes, and maybe of bytes above one: the classic tests for a byte
// below a bound, (x - n) &^ x, and for a zero byte of x ^ c, flag
// spuriously only above a true hit, so the lowest flag is the first byte
// to escape.
func escapeFlags(t string) uint64 {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	w := uint64(t[7])<<56 | uint64(t[6])<<48 | uint64(t[5])<<40 | uint64(t[4])<<32 |
		uint64(t[3])<<24 | uint64(t[2])<<16 | uint64(t[1])<<8 | uint64(t[0])
	// '"' and '&' differ only in bit 2, '<' and '>' only in bit 1.
	q := (w ^ '"'*ones) &^ (4 * ones)
	a := (w ^ '<'*ones) &^ (2 * ones)
	b := w ^ '\\'*ones
	return (w | (w-0x20*ones)&^w | (q-ones)&^q | (a-ones)&^a | (b-ones)&^b) & highs
}
