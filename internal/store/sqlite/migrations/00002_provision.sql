-- +goose Up
ALTER TABLE events ADD COLUMN provisioned INTEGER NOT NULL DEFAULT 0;
CREATE INDEX events_unprovisioned ON events (provisioned, state, id);

CREATE TABLE grants (
    app         TEXT NOT NULL,
    source      TEXT NOT NULL,
    employee_id TEXT NOT NULL,
    entitlement TEXT NOT NULL DEFAULT '',
    state       TEXT NOT NULL,
    reason      TEXT NOT NULL DEFAULT '',
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (app, source, employee_id, entitlement)
);
CREATE INDEX grants_person ON grants (source, employee_id);

CREATE TABLE operations (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    app         TEXT NOT NULL,
    kind        TEXT NOT NULL,
    source      TEXT NOT NULL,
    employee_id TEXT NOT NULL,
    entitlement TEXT NOT NULL DEFAULT '',
    account     TEXT NOT NULL DEFAULT '',
    priority    INTEGER NOT NULL,
    state       TEXT NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    not_before  BIGINT NOT NULL,
    last_error  TEXT NOT NULL DEFAULT '',
    reason      TEXT NOT NULL DEFAULT '',
    import_id   TEXT NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    lease_owner TEXT NOT NULL DEFAULT '',
    lease_until BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX operations_due ON operations (state, priority, id);
CREATE INDEX operations_person ON operations (app, source, employee_id, id);

CREATE TABLE app_state (
    app               TEXT PRIMARY KEY,
    failures          INTEGER NOT NULL DEFAULT 0,
    quarantined_until BIGINT NOT NULL DEFAULT 0,
    last_error        TEXT NOT NULL DEFAULT '',
    last_success      BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE findings (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    kind       TEXT NOT NULL,
    app        TEXT NOT NULL DEFAULT '',
    subject    TEXT NOT NULL,
    detail     TEXT NOT NULL DEFAULT '',
    team       TEXT NOT NULL DEFAULT '',
    status     TEXT NOT NULL,
    first_seen BIGINT NOT NULL,
    last_seen  BIGINT NOT NULL
);
CREATE INDEX findings_kind ON findings (kind, app, status);

-- +goose Down
DROP TABLE findings;
DROP TABLE app_state;
DROP TABLE operations;
DROP TABLE grants;
