package export

import (
	"bytes"
	"fmt"
	"strings"
)

// ECSVersion is the Elastic Common Schema version the documents follow.
const ECSVersion = "8.11.0"

// ecsEncoder writes Elastic Common Schema documents, one per line, each
// after an index action line when an index is named (the _bulk API's
// NDJSON). Our own fields, provenance first, go under "triage", a custom
// top-level name as ECS asks of fields it does not define.
type ecsEncoder struct {
	action []byte // the index action line, or nil
}

func newECSEncoder(index string) ecsEncoder {
	var enc ecsEncoder
	if index != "" {
		enc.action = append(str([]byte(`{"index":{"_index":`), []byte(index)), "}}\n"...)
	}
	return enc
}

// checkIndexName refuses names OpenSearch and Elasticsearch refuse, so
// that the mistake shows before an upload rather than on each line of it.
func checkIndexName(name string) error {
	if name == "" {
		return nil
	}
	if name != strings.ToLower(name) || strings.ContainsAny(name, "\\/*?\"<>| ,#:") ||
		strings.IndexAny(name[:1], "-_+") == 0 || name == "." || name == ".." || len(name) > 255 {
		return fmt.Errorf("export: index name %q: lowercase, without \\ / * ? \" < > | space , # :, not starting with - _ +", name)
	}
	return nil
}

// windowsLevels names the evtx Level values as Event Viewer shows them;
// 0, "log always", shows as Information.
var windowsLevels = [...]string{"information", "critical", "error", "warning", "information", "verbose"}

func baseName(p []byte) []byte {
	return p[bytes.LastIndexAny(p, `\/`)+1:]
}

// isProcessStart tells the records that state a process started, which
// ECS categorizes as process/start.
func isProcessStart(e *eventRow) bool {
	switch string(e.source) {
	case "prefetch":
		return true
	case "evtx":
		return e.eventID == 4688 && string(e.provider) == "Microsoft-Windows-Security-Auditing" ||
			e.eventID == 1 && string(e.provider) == "Microsoft-Windows-Sysmon"
	}
	return false
}

func (enc ecsEncoder) event(dst []byte, e *eventRow) []byte {
	dst = append(dst, enc.action...)
	dst = str(key(append(dst, '{'), "@timestamp"), tsOrEpoch(e.ts))
	dst = field(dst, "message", e.summary)
	dst = append(dst, `,"ecs":{"version":"`+ECSVersion+`"},"event":{"kind":"event","module":"triage"`...)
	dst = prefixed(append(dst, `,"dataset":`...), "triage.", e.source)
	if e.eventID != 0 || string(e.source) == "evtx" {
		dst = quotedInt(key(append(dst, ','), "code"), e.eventID)
	}
	if len(e.provider) > 0 {
		dst = field(dst, "provider", e.provider)
	}
	if isProcessStart(e) {
		dst = append(dst, `,"category":["process"],"type":["start"]`...)
	}
	dst = append(dst, `},"host":{"name":`...)
	dst = str(dst, e.host)
	dst = append(dst, '}')
	dst = ecsProcess(dst, e)
	dst = ecsUser(dst, e.user)
	if string(e.source) == "evtx" {
		dst = ecsWinlog(dst, e)
	}
	if len(e.scriptBlockID) > 0 {
		dst = append(dst, `,"powershell":{"file":{"script_block_id":`...)
		dst = append(str(dst, e.scriptBlockID), '}', '}')
	}
	dst = append(dst, `,"log":{"file":{"path":`...)
	dst = str(dst, []byte(e.art.path))
	dst = append(dst, '}')
	if string(e.source) == "evtx" && e.level >= 0 && e.level < int64(len(windowsLevels)) {
		dst = fieldString(dst, "level", windowsLevels[e.level])
	}
	dst = append(dst, `},"triage":{"type":"event"`...)
	dst = fieldInt(dst, "event_id", e.id)
	dst = field(dst, "source", e.source)
	dst = fieldInt(dst, "record_id", e.recordID)
	dst = fieldBool(dst, "recovered", e.recovered)
	if len(e.ts) == 0 {
		dst = fieldBool(dst, "no_time", true)
	}
	dst = append(dst, `,"artifact":{"path":`...)
	dst = str(dst, []byte(e.art.path))
	dst = fieldString(dst, "kind", e.art.kind)
	dst = fieldString(dst, "sha256", e.art.sha256)
	dst = append(dst, '}')
	if string(e.source) != "evtx" {
		dst = stringObject(key(append(dst, ','), "data"), e.data)
	}
	return append(dst, '}', '}', '\n')
}

func ecsProcess(dst []byte, e *eventRow) []byte {
	if len(e.process) == 0 && len(e.commandLine) == 0 && len(e.parent) == 0 {
		return dst
	}
	dst = append(dst, `,"process":{`...)
	sep := ""
	if len(e.process) > 0 {
		dst = str(key(dst, "executable"), e.process)
		dst = field(dst, "name", baseName(e.process))
		sep = ","
	}
	if len(e.commandLine) > 0 {
		dst = str(key(append(dst, sep...), "command_line"), e.commandLine)
		sep = ","
	}
	if len(e.parent) > 0 {
		dst = append(append(dst, sep...), `"parent":{"executable":`...)
		dst = str(dst, e.parent)
		dst = append(field(dst, "name", baseName(e.parent)), '}')
	}
	return append(dst, '}')
}

// ecsUser splits DOMAIN\name as ECS's user.domain and user.name; a bare
// SID is user.id.
func ecsUser(dst, user []byte) []byte {
	if len(user) == 0 {
		return dst
	}
	dst = append(dst, `,"user":{`...)
	switch i := bytes.IndexByte(user, '\\'); {
	case bytes.HasPrefix(user, []byte("S-1-")):
		dst = str(key(dst, "id"), user)
	case i > 0:
		dst = str(key(dst, "domain"), user[:i])
		dst = field(dst, "name", user[i+1:])
	default:
		dst = str(key(dst, "name"), user)
	}
	return append(dst, '}')
}

func ecsWinlog(dst []byte, e *eventRow) []byte {
	dst = append(dst, `,"winlog":{"channel":`...)
	dst = str(dst, e.channel)
	dst = field(dst, "provider_name", e.provider)
	dst = field(dst, "computer_name", e.computer)
	dst = quotedInt(key(append(dst, ','), "event_id"), e.eventID)
	dst = quotedInt(key(append(dst, ','), "record_id"), e.recordID)
	dst = stringObject(key(append(dst, ','), "event_data"), e.data)
	return append(dst, '}')
}

// stringObject appends data, an object column, with every value a string
// and every key usable as a field name: a dot would nest the field and an
// empty name is refused, so dots become underscores and "" becomes "_".
// A column that is not an object becomes {"_raw": its text}.
func stringObject(dst, data []byte) []byte {
	if !isJSON(data, '{') {
		return append(str(append(dst, `{"_raw":`...), data), '}')
	}
	dst = append(dst, '{')
	n := 0
	eachMember(data, func(k, v []byte) {
		if n > 0 {
			dst = append(dst, ',')
		}
		n++
		if len(k) == 2 {
			k = []byte(`"_"`)
		}
		start := len(dst)
		dst = append(dst, k...)
		for i := start; i < len(dst); i++ {
			if dst[i] == '.' {
				dst[i] = '_'
			}
		}
		dst = stringValue(append(dst, ':'), v)
	})
	return append(dst, '}')
}

// ecsSeverity ranks our severities for event.severity, a number in ECS.
var ecsSeverity = map[string]int64{"informational": 1, "low": 2, "medium": 3, "high": 4, "critical": 5}

func (enc ecsEncoder) findingStart(dst []byte, f *findingRow) []byte {
	dst = append(dst, enc.action...)
	dst = str(key(append(dst, '{'), "@timestamp"), tsOrEpoch(f.ts))
	dst = field(dst, "message", f.title)
	dst = append(dst, `,"ecs":{"version":"`+ECSVersion+`"},"event":{"kind":"alert","module":"triage","dataset":"triage.finding"`...)
	dst = fieldInt(dst, "severity", ecsSeverity[string(f.severity)])
	dst = fieldInt(dst, "risk_score", f.score)
	dst = append(dst, `},"host":{"name":`...)
	dst = str(dst, f.host)
	dst = append(dst, `},"rule":{"id":`...)
	dst = str(dst, f.analyzer)
	dst = field(dst, "name", f.title)
	dst = field(dst, "description", f.rule)
	dst = append(dst, `},"threat":{"framework":"MITRE ATT&CK","technique":{"id":[`...)
	dst = str(dst, f.techniqueID)
	dst = append(dst, `],"name":[`...)
	dst = str(dst, f.technique)
	dst = append(dst, `]},"tactic":{"name":[`...)
	dst = str(dst, f.tactic)
	dst = append(dst, `]}},"triage":{"type":"finding"`...)
	dst = fieldInt(dst, "finding_id", f.id)
	dst = field(dst, "severity", f.severity)
	dst = field(dst, "confidence", f.confidence)
	dst = field(dst, "matched", f.matched)
	dst = field(dst, "decoded", f.decoded)
	dst = field(dst, "related", f.related)
	dst = field(dst, "features", f.features)
	dst = fieldInt(dst, "incident_id", f.incident)
	return append(dst, `,"evidence":[`...)
}

func (ecsEncoder) evidence(dst []byte, n int, ev *evidenceRow) []byte {
	if n > 0 {
		dst = append(dst, ',')
	}
	return appendEvidence(dst, ev)
}

func (ecsEncoder) findingEnd(dst []byte, n int) []byte {
	return append(fieldInt(append(dst, ']'), "evidence_count", int64(n)), '}', '}', '\n')
}
