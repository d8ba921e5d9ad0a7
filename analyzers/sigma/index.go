package sigma

import (
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
)

// RuleSet indexes compiled rules by the channel and event id their
// logsource maps to, so that an event meets only the rules of its log.
type RuleSet struct {
	rules   []*Rule
	byKey   map[sourceKey][]entry // exact channel and event id
	byChan  map[string][]entry    // every event of a channel
	anyChan []entry               // every Windows event
	// merged is the three merged, per key seen (sourceKey → *bucket): a
	// scan's workers look up a bucket per event and Match, and taking a
	// lock for it was a fifth of MayMatchJSON.
	merged  sync.Map
	nMerged int
	shared  map[string]*sharedBucket // buckets by their rule lists: keys meeting the same rules share one
	parts   map[string]*part         // parts by their rules
	index   map[*Rule]int
	mu      sync.Mutex // guards nMerged, shared, parts and nGates, so that Matchers may run at once
	nGates  int        // the gates of the buckets built, numbered for the Matchers' counts
	own     *Matcher   // RuleSet.Match's and MayMatchJSON's
}

type sourceKey struct {
	channel string
	eventID int
}

type entry struct {
	rule *Rule
	view View
}

// bucket is what one channel and event id meets: the rules per view, in
// parts, and the raw-text filter over their literals (rawtext.go).
type bucket struct {
	views [viewCount][]*Rule
	parts [viewCount][]*part // views' rules, part after part
	raw   *rawFilter         // the literals as an event's JSON text holds them, nil when that cannot tell

	// A view in two parts scans an event's values twice, once a part: a
	// process start some 10% slower. Once the bucket has met joinAfter
	// events, and so pays for it, each such view has a prefilter of its
	// own over all its rules (joined, nil until then).
	split  bool // some view is in two parts
	met    atomic.Int64
	join   sync.Once
	joined atomic.Pointer[[viewCount]*prefilter]
}

// joinAfter is how many events a bucket meets in parts: a prefilter over
// 1,400 rules takes some 45 ms to build, some 15,000 process starts'
// second scans. A variable, for the tests.
var joinAfter int64 = 16384

// part is rules of a view, with the prefilter over their literals
// (prefilter.go). Buckets share their parts: the process_creation rules
// meet Sysmon's event 1 natively and Security's 4688 in its Sysmon view,
// the rules of a channel every event id of it, and a prefilter over 1,400
// rules took some 45 ms to build.
type part struct {
	rules []*Rule
	pre   *prefilter
	once  sync.Once
}

const viewCount = 2

// maxMergedBuckets bounds the cache of merged buckets; hostile logs could
// carry any number of channel names.
const maxMergedBuckets = 4096

// NewRuleSet indexes rules; the order of rules is the order of matches.
func NewRuleSet(rules []*Rule) *RuleSet {
	s := &RuleSet{rules: rules, byKey: map[sourceKey][]entry{}, byChan: map[string][]entry{},
		shared: map[string]*sharedBucket{}, parts: map[string]*part{}, index: map[*Rule]int{}}
	for i, r := range rules {
		s.index[r] = i
		for _, src := range r.Sources {
			e := entry{rule: r, view: src.View}
			switch {
			case src.Channel == "":
				s.anyChan = append(s.anyChan, e)
			case len(src.EventIDs) == 0:
				s.byChan[src.Channel] = append(s.byChan[src.Channel], e)
			default:
				for _, id := range src.EventIDs {
					k := sourceKey{src.Channel, id}
					s.byKey[k] = append(s.byKey[k], e)
				}
			}
		}
	}
	return s
}

// Rules returns the indexed rules.
func (s *RuleSet) Rules() []*Rule { return s.rules }

func (s *RuleSet) bucket(channel string, eventID int) *bucket {
	k := sourceKey{channel, eventID}
	if b, ok := s.merged.Load(k); ok {
		return b.(*bucket)
	}
	// A view's rules are in two parts: those of the channel and event id,
	// then those of the channel and of every channel. A rule met again is
	// in the first part only. The second part is one prefilter, not two,
	// so that an event's values are scanned once for both lists: the
	// product-only rules are in every bucket.
	var parts [viewCount][][]*Rule
	seen := map[entry]bool{}
	for _, lists := range [][][]entry{{s.byKey[k]}, {s.byChan[channel], s.anyChan}} {
		var rules [viewCount][]*Rule
		for _, list := range lists {
			for _, e := range list {
				if !seen[e] {
					seen[e] = true
					rules[e.view] = append(rules[e.view], e.rule)
				}
			}
		}
		for v := range rules {
			if len(rules[v]) > 0 {
				parts[v] = append(parts[v], rules[v])
			}
		}
	}
	// Every Security event id meets the same service rules, and every key
	// the product-only rules: the rule lists repeat, and so can the bucket.
	var sig []byte
	for v := range parts {
		sig = append(sig, byte(v), ':')
		for _, rules := range parts[v] {
			sig = s.appendSignature(sig, rules)
			sig = append(sig, '|')
		}
	}
	s.mu.Lock()
	sb := s.shared[string(sig)]
	if sb == nil {
		sb = &sharedBucket{}
		if len(s.shared) < maxMergedBuckets {
			s.shared[string(sig)] = sb
		}
	}
	s.mu.Unlock()
	// Built outside the lock, so that Matchers meeting other keys go on
	// meanwhile; those meeting the same rules wait for this build.
	sb.once.Do(func() { sb.b = s.build(parts) })
	s.mu.Lock()
	if s.nMerged < maxMergedBuckets {
		if _, loaded := s.merged.LoadOrStore(k, sb.b); !loaded {
			s.nMerged++
		}
	}
	s.mu.Unlock()
	return sb.b
}

// sharedBucket is the bucket of one rule list, built once.
type sharedBucket struct {
	once sync.Once
	b    *bucket // nil when the list is empty
}

// build makes the bucket of the rules per view, in parts; nil for none.
func (s *RuleSet) build(parts [viewCount][][]*Rule) *bucket {
	b := &bucket{}
	empty := true
	for v := range parts {
		for _, rules := range parts[v] {
			b.views[v] = append(b.views[v], rules...)
			b.parts[v] = append(b.parts[v], s.part(rules))
			empty = false
		}
		b.split = b.split || len(parts[v]) > 1
	}
	if empty {
		return nil
	}
	if b.raw = newRawFilter(b); b.raw != nil {
		s.mu.Lock()
		s.number(&b.raw.gates)
		s.mu.Unlock()
	}
	return b
}

// prefilters returns the bucket's prefilter per view once its parts are
// joined (see bucket), counting the event; nil while its parts serve.
func (b *bucket) prefilters(s *RuleSet) *[viewCount]*prefilter {
	if !b.split {
		return nil
	}
	if p := b.joined.Load(); p != nil {
		return p
	}
	if b.met.Add(1) < joinAfter {
		return nil
	}
	b.join.Do(func() {
		var pres [viewCount]*prefilter
		for v, pts := range b.parts {
			switch {
			case len(pts) == 1:
				pres[v] = pts[0].pre
			case len(pts) > 1:
				pres[v] = newPrefilter(b.views[v])
				s.mu.Lock()
				s.number(&pres[v].gates)
				s.mu.Unlock()
			}
		}
		b.joined.Store(&pres)
	})
	return b.joined.Load()
}

// part returns the part of rules, its prefilter built once.
func (s *RuleSet) part(rules []*Rule) *part {
	sig := string(s.appendSignature(nil, rules))
	s.mu.Lock()
	pt := s.parts[sig]
	if pt == nil {
		pt = &part{rules: rules}
		if len(s.parts) < maxMergedBuckets { // as many as buckets
			s.parts[sig] = pt
		}
	}
	s.mu.Unlock()
	pt.once.Do(func() {
		pt.pre = newPrefilter(pt.rules)
		s.mu.Lock()
		s.number(&pt.pre.gates)
		s.mu.Unlock()
	})
	return pt
}

// appendSignature appends the indexes of rules, which name the list.
func (s *RuleSet) appendSignature(sig []byte, rules []*Rule) []byte {
	for _, r := range rules {
		sig = strconv.AppendInt(sig, int64(s.index[r]), 10)
		sig = append(sig, ',')
	}
	return sig
}

// Reads is what the rules of a set read of the event logs: every event of
// Channels, and of the channels of EventIDs the events with those ids, or
// with All every event of every log. A caller may leave the rest unread.
type Reads struct {
	All      bool
	Channels []string         // sorted
	EventIDs map[string][]int // by channel, none of Channels; sorted
}

// Reads returns what the rules read: All when some rule reads every
// channel (a logsource of the product alone).
func (s *RuleSet) Reads() Reads {
	if len(s.anyChan) > 0 {
		return Reads{All: true}
	}
	var r Reads
	for c := range s.byChan {
		r.Channels = append(r.Channels, c)
	}
	sort.Strings(r.Channels)
	for k := range s.byKey {
		if _, whole := s.byChan[k.channel]; whole {
			continue
		}
		if r.EventIDs == nil {
			r.EventIDs = map[string][]int{}
		}
		r.EventIDs[k.channel] = append(r.EventIDs[k.channel], k.eventID)
	}
	for _, ids := range r.EventIDs {
		sort.Ints(ids)
	}
	return r
}

// Wants reports whether any rule reads events of this channel and event
// id, so a caller can skip decoding the others.
func (s *RuleSet) Wants(channel string, eventID int) bool {
	return s.bucket(channel, eventID) != nil
}

// number gives g the index of its counts in every Matcher; s.mu is held.
func (s *RuleSet) number(g *gates) {
	g.id = s.nGates
	s.nGates++
}

// Matcher matches events against a RuleSet on one goroutine: the counts
// and buffers that matching changes are its own, the rules and the
// buckets the set's, so that goroutines may match at once, each with a
// Matcher of its own.
type Matcher struct {
	set    *RuleSet
	views  [viewCount]view // reused from event to event
	cur    *view           // the view being matched, for Matched
	counts []*gateCount    // by gates id, made as their buckets are met
	raw    rawScan         // MayMatchJSON's, reused from event to event
	// view4688 is the Sysmon view of the 4688 being matched, reused
	// from event to event.
	view4688 Fields
}

// NewMatcher returns a Matcher of s for one goroutine.
func (s *RuleSet) NewMatcher() *Matcher {
	m := &Matcher{set: s}
	m.raw.init()
	return m
}

func (m *Matcher) count(g *gates) *gateCount {
	if g.id >= len(m.counts) {
		m.counts = append(m.counts, make([]*gateCount, g.id+1-len(m.counts))...)
	}
	c := m.counts[g.id]
	if c == nil {
		c = newGateCount(g)
		m.counts[g.id] = c
	}
	return c
}

// Match is a Matcher's Match on the set's own Matcher; it and
// MayMatchJSON are for one goroutine at a time.
func (s *RuleSet) Match(channel string, eventID int, f Fields, hit func(r *Rule, seen Fields)) {
	s.matcher().Match(channel, eventID, f, hit)
}

// MayMatchJSON is a Matcher's MayMatchJSON on the set's own Matcher.
func (s *RuleSet) MayMatchJSON(channel string, eventID int, data, provider, computer string, level int, recordID int64) bool {
	return s.matcher().MayMatchJSON(channel, eventID, data, provider, computer, level, recordID)
}

func (s *RuleSet) matcher() *Matcher {
	if s.own == nil {
		s.own = s.NewMatcher()
	}
	return s.own
}

// Match calls hit for every rule that matches the event, in rule order
// within each view, with the fields the rule saw: the Matcher writes over
// them at its next Match, so a hit that keeps them clones them.
func (m *Matcher) Match(channel string, eventID int, f Fields, hit func(r *Rule, seen Fields)) {
	b := m.set.bucket(channel, eventID)
	if b == nil {
		return
	}
	joined := b.prefilters(m.set)
	for v := View(0); v < viewCount; v++ {
		if len(b.parts[v]) == 0 {
			continue
		}
		vf := f
		if v == View4688AsSysmon {
			if m.view4688 == nil {
				m.view4688 = make(Fields, len(f)+8)
			}
			vf = sysmonView4688Into(m.view4688, f)
		}
		ev := &m.views[v]
		ev.reset(vf)
		m.cur = ev
		try := func(rules []*Rule, p *prefilter) {
			p.candidates(m.count(&p.gates), ev, func(i int) {
				if r := rules[i]; r.match(ev) {
					hit(r, vf)
				}
			})
		}
		if joined != nil {
			try(b.views[v], joined[v])
			continue
		}
		for _, pt := range b.parts[v] {
			try(pt.rules, pt.pre)
		}
	}
}

// Matched is Rule.Matched of the event being matched, for a hit of
// Match to call: it reads the values the match has lowered already.
func (m *Matcher) Matched(r *Rule) []FieldValue { return r.matched(m.cur) }

// SystemFields adds the System values Sigma names (EventID, Channel,
// Provider_Name, Computer, Level, EventRecordID) to an event's fields.
// A reused Fields keeps their slices from event to event (Reset).
func (f Fields) SystemFields(eventID int, channel, provider, computer string, level int, recordID int64) {
	f.set("EventID", strconv.Itoa(eventID))
	f.set("Channel", channel)
	f.set("Provider_Name", provider)
	f.set("Computer", computer)
	f.set("Level", strconv.Itoa(level))
	f.set("EventRecordID", strconv.FormatInt(recordID, 10))
}

// set makes value the field's only one.
func (f Fields) set(name, value string) { f[name] = append(f[name][:0], value) }
