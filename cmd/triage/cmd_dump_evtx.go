package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"unicode/utf8"

	"triage/parsers/evtx"
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
	w := bufio.NewWriterSize(stdout, 1<<20)
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
	file := appendJSONString(nil, name)
	var line []byte
	for rec, err := range f.Records() {
		if err != nil {
			fmt.Fprintf(stderr, "triage: %s: %v\n", name, trimPrefix(err))
		}
		if rec == nil {
			continue
		}
		if asXML {
			w.WriteString(rec.XML())
			continue
		}
		line = appendRecordJSON(line[:0], file, rec)
		w.Write(line)
	}
	return nil
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
	b = rec.Time().UTC().AppendFormat(b, evtx.TimeLayout) // digits and punctuation only
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
	for i, k := range evtx.FieldKeys(rec.Data) {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, k)
		b = append(b, ':')
		b = appendJSONString(b, rec.Data[i].Value)
	}
	return append(b, "}}\n"...)
}

// jsonPlain marks the ASCII bytes a JSON string holds as they are.
var jsonPlain = func() (t [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()

// appendJSONString appends s quoted as encoding/json writes it by default:
// control characters, quote and backslash escaped, <, > and & as \u00XX
// (HTML-safe), invalid UTF-8 as \ufffd, and U+2028, U+2029 escaped.
func appendJSONString(b []byte, s string) []byte {
	const hexDigits = "0123456789abcdef"
	b = append(b, '"')
	done := 0 // s[:done] is in b
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if jsonPlain[c] {
				i++
				continue
			}
			b = append(b, s[done:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&15])
			}
			i++
			done = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[done:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[done:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&15])
		default:
			i += size
			continue
		}
		i += size
		done = i
	}
	b = append(b, s[done:]...)
	return append(b, '"')
}
