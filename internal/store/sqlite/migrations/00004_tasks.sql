-- +goose Up
CREATE TABLE tasks (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id      BIGINT NOT NULL DEFAULT 0,
    source       TEXT NOT NULL DEFAULT '',
    person       TEXT NOT NULL DEFAULT '',
    team         TEXT NOT NULL,
    title        TEXT NOT NULL,
    detail       TEXT NOT NULL DEFAULT '',
    status       TEXT NOT NULL,
    kind         TEXT NOT NULL,
    due          BIGINT NOT NULL DEFAULT 0,
    app          TEXT NOT NULL DEFAULT '',
    evidence     TEXT NOT NULL DEFAULT '',
    completed_by TEXT NOT NULL DEFAULT '',
    completed_at BIGINT NOT NULL DEFAULT 0,
    created_at   BIGINT NOT NULL
);
CREATE INDEX tasks_team ON tasks (team, status, id);
CREATE INDEX tasks_person ON tasks (person, id);
CREATE INDEX tasks_case ON tasks (case_id, id);

-- +goose Down
DROP TABLE tasks;
