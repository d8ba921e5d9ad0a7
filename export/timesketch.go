package export

import (
	"time"
)

// timesketchEncoder writes the lines Timesketch's JSONL importer reads:
// message, datetime (ISO 8601) and timestamp_desc are required; timestamp
// (microseconds since the epoch) spares the server parsing datetime. Our
// columns follow as flat attributes, and the event's data as one string:
// a host's logs hold over a thousand distinct field names, more than an
// index takes by default as attributes of their own.
type timesketchEncoder struct{}

// timestampDesc says what each source's time is, as Timesketch shows it.
var timestampDesc = map[string]string{
	"evtx":     "Event Recorded",
	"prefetch": "Program Run",
	"history":  "File Modified",
	"batch":    "File Modified",
	"script":   "File Modified",
}

func descOf(source []byte) string {
	if d, ok := timestampDesc[string(source)]; ok {
		return d
	}
	return "Recorded"
}

// appendISO appends the time as Timesketch's examples give it, to the
// microsecond with an explicit offset: "2022-03-10T19:50:53.690266+00:00".
func appendISO(dst, ts []byte, ns int64) []byte {
	dst = append(dst, '"')
	// The column's layout, seven fractional digits and a Z, cut to six.
	if len(ts) == 28 && ts[19] == '.' && ts[27] == 'Z' {
		dst = append(dst, ts[:26]...)
		dst = append(dst, "+00:00"...)
	} else {
		dst = time.Unix(0, ns).UTC().AppendFormat(dst, "2006-01-02T15:04:05.000000-07:00")
	}
	return append(dst, '"')
}

func timesketchTime(dst, ts []byte, ns int64, desc string) []byte {
	dst = appendISO(key(append(dst, ','), "datetime"), ts, ns)
	dst = fieldInt(dst, "timestamp", ns/1000)
	return fieldString(dst, "timestamp_desc", desc)
}

func (timesketchEncoder) event(dst []byte, e *eventRow) []byte {
	msg := e.summary
	if len(msg) == 0 {
		msg = e.commandLine
	}
	if len(msg) == 0 {
		msg = e.source
	}
	dst = str(key(append(dst, '{'), "message"), msg)
	desc := descOf(e.source)
	if len(e.ts) == 0 {
		desc = "No Time Recorded"
	}
	dst = timesketchTime(dst, e.ts, e.tsNS, desc)
	dst = prefixed(append(dst, `,"data_type":`...), "triage:", e.source)
	dst = field(dst, "ts", e.ts)
	dst = field(dst, "hostname", e.host)
	dst = field(dst, "source_name", e.source)
	dst = fieldInt(dst, "event_identifier", e.eventID)
	dst = field(dst, "channel", e.channel)
	dst = field(dst, "provider", e.provider)
	dst = field(dst, "computer_name", e.computer)
	dst = field(dst, "username", e.user)
	dst = fieldInt(dst, "level", e.level)
	dst = field(dst, "process", e.process)
	dst = field(dst, "parent_process", e.parent)
	dst = field(dst, "command_line", e.commandLine)
	dst = field(dst, "script_block_id", e.scriptBlockID)
	dst = fieldBool(dst, "recovered", e.recovered)
	dst = fieldInt(dst, "record_number", e.recordID)
	dst = fieldInt(dst, "triage_event_id", e.id)
	dst = fieldString(dst, "artifact_path", e.art.path)
	dst = fieldString(dst, "artifact_kind", e.art.kind)
	dst = fieldString(dst, "artifact_sha256", e.art.sha256)
	dst = field(dst, "event_data", e.data)
	return append(dst, '}', '\n')
}

func (timesketchEncoder) findingStart(dst []byte, f *findingRow) []byte {
	dst = append(dst, `{"message":`...)
	msg := make([]byte, 0, 16+len(f.severity)+len(f.title))
	msg = append(append(append(append(msg, '['), f.severity...), "] "...), f.title...)
	dst = str(dst, msg)
	dst = timesketchTime(dst, f.ts, f.tsNS, "Finding Time")
	dst = append(dst, `,"data_type":"triage:finding"`...)
	dst = field(dst, "ts", f.ts)
	dst = fieldInt(dst, "finding_id", f.id)
	dst = field(dst, "analyzer", f.analyzer)
	dst = field(dst, "hostname", f.host)
	dst = field(dst, "technique_id", f.techniqueID)
	dst = field(dst, "technique_name", f.technique)
	dst = field(dst, "tactic", f.tactic)
	dst = field(dst, "related_techniques", f.related)
	dst = field(dst, "severity", f.severity)
	dst = field(dst, "confidence", f.confidence)
	dst = field(dst, "rule", f.rule)
	dst = field(dst, "matched", f.matched)
	dst = field(dst, "decoded", f.decoded)
	dst = fieldInt(dst, "score", f.score)
	dst = field(dst, "features", f.features)
	dst = fieldInt(dst, "incident_id", f.incident)
	return append(dst, `,"evidence":[`...)
}

// evidence cites a record as one string, "path#record sha256:…": a list of
// strings is what Timesketch shows and searches best.
func (timesketchEncoder) evidence(dst []byte, n int, ev *evidenceRow) []byte {
	if n > 0 {
		dst = append(dst, ',')
	}
	cite := make([]byte, 0, len(ev.artifactPath)+len(ev.sha256)+32)
	cite = append(append(cite, ev.artifactPath...), '#')
	cite = appendInt(cite, ev.recordID)
	cite = append(append(cite, " sha256:"...), ev.sha256...)
	return str(dst, cite)
}

func (timesketchEncoder) findingEnd(dst []byte, n int) []byte {
	return append(fieldInt(append(dst, ']'), "evidence_count", int64(n)), '}', '\n')
}
