-- +goose Up
-- Operations that failed and wait for another try are "retrying" (before,
-- they went back to "pending" and only last_error told them apart), and a
-- manual app's operation waits for its task (task_id) to be completed.
ALTER TABLE operations ADD COLUMN task_id BIGINT NOT NULL DEFAULT 0;
UPDATE operations SET state = 'retrying' WHERE state = 'pending' AND attempts > 0;
CREATE INDEX operations_task ON operations (task_id);

-- +goose Down
DROP INDEX operations_task;
UPDATE operations SET state = 'pending' WHERE state IN ('retrying', 'waiting');
ALTER TABLE operations DROP COLUMN task_id;
