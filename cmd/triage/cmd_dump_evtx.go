package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"

	"triage/parsers/evtx"
)

func init() { dumpers["evtx"] = runDumpEVTX }

// dumpedRecord is the JSON shape of one record; data keeps EventData order
// by writing it by hand (see writeData).
type dumpedRecord struct {
	File      string `json:"file"`
	RecordID  uint64 `json:"record_id"`
	Time      string `json:"time"`
	EventID   uint16 `json:"event_id"`
	Provider  string `json:"provider"`
	Channel   string `json:"channel"`
	Computer  string `json:"computer"`
	UserSID   string `json:"user_sid"`
	Level     uint8  `json:"level"`
	Recovered bool   `json:"recovered"`
	Chunk     int    `json:"chunk"`
	Offset    int64  `json:"offset"`
}

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
		writeRecordJSON(w, name, rec)
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

func writeRecordJSON(w *bufio.Writer, file string, rec *evtx.Record) {
	head, _ := json.Marshal(dumpedRecord{
		File: file, RecordID: rec.ID, Time: rec.Time().UTC().Format(evtx.TimeLayout),
		EventID: rec.System.EventID, Provider: rec.System.Provider, Channel: rec.System.Channel,
		Computer: rec.System.Computer, UserSID: rec.System.UserID, Level: rec.System.Level,
		Recovered: rec.Recovered, Chunk: rec.Chunk, Offset: rec.Offset,
	})
	w.Write(head[:len(head)-1])
	w.WriteString(`,"data":{`)
	for i, k := range evtx.FieldKeys(rec.Data) {
		if i > 0 {
			w.WriteByte(',')
		}
		key, _ := json.Marshal(k)
		val, _ := json.Marshal(rec.Data[i].Value)
		w.Write(key)
		w.WriteByte(':')
		w.Write(val)
	}
	w.WriteString("}}\n")
}
