-- +goose Up
-- An applied event's before/after documents live in its audit entry only.
ALTER TABLE events ADD COLUMN audit_seq BIGINT NOT NULL DEFAULT 0;
-- Leaner indexes: only scheduled and unprovisioned events are looked up by state.
DROP INDEX events_type;
DROP INDEX events_due;
DROP INDEX events_unprovisioned;
CREATE INDEX events_due ON events (effective_at) WHERE state = 'scheduled';
CREATE INDEX events_unprovisioned ON events (id) WHERE provisioned = 0;

-- +goose Down
DROP INDEX events_unprovisioned;
DROP INDEX events_due;
CREATE INDEX events_unprovisioned ON events (provisioned, state, id);
CREATE INDEX events_due ON events (state, effective_at);
CREATE INDEX events_type ON events (type, id);
ALTER TABLE events DROP COLUMN audit_seq;
