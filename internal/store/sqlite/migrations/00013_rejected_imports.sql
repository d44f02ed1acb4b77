-- +goose Up
-- A rejected import is stored with its row errors (JSON: row, column,
-- message), never with its rows.
ALTER TABLE imports ADD COLUMN errors TEXT NOT NULL DEFAULT '';
CREATE INDEX imports_status ON imports (status, created_at);
-- The audit trail is read by actor and by action.
CREATE INDEX audit_actor ON audit (actor, seq);
CREATE INDEX audit_action ON audit (action, seq);

-- +goose Down
DROP INDEX audit_action;
DROP INDEX audit_actor;
DROP INDEX imports_status;
ALTER TABLE imports DROP COLUMN errors;
