-- +goose Up
-- The notification outbox: e-mails and chat webhooks to send, written in
-- the transaction of what causes them (a case opened, a reminder, an
-- escalation) and delivered by workers with retries, so nothing is lost
-- while the mail server or the chat tool is down.
CREATE TABLE notifications (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind        TEXT NOT NULL,
    channel     TEXT NOT NULL,
    recipient   TEXT NOT NULL,
    address     TEXT NOT NULL,
    subject     TEXT NOT NULL,
    body        TEXT NOT NULL,
    case_id     BIGINT NOT NULL DEFAULT 0,
    task_id     BIGINT NOT NULL DEFAULT 0,
    step        TEXT NOT NULL DEFAULT '',
    state       TEXT NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    not_before  BIGINT NOT NULL,
    last_error  TEXT NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    sent_at     BIGINT NOT NULL DEFAULT 0,
    lease_owner TEXT NOT NULL DEFAULT '',
    lease_until BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX notifications_due ON notifications (state, not_before, id);
CREATE INDEX notifications_task ON notifications (task_id, id);
CREATE INDEX notifications_case ON notifications (case_id, id);

-- A task's owner is reminded once before its deadline.
ALTER TABLE tasks ADD COLUMN reminded_at BIGINT NOT NULL DEFAULT 0;

-- Clocks: operations of one person, by kind and state.
CREATE INDEX operations_person_kind ON operations (source, employee_id, kind, state);

-- +goose Down
DROP INDEX operations_person_kind;
ALTER TABLE tasks DROP COLUMN reminded_at;
DROP TABLE notifications;
