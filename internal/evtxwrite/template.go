package evtxwrite

// System substitution indexes are given in this order, skipping the
// optional parts an event lacks; EventData values follow.

// values lists an event's substitution values in template order.
func (ev *Event) values(recordID uint64) []Value {
	v := []Value{String(ev.Provider)}
	if ev.ProviderGUID != "" {
		v = append(v, GUID(ev.ProviderGUID))
	}
	v = append(v, UInt16(ev.EventID))
	if ev.HasQualifier {
		v = append(v, UInt16(ev.Qualifiers))
	}
	v = append(v, UInt8(ev.Version), UInt8(ev.Level), UInt16(ev.Task), UInt8(ev.Opcode),
		HexInt64(ev.Keywords), FileTime(ev.Time), UInt64(recordID))
	if ev.ActivityID != "" {
		v = append(v, GUID(ev.ActivityID))
	}
	v = append(v, UInt32(ev.ProcessID), UInt32(ev.ThreadID), String(ev.Channel), String(ev.Computer))
	if ev.UserID != "" {
		v = append(v, SID(ev.UserID))
	}
	for _, f := range ev.Data {
		v = append(v, f.Value)
	}
	return v
}

// definition writes the template definition's Binary XML for events of
// ev's shape: a fragment holding the Event element, then EOF.
func (e *encoder) definition(ev *Event) {
	next := 0
	sub := func() int { next++; return next - 1 }
	e.b = append(e.b, tokFragment, 1, 1, 0)
	e.element("Event", []attr{{name: "xmlns", text: eventNamespace, sub: -1}}, -1, 0, func() {
		e.element("System", nil, -1, 0, func() {
			provider := []attr{{name: "Name", sub: sub(), typ: typeString}}
			if ev.ProviderGUID != "" {
				provider = append(provider, attr{name: "Guid", sub: sub(), typ: typeGUID})
			}
			e.element("Provider", provider, -1, 0, nil)
			eventID := sub()
			var qualifiers []attr
			if ev.HasQualifier {
				qualifiers = []attr{{name: "Qualifiers", sub: sub(), typ: typeUint16}}
			}
			e.element("EventID", qualifiers, eventID, typeUint16, nil)
			e.element("Version", nil, sub(), typeUint8, nil)
			e.element("Level", nil, sub(), typeUint8, nil)
			e.element("Task", nil, sub(), typeUint16, nil)
			e.element("Opcode", nil, sub(), typeUint8, nil)
			e.element("Keywords", nil, sub(), typeHexInt64, nil)
			e.element("TimeCreated", []attr{{name: "SystemTime", sub: sub(), typ: typeFileTime}}, -1, 0, nil)
			e.element("EventRecordID", nil, sub(), typeUint64, nil)
			var correlation []attr
			if ev.ActivityID != "" {
				correlation = []attr{{name: "ActivityID", sub: sub(), typ: typeGUID}}
			}
			e.element("Correlation", correlation, -1, 0, nil)
			pid, tid := sub(), sub()
			e.element("Execution", []attr{{name: "ProcessID", sub: pid, typ: typeUint32},
				{name: "ThreadID", sub: tid, typ: typeUint32}}, -1, 0, nil)
			e.element("Channel", nil, sub(), typeString, nil)
			e.element("Computer", nil, sub(), typeString, nil)
			var security []attr
			if ev.UserID != "" {
				security = []attr{{name: "UserID", sub: sub(), typ: typeSID}}
			}
			e.element("Security", security, -1, 0, nil)
		})
		if len(ev.Data) == 0 {
			return
		}
		e.element("EventData", nil, -1, 0, func() {
			for _, f := range ev.Data {
				var name []attr
				if f.Name != "" {
					name = []attr{{name: "Name", text: f.Name, sub: -1}}
				}
				e.element("Data", name, sub(), f.Value.Type(), nil)
			}
		})
	})
	e.u8(tokEOF)
}

// instance writes the template instance of ev: a reference to the chunk's
// definition of its shape, or the definition inline, then the values.
func (e *encoder) instance(ev *Event, vals []Value) {
	shape := ev.shape()
	id, guid := templateID(shape)
	e.u8(tokTemplate)
	e.u8(1)
	e.u32(id)
	off, ok := e.c.templates[shape]
	if !ok {
		off, ok = e.templates[shape]
	}
	if ok {
		e.u32(off)
	} else {
		off = uint32(e.pos() + 4)
		e.u32(off)
		bucket := id % 32
		e.u32(e.tmpls[bucket]) // the next definition in the same template table bucket
		e.tmpls[bucket] = off
		e.b = append(e.b, guid[:]...)
		sizeAt := len(e.b)
		e.u32(0)
		e.definition(ev)
		e.patch32(sizeAt, uint32(len(e.b)-sizeAt-4))
		e.templates[shape] = off
	}
	e.u32(uint32(len(vals)))
	for _, v := range vals {
		e.u16(uint16(len(v.data)))
		e.u8(v.Type())
		e.u8(0)
	}
	for _, v := range vals {
		e.b = append(e.b, v.data...)
	}
}
