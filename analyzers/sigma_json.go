package analyzers

import (
	"encoding/json"

	"triage/analyzers/sigma"
	"triage/timeline"
)

// decodeFlatJSON reads an events.data object into Sigma fields: by hand
// when it is the object of strings the timeline writes
// (timeline.ReadFlatJSON), through encoding/json otherwise.
func decodeFlatJSON(data string, f sigma.Fields) error {
	if timeline.ReadFlatJSON(data, f.Add) {
		return nil
	}
	clear(f)
	var m map[string]any
	if err := json.Unmarshal([]byte(data), &m); err != nil {
		return err
	}
	for k, v := range m {
		switch v := v.(type) {
		case string:
			f.Add(k, v)
		case nil:
			f.Add(k, "")
		default:
			b, _ := json.Marshal(v)
			f.Add(k, string(b))
		}
	}
	return nil
}
