-- +goose Up
-- Lifecycle cases: one per lifecycle event a playbook applies to, with its tasks.
CREATE TABLE cases (
    id        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind      TEXT NOT NULL,
    source    TEXT NOT NULL DEFAULT '',
    person    TEXT NOT NULL,
    status    TEXT NOT NULL,
    event_id  BIGINT NOT NULL DEFAULT 0,
    effective BIGINT NOT NULL DEFAULT 0,
    opened_at BIGINT NOT NULL,
    closed_at BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX cases_status ON cases (status, id);
CREATE INDEX cases_person ON cases (person, id);
CREATE UNIQUE INDEX cases_event ON cases (event_id) WHERE event_id > 0;

-- Workflow facts of a task that belongs to a case.
ALTER TABLE tasks ADD COLUMN step TEXT NOT NULL DEFAULT '';
ALTER TABLE tasks ADD COLUMN action TEXT NOT NULL DEFAULT '';
ALTER TABLE tasks ADD COLUMN depends_on TEXT NOT NULL DEFAULT '';
ALTER TABLE tasks ADD COLUMN evidence_kind TEXT NOT NULL DEFAULT '';
ALTER TABLE tasks ADD COLUMN assignee TEXT NOT NULL DEFAULT '';
ALTER TABLE tasks ADD COLUMN escalated_to TEXT NOT NULL DEFAULT '';
ALTER TABLE tasks ADD COLUMN escalated_at BIGINT NOT NULL DEFAULT 0;
CREATE INDEX tasks_due ON tasks (status, due);

-- The workflow's cursor: an event is handled (a case opened for it, or
-- none needed) once. Events stored before this migration count as handled.
ALTER TABLE events ADD COLUMN cased INTEGER NOT NULL DEFAULT 0;
UPDATE events SET cased = 1;
CREATE INDEX events_uncased ON events (id) WHERE cased = 0;

-- +goose Down
DROP INDEX events_uncased;
ALTER TABLE events DROP COLUMN cased;
DROP INDEX tasks_due;
ALTER TABLE tasks DROP COLUMN escalated_at;
ALTER TABLE tasks DROP COLUMN escalated_to;
ALTER TABLE tasks DROP COLUMN assignee;
ALTER TABLE tasks DROP COLUMN evidence_kind;
ALTER TABLE tasks DROP COLUMN depends_on;
ALTER TABLE tasks DROP COLUMN action;
ALTER TABLE tasks DROP COLUMN step;
DROP TABLE cases;
