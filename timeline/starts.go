package timeline

import (
	"strconv"
	"strings"
	"time"
)

// One process start is often recorded several times: by Security 4688, by
// Sysmon 1, as a prefetch run time and, for PowerShell, by the engine's 400
// event, all within moments of each other. Counting each record as a run
// would overstate what happened, so the analyzers and the report count
// starts through a StartSet.

// SameStartWindow is how far apart two records of one start may lie. On the
// corpus hosts they are milliseconds apart; two seconds leaves room for a
// loaded machine.
const SameStartWindow = 2 * time.Second

// maxStartsPerSecond bounds the records kept for one program in one second:
// past a few hundred the log is flooded or forged, and further starts still
// count, unmatched, so that such a second costs no more than an ordinary one.
const maxStartsPerSecond = 256

// RecordKind names the kind of record an event is (the log and event id, or
// the artifact kind), to tell two records of one start from two starts in
// the same log.
func RecordKind(source, channel string, eventID int) string {
	if source == "evtx" {
		return channel + "/" + strconv.Itoa(eventID)
	}
	return source
}

// StartSet counts distinct process starts, recognising a record of a start
// already seen through another kind of record. The zero value is ready.
//
// A set that keeps every start holds one entry a program and second: the
// generic interpreters analyzer's held 1.3 M on a 4 GiB log. An entry is a
// number for the host and program, the second, and per record its
// nanoseconds and a number for its kind, 48 bytes; with the strings in it
// (and the rows' strings they were cut from) it took some 200.
type StartSet struct {
	// InTimeOrder says the records come in time order: a record further
	// than SameStartWindow behind the latest can match none to come, and
	// is forgotten, so that the set holds the window, not every start.
	InTimeOrder bool

	seen     map[startKey]startRecords
	order    []startKey // with InTimeOrder, the keys of seen from order[head], oldest first
	head     int
	programs map[program]uint32 // host and program names, numbered
	kinds    map[string]uint32  // record kinds, numbered
}

type program struct{ host, image string }

type startKey struct {
	program uint32
	second  int64
}

// startRecords are the records of one program in one second.
type startRecords struct {
	first startRecord
	more  []startRecord
}

type startRecord struct {
	nanosecond int32 // within the key's second
	kind       uint32
}

// Add records a start of the program at process (a Windows or prefetch
// volume path; the file name, case aside, identifies the program) on host
// at ts, from a record of the given kind, and reports whether it is a new
// start (false: a record of another kind within SameStartWindow already
// gave it).
func (s *StartSet) Add(host, process, kind string, ts time.Time) bool {
	if s.seen == nil {
		s.seen, s.programs, s.kinds = map[startKey]startRecords{}, map[program]uint32{}, map[string]uint32{}
	}
	sec, nsec := ts.Unix(), int64(ts.Nanosecond())
	reach := int64(SameStartWindow / time.Second)
	if s.InTimeOrder {
		s.forget(sec - reach)
	}
	image := strings.ToLower(process[strings.LastIndexAny(process, `\/`)+1:])
	id := s.number(host, image)
	k := s.kindNumber(kind)
	for d := -reach; d <= reach; d++ {
		rs, ok := s.seen[startKey{id, sec + d}]
		if !ok {
			continue
		}
		// Records of a key lie d seconds from ts: no overflow.
		near := func(r startRecord) bool {
			gap := d*int64(time.Second) + int64(r.nanosecond) - nsec
			return r.kind != k && -int64(SameStartWindow) <= gap && gap <= int64(SameStartWindow)
		}
		if near(rs.first) {
			return false
		}
		for _, r := range rs.more {
			if near(r) {
				return false
			}
		}
	}
	key, r := startKey{id, sec}, startRecord{int32(nsec), k}
	switch rs, ok := s.seen[key]; {
	case !ok:
		s.seen[key] = startRecords{first: r}
		if s.InTimeOrder {
			s.order = append(s.order, key)
		}
	case 1+len(rs.more) < maxStartsPerSecond:
		rs.more = append(rs.more, r)
		s.seen[key] = rs
	}
	return true
}

// number returns the number of a host's program, copying the names: a
// caller's are often cut from a row it will drop.
func (s *StartSet) number(host, image string) uint32 {
	p := program{host, image}
	id, ok := s.programs[p]
	if !ok {
		id = uint32(len(s.programs))
		s.programs[program{strings.Clone(host), strings.Clone(image)}] = id
	}
	return id
}

func (s *StartSet) kindNumber(kind string) uint32 {
	k, ok := s.kinds[kind]
	if !ok {
		k = uint32(len(s.kinds))
		s.kinds[strings.Clone(kind)] = k
	}
	return k
}

// forget drops the records of the seconds before second. A window left
// empty forgets the names' numbers too, so that a stream of ever new
// names holds what its window does.
func (s *StartSet) forget(second int64) {
	for s.head < len(s.order) && s.order[s.head].second < second {
		delete(s.seen, s.order[s.head])
		s.head++
	}
	if len(s.seen) == 0 && (len(s.programs) > 0 || len(s.order) > 0) {
		s.order, s.head = s.order[:0], 0
		clear(s.programs)
		clear(s.kinds)
	}
	if s.head > len(s.order)/2 && s.head > 1024 {
		s.order = append(s.order[:0], s.order[s.head:]...)
		s.head = 0
	}
}
