package export

// jsonlEncoder writes the timeline's own columns, one event or finding per
// line, told apart by "type"; every event carries its artifact's path,
// kind and SHA-256, so a line can be verified without the database.
type jsonlEncoder struct{}

func (jsonlEncoder) event(dst []byte, e *eventRow) []byte {
	dst = append(dst, `{"type":"event"`...)
	dst = fieldInt(dst, "id", e.id)
	dst = field(dst, "ts", e.ts)
	dst = fieldInt(dst, "ts_ns", e.tsNS)
	dst = field(dst, "host", e.host)
	dst = fieldString(dst, "artifact_path", e.art.path)
	dst = fieldString(dst, "artifact_kind", e.art.kind)
	dst = fieldString(dst, "artifact_sha256", e.art.sha256)
	dst = fieldInt(dst, "record_id", e.recordID)
	dst = field(dst, "source", e.source)
	dst = fieldInt(dst, "event_id", e.eventID)
	dst = field(dst, "channel", e.channel)
	dst = field(dst, "provider", e.provider)
	dst = field(dst, "computer", e.computer)
	dst = field(dst, "user", e.user)
	dst = fieldInt(dst, "level", e.level)
	dst = field(dst, "process", e.process)
	dst = field(dst, "parent_process", e.parent)
	dst = field(dst, "command_line", e.commandLine)
	dst = field(dst, "script_block_id", e.scriptBlockID)
	dst = fieldBool(dst, "recovered", e.recovered)
	dst = field(dst, "summary", e.summary)
	dst = rawJSON(key(append(dst, ','), "data"), e.data, '{')
	return append(dst, '}', '\n')
}

func (jsonlEncoder) findingStart(dst []byte, f *findingRow) []byte {
	dst = append(dst, `{"type":"finding"`...)
	dst = fieldInt(dst, "id", f.id)
	dst = field(dst, "analyzer", f.analyzer)
	dst = field(dst, "host", f.host)
	dst = field(dst, "ts", f.ts)
	dst = fieldInt(dst, "ts_ns", f.tsNS)
	dst = field(dst, "technique_id", f.techniqueID)
	dst = field(dst, "technique_name", f.technique)
	dst = field(dst, "tactic", f.tactic)
	dst = rawJSON(key(append(dst, ','), "related"), f.related, '[')
	dst = field(dst, "severity", f.severity)
	dst = field(dst, "confidence", f.confidence)
	dst = field(dst, "title", f.title)
	dst = field(dst, "rule", f.rule)
	dst = field(dst, "matched", f.matched)
	dst = field(dst, "decoded", f.decoded)
	dst = fieldInt(dst, "score", f.score)
	dst = rawJSON(key(append(dst, ','), "features"), f.features, '{')
	dst = fieldInt(dst, "incident_id", f.incident)
	return append(dst, `,"evidence":[`...)
}

func (jsonlEncoder) evidence(dst []byte, n int, ev *evidenceRow) []byte {
	if n > 0 {
		dst = append(dst, ',')
	}
	return appendEvidence(dst, ev)
}

// appendEvidence appends the object that cites one record, shared by the
// formats that nest it.
func appendEvidence(dst []byte, ev *evidenceRow) []byte {
	dst = append(dst, `{"event_id":`...)
	dst = appendInt(dst, ev.eventID)
	dst = field(dst, "artifact_path", ev.artifactPath)
	dst = fieldInt(dst, "record_id", ev.recordID)
	dst = field(dst, "artifact_sha256", ev.sha256)
	return append(dst, '}')
}

func (jsonlEncoder) findingEnd(dst []byte, n int) []byte {
	return append(fieldInt(append(dst, ']'), "evidence_count", int64(n)), '}', '\n')
}
