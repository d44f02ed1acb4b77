-- +goose Up
-- Approval clocks: the current step of a pending request became current at
-- step_since and is due at due_at; its approvers are reminded once
-- (reminded_at) and, past the deadline, it is escalated once per step to
-- escalated_to (an employee ID), who may then approve that step too.
ALTER TABLE requests ADD COLUMN step_since BIGINT NOT NULL DEFAULT 0;
ALTER TABLE requests ADD COLUMN due_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE requests ADD COLUMN reminded_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE requests ADD COLUMN escalated_to TEXT NOT NULL DEFAULT '';
ALTER TABLE requests ADD COLUMN escalated_at BIGINT NOT NULL DEFAULT 0;
UPDATE requests SET step_since = created_at;
CREATE INDEX requests_due ON requests (state, due_at);
CREATE INDEX requests_decided ON requests (decided_at);

-- Notifications about an access request.
ALTER TABLE notifications ADD COLUMN request_id BIGINT NOT NULL DEFAULT 0;
CREATE INDEX notifications_request ON notifications (request_id, id);

-- +goose Down
DROP INDEX notifications_request;
ALTER TABLE notifications DROP COLUMN request_id;
DROP INDEX requests_decided;
DROP INDEX requests_due;
ALTER TABLE requests DROP COLUMN escalated_at;
ALTER TABLE requests DROP COLUMN escalated_to;
ALTER TABLE requests DROP COLUMN reminded_at;
ALTER TABLE requests DROP COLUMN due_at;
ALTER TABLE requests DROP COLUMN step_since;
