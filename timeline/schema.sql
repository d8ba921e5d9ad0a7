-- triage timeline schema. Bump schemaVersion in db.go with any change, and
-- document the change in README.md.
--
-- Times: every *_ts / ts column is UTC ISO 8601 with 7 fractional digits and a
-- Z ("2023-01-01T12:00:00.1234567Z"); *_ns columns hold the same instant as
-- nanoseconds since the Unix epoch, for sorting and ranges.
-- JSON columns hold objects or arrays encoded with Go's encoding/json (sorted
-- keys), so that reruns give the same bytes.

-- One row per run that wrote into the case, in order: the first run, then
-- each triage run --add. The case is complete when every row is.
CREATE TABLE runs (
	id            INTEGER PRIMARY KEY,
	kind          TEXT NOT NULL DEFAULT 'run', -- run: made the case | add: added evidence to it
	tool_version  TEXT NOT NULL,
	tool_commit   TEXT NOT NULL,
	go_version    TEXT NOT NULL,
	command_line  TEXT NOT NULL,          -- JSON array of argv
	case_id       TEXT NOT NULL DEFAULT '',
	examiner      TEXT NOT NULL DEFAULT '',
	tz            TEXT NOT NULL DEFAULT 'UTC', -- IANA zone used for local times
	business_hours TEXT NOT NULL DEFAULT '08-18',
	evidence      TEXT NOT NULL,          -- JSON array of evidence roots as given
	started_ts    TEXT NOT NULL,
	finished_ts   TEXT NOT NULL DEFAULT '',
	status        TEXT NOT NULL DEFAULT 'in-progress', -- in-progress | complete | interrupted | failed
	status_detail TEXT NOT NULL DEFAULT '', -- why a run is interrupted or failed
	not_clean     TEXT NOT NULL DEFAULT '[]' -- JSON array: why a complete run is not clean (files not examined, evidence changed); an add's row says it for the whole case
);

-- One row per evidence root a run opened, with where its host name came
-- from: the examiner (--host), the logs' Computer field, or the root's
-- folder name when the logs name no computer or one another root names.
CREATE TABLE hosts (
	id            INTEGER PRIMARY KEY,
	run_id        INTEGER NOT NULL REFERENCES runs(id),
	name          TEXT NOT NULL,
	evidence_root TEXT NOT NULL,          -- as given on the command line
	evidence_path TEXT NOT NULL DEFAULT '', -- absolute, links resolved: what --add compares
	name_source   TEXT NOT NULL,          -- --host | computer | folder
	computer      TEXT NOT NULL DEFAULT '', -- the Computer field of the root's logs, '' when none
	name_detail   TEXT NOT NULL DEFAULT '' -- why the name is not the Computer field
);

CREATE TABLE artifacts (
	id            INTEGER PRIMARY KEY,
	host          TEXT NOT NULL,
	evidence_root TEXT NOT NULL,          -- as given on the command line
	path          TEXT NOT NULL,          -- slash-separated, relative to the root; inside an image: "p2/Windows/…"
	kind          TEXT NOT NULL,          -- evtx | prefetch | history | batch | script
	size          INTEGER NOT NULL,
	mtime_ts      TEXT NOT NULL DEFAULT '',
	sha256        TEXT NOT NULL,
	md5           TEXT NOT NULL,
	status        TEXT NOT NULL,          -- ok | damaged | failed
	records       INTEGER NOT NULL DEFAULT 0,
	recovered     INTEGER NOT NULL DEFAULT 0,
	errors        INTEGER NOT NULL DEFAULT 0,
	error_list    TEXT NOT NULL DEFAULT '[]', -- JSON array of "what at offset 0x…"
	flags         TEXT NOT NULL DEFAULT '{}', -- JSON object, e.g. {"dirty":true,"no_crc":false,"crc_errors":2}
	first_record  INTEGER,                -- lowest record id seen (evtx)
	last_record   INTEGER,                -- highest record id seen (evtx)
	missing_records INTEGER NOT NULL DEFAULT 0, -- ids absent between first and last: a sign of deletion
	integrity_error TEXT NOT NULL DEFAULT '' -- set when the file's hashes at the end of the run differ from those before parsing
);

-- Every file under an evidence root that was not examined, with why: the
-- reasons are collectors.SkipReason's words (not-artifact, unreadable,
-- too-large, symlink, special-file, name-too-long, duplicate-entry,
-- expansion-limit).
CREATE TABLE skipped (
	id            INTEGER PRIMARY KEY,    -- deterministic: evidence roots in command-line order, then the collector's order
	host          TEXT NOT NULL,
	evidence_root TEXT NOT NULL,
	path          TEXT NOT NULL,          -- slash-separated, relative to the root, as stored in the evidence
	size          INTEGER NOT NULL,       -- as the container states it; -1 when unknown
	reason        TEXT NOT NULL,
	detail        TEXT NOT NULL DEFAULT '' -- the error or the limit, in words
);

CREATE TABLE events (
	id              INTEGER PRIMARY KEY,  -- deterministic: artifacts in (host, path) order, records in file order
	ts              TEXT NOT NULL,
	ts_ns           INTEGER NOT NULL,
	host            TEXT NOT NULL,
	artifact_id     INTEGER NOT NULL REFERENCES artifacts(id),
	record_id       INTEGER NOT NULL,     -- evtx EventRecordID, prefetch run index, line number for text files
	source          TEXT NOT NULL,        -- evtx | prefetch | history | batch | script
	event_id        INTEGER NOT NULL DEFAULT 0,
	channel         TEXT NOT NULL DEFAULT '',
	provider        TEXT NOT NULL DEFAULT '',
	computer        TEXT NOT NULL DEFAULT '',
	user            TEXT NOT NULL DEFAULT '',
	level           INTEGER NOT NULL DEFAULT 0,
	process         TEXT NOT NULL DEFAULT '', -- full image path where known
	parent_process  TEXT NOT NULL DEFAULT '',
	command_line    TEXT NOT NULL DEFAULT '',
	script_block_id TEXT NOT NULL DEFAULT '',
	recovered       INTEGER NOT NULL DEFAULT 0,
	summary         TEXT NOT NULL,
	data            TEXT NOT NULL DEFAULT '{}' -- JSON object of every field
);
-- The events indexes are in indexes.sql: the Writer builds them once the bulk
-- of the events is in (BuildIndexes, or else Close), which is cheaper than
-- keeping them up to date row by row.

CREATE TABLE scripts (
	id              INTEGER PRIMARY KEY,
	host            TEXT NOT NULL,
	script_block_id TEXT NOT NULL,
	first_ts        TEXT NOT NULL,
	last_ts         TEXT NOT NULL,
	parts_expected  INTEGER NOT NULL,
	parts_found     INTEGER NOT NULL,
	missing_parts   TEXT NOT NULL DEFAULT '[]', -- JSON array of MessageNumbers
	sha256          TEXT NOT NULL,        -- of the UTF-8 text
	text            TEXT NOT NULL,
	path            TEXT NOT NULL DEFAULT '', -- script path from the 4104 Path field
	event_ids       TEXT NOT NULL DEFAULT '[]', -- JSON array of events.id, by MessageNumber
	UNIQUE(host, script_block_id)
);
-- The order the report lists and saves scripts in: without it every list
-- sorted every script, text and all, to take the first.
CREATE INDEX scripts_order ON scripts(host, first_ts, script_block_id);

CREATE TABLE incidents (
	id          INTEGER PRIMARY KEY,
	host        TEXT NOT NULL,
	first_ts    TEXT NOT NULL,
	last_ts     TEXT NOT NULL,
	severity    TEXT NOT NULL,
	title       TEXT NOT NULL,
	links       TEXT NOT NULL DEFAULT '[]' -- JSON array of how findings were linked
);

CREATE TABLE findings (
	id             INTEGER PRIMARY KEY,   -- deterministic: analyzers in registry order, then (host, ts_ns, first event id)
	analyzer       TEXT NOT NULL,         -- analyzer ID from the registry
	host           TEXT NOT NULL,
	ts             TEXT NOT NULL,
	ts_ns          INTEGER NOT NULL,
	technique_id   TEXT NOT NULL,         -- e.g. T1059.001
	technique_name TEXT NOT NULL,
	tactic         TEXT NOT NULL,
	related        TEXT NOT NULL DEFAULT '[]', -- JSON array of further technique ids, e.g. ["T1027","T1105"]
	severity       TEXT NOT NULL,         -- informational | low | medium | high | critical
	confidence     TEXT NOT NULL,         -- low | medium | high
	title          TEXT NOT NULL,
	rule           TEXT NOT NULL,         -- why it fired, in one sentence
	matched        TEXT NOT NULL DEFAULT '', -- the text that matched, verbatim
	decoded        TEXT NOT NULL DEFAULT '', -- decoded or deobfuscated form, if any
	score          INTEGER NOT NULL DEFAULT 0, -- 0..100 where the analyzer scores
	features       TEXT NOT NULL DEFAULT '{}', -- JSON object: feature → value behind the score
	incident_id    INTEGER REFERENCES incidents(id),
	rule_id        TEXT NOT NULL DEFAULT '' -- the Sigma rule's id, for analyzer sigma
);
CREATE INDEX findings_host_ts ON findings(host, ts_ns);

-- One row per piece of evidence behind a finding; provenance is copied so a
-- finding can be verified without joining through events.
CREATE TABLE finding_evidence (
	finding_id      INTEGER NOT NULL REFERENCES findings(id),
	event_id        INTEGER NOT NULL REFERENCES events(id),
	artifact_path   TEXT NOT NULL,
	record_id       INTEGER NOT NULL,
	artifact_sha256 TEXT NOT NULL,
	PRIMARY KEY (finding_id, event_id)
);

-- Full-text search over what ran: events_fts and scripts_fts, made only
-- when asked for (fulltext.go), so that a timeline without them says so
-- rather than finding nothing.

-- The Sigma rule set of the last run or hunt (analyzers/sigma.go): one row
-- per rule document read, loaded or not, and the set's hash.
CREATE TABLE sigma_rules (
	id          INTEGER PRIMARY KEY,      -- files in path order, documents in file order
	path        TEXT NOT NULL,
	doc         INTEGER NOT NULL DEFAULT 0, -- document in the file, from 0
	line        INTEGER NOT NULL DEFAULT 0,
	file_sha256 TEXT NOT NULL DEFAULT '',
	rule_id     TEXT NOT NULL DEFAULT '',
	title       TEXT NOT NULL DEFAULT '',
	status      TEXT NOT NULL DEFAULT '',
	level       TEXT NOT NULL DEFAULT '',
	author      TEXT NOT NULL DEFAULT '',
	refs        TEXT NOT NULL DEFAULT '[]', -- JSON array of the rule's references
	state       TEXT NOT NULL,            -- loaded | not selected | refused
	reason      TEXT NOT NULL DEFAULT '', -- why not loaded, e.g. "unsupported modifier"
	detail      TEXT NOT NULL DEFAULT ''
);
CREATE TABLE sigma_ruleset (
	sha256      TEXT NOT NULL,            -- SHA-256 of the sorted file SHA-256s, one hex line each
	files       INTEGER NOT NULL,
	loaded      INTEGER NOT NULL,
	not_loaded  INTEGER NOT NULL,
	paths       TEXT NOT NULL DEFAULT '[]' -- JSON array of --sigma paths as given
);
