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
type StartSet struct {
	// InTimeOrder says the records come in time order: a record further
	// than SameStartWindow behind the latest can match none to come, and
	// is forgotten, so that the set holds the window, not every start.
	InTimeOrder bool

	seen  map[startKey][]startRecord
	order []startKey // with InTimeOrder, the keys of seen from order[head], oldest first
	head  int
}

type startKey struct {
	host, image string
	second      int64
}

type startRecord struct {
	kind string
	ts   time.Time
}

// Add records a start of the program at process (a Windows or prefetch
// volume path; the file name, case aside, identifies the program) on host
// at ts, from a record of the given kind, and reports whether it is a new
// start (false: a record of another kind within SameStartWindow already
// gave it).
func (s *StartSet) Add(host, process, kind string, ts time.Time) bool {
	image := strings.ToLower(process[strings.LastIndexAny(process, `\/`)+1:])
	if s.seen == nil {
		s.seen = map[startKey][]startRecord{}
	}
	sec := ts.Unix()
	reach := int64(SameStartWindow / time.Second)
	if s.InTimeOrder {
		s.forget(sec - reach)
	}
	for d := -reach; d <= reach; d++ {
		for _, r := range s.seen[startKey{host, image, sec + d}] {
			if r.kind != kind && r.ts.Sub(ts) <= SameStartWindow && ts.Sub(r.ts) <= SameStartWindow {
				return false
			}
		}
	}
	if k := (startKey{host, image, sec}); len(s.seen[k]) < maxStartsPerSecond {
		if s.InTimeOrder && len(s.seen[k]) == 0 {
			s.order = append(s.order, k)
		}
		s.seen[k] = append(s.seen[k], startRecord{kind, ts})
	}
	return true
}

// forget drops the records of the seconds before second.
func (s *StartSet) forget(second int64) {
	for s.head < len(s.order) && s.order[s.head].second < second {
		delete(s.seen, s.order[s.head])
		s.head++
	}
	if s.head > len(s.order)/2 && s.head > 1024 {
		s.order = append(s.order[:0], s.order[s.head:]...)
		s.head = 0
	}
}
