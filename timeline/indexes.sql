-- Indexes on the bulk-loaded events table, built by Writer.Close after the
-- last insert. Part of the schema as much as schema.sql is.
CREATE INDEX events_ts ON events(ts_ns);
CREATE INDEX events_host_ts ON events(host, ts_ns);
CREATE INDEX events_event_id ON events(source, event_id);
CREATE INDEX events_process ON events(process);
CREATE INDEX events_artifact ON events(artifact_id, record_id);
