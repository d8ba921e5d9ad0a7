package evtxwrite

import (
	"strconv"
	"strings"
	"time"
)

// Event is one event to write. The record id and EventRecordID are given by
// the Writer, in order from 1.
type Event struct {
	Provider     string
	ProviderGUID string // {…}; omitted when empty
	EventID      uint16
	Qualifiers   uint16
	HasQualifier bool // write EventID's Qualifiers attribute (classic providers)
	Version      uint8
	Level        uint8
	Task         uint16
	Opcode       uint8
	Keywords     uint64
	Time         time.Time // TimeCreated and the record's written time
	ActivityID   string    // GUID; the Correlation element is empty when ""
	ProcessID    uint32
	ThreadID     uint32
	Channel      string
	Computer     string
	UserID       string // SID; the Security element is empty when ""

	// Data is the EventData, in order. A field with an empty Name is an
	// unnamed <Data> element, as the classic Windows PowerShell log writes.
	Data []Field
}

// Field is one EventData value.
type Field struct {
	Name  string
	Value Value
}

// Str is a shorthand for a string field.
func Str(name, value string) Field { return Field{name, String(value)} }

// shape is what makes two events share a template: the optional System
// parts present and the EventData names with their value types.
func (ev *Event) shape() string {
	var b strings.Builder
	for _, present := range []bool{ev.ProviderGUID != "", ev.HasQualifier, ev.ActivityID != "", ev.UserID != ""} {
		if present {
			b.WriteByte('1')
		} else {
			b.WriteByte('0')
		}
	}
	for _, f := range ev.Data {
		b.WriteByte('|')
		b.WriteString(strconv.Quote(f.Name))
		b.WriteByte(':')
		b.WriteString(strconv.Itoa(int(f.Value.Type())))
	}
	return b.String()
}
