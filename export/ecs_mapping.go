package export

import (
	"encoding/json"
	"fmt"
	"strings"
)

// ecsFieldType is the type of a field of our ECS documents, as the ECS
// reference gives it (keyword, date, long…), or ours under "triage".
type ecsFieldType string

const (
	ecsKeyword ecsFieldType = "keyword"
	ecsText    ecsFieldType = "text"
	ecsDate    ecsFieldType = "date"
	ecsLong    ecsFieldType = "long"
	ecsFloat   ecsFieldType = "float"
	ecsBoolean ecsFieldType = "boolean"
	// ecsFlat is an object of arbitrary string fields: a host's event logs
	// name over a thousand fields, past an index's default limit, so they
	// go in one field of the platform's flattened type.
	ecsFlat ecsFieldType = "flat"
)

// ecsFields lists every leaf field the ECS encoder writes, with its type;
// the tests check each document against it and the index mapping is made
// from it, so the two cannot drift apart.
var ecsFields = map[string]ecsFieldType{
	"@timestamp":                      ecsDate,
	"message":                         ecsText,
	"ecs.version":                     ecsKeyword,
	"event.kind":                      ecsKeyword,
	"event.module":                    ecsKeyword,
	"event.dataset":                   ecsKeyword,
	"event.code":                      ecsKeyword,
	"event.provider":                  ecsKeyword,
	"event.category":                  ecsKeyword,
	"event.type":                      ecsKeyword,
	"event.severity":                  ecsLong,
	"event.risk_score":                ecsFloat,
	"host.name":                       ecsKeyword,
	"process.executable":              ecsKeyword,
	"process.name":                    ecsKeyword,
	"process.command_line":            ecsKeyword,
	"process.parent.executable":       ecsKeyword,
	"process.parent.name":             ecsKeyword,
	"user.name":                       ecsKeyword,
	"user.domain":                     ecsKeyword,
	"user.id":                         ecsKeyword,
	"winlog.channel":                  ecsKeyword,
	"winlog.provider_name":            ecsKeyword,
	"winlog.computer_name":            ecsKeyword,
	"winlog.event_id":                 ecsKeyword,
	"winlog.record_id":                ecsKeyword,
	"winlog.event_data":               ecsFlat,
	"powershell.file.script_block_id": ecsKeyword,
	"log.file.path":                   ecsKeyword,
	"log.level":                       ecsKeyword,
	"rule.id":                         ecsKeyword,
	"rule.name":                       ecsKeyword,
	"rule.description":                ecsKeyword,
	"threat.framework":                ecsKeyword,
	"threat.technique.id":             ecsKeyword,
	"threat.technique.name":           ecsKeyword,
	"threat.tactic.name":              ecsKeyword,
	"triage.type":                     ecsKeyword,
	"triage.event_id":                 ecsLong,
	"triage.source":                   ecsKeyword,
	"triage.record_id":                ecsLong,
	"triage.recovered":                ecsBoolean,
	"triage.no_time":                  ecsBoolean,
	"triage.artifact.path":            ecsKeyword,
	"triage.artifact.kind":            ecsKeyword,
	"triage.artifact.sha256":          ecsKeyword,
	"triage.data":                     ecsFlat,
	"triage.finding_id":               ecsLong,
	"triage.severity":                 ecsKeyword,
	"triage.confidence":               ecsKeyword,
	"triage.matched":                  ecsText,
	"triage.decoded":                  ecsText,
	"triage.related":                  ecsKeyword,
	"triage.features":                 ecsKeyword,
	"triage.incident_id":              ecsLong,
	"triage.evidence.event_id":        ecsLong,
	"triage.evidence.artifact_path":   ecsKeyword,
	"triage.evidence.record_id":       ecsLong,
	"triage.evidence.artifact_sha256": ecsKeyword,
	"triage.evidence_count":           ecsLong,
}

// keywordLimit is ignore_above for keyword fields: Lucene refuses a term
// over 32766 bytes, four bytes a character at worst. A longer command line
// is still stored and shown, only not searchable as a whole term.
const keywordLimit = 8191

// ECSMapping returns the index body (settings and mappings) that types
// every field of our ECS documents, for "opensearch" or "elasticsearch":
// the two name the flattened object type differently.
func ECSMapping(platform string) ([]byte, error) {
	var flat map[string]any
	switch platform {
	case "opensearch":
		flat = map[string]any{"type": "flat_object"}
	case "elasticsearch":
		flat = map[string]any{"type": "flattened", "ignore_above": keywordLimit}
	default:
		return nil, fmt.Errorf("export: mapping for %q: want opensearch or elasticsearch", platform)
	}
	root := map[string]any{}
	for path, typ := range ecsFields {
		parts := strings.Split(path, ".")
		props := root
		for _, p := range parts[:len(parts)-1] {
			node, _ := props[p].(map[string]any)
			if node == nil {
				node = map[string]any{"properties": map[string]any{}}
				props[p] = node
			}
			props = node["properties"].(map[string]any)
		}
		switch typ {
		case ecsFlat:
			props[parts[len(parts)-1]] = flat
		case ecsKeyword:
			props[parts[len(parts)-1]] = map[string]any{"type": "keyword", "ignore_above": keywordLimit}
		default:
			props[parts[len(parts)-1]] = map[string]any{"type": string(typ)}
		}
	}
	body := map[string]any{"mappings": map[string]any{"dynamic": false, "properties": root}}
	return json.MarshalIndent(body, "", "  ")
}
