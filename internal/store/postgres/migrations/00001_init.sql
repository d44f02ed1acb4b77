-- +goose Up
CREATE TABLE sources (
    name        TEXT PRIMARY KEY,
    serial      BIGINT NOT NULL DEFAULT 0,
    held_import TEXT NOT NULL DEFAULT ''
);

CREATE TABLE persons (
    source          TEXT NOT NULL,
    employee_id     TEXT NOT NULL,
    display_name    TEXT NOT NULL,
    email           TEXT NOT NULL DEFAULT '',
    title           TEXT NOT NULL DEFAULT '',
    department      TEXT NOT NULL DEFAULT '',
    team            TEXT NOT NULL DEFAULT '',
    business_unit   TEXT NOT NULL DEFAULT '',
    manager_id      TEXT NOT NULL DEFAULT '',
    employment_type TEXT NOT NULL DEFAULT '',
    status          TEXT NOT NULL,
    start_date      TEXT NOT NULL DEFAULT '',
    end_date        TEXT NOT NULL DEFAULT '',
    period          INTEGER NOT NULL DEFAULT 1,
    attributes      TEXT NOT NULL DEFAULT '',
    updated_at      BIGINT NOT NULL,
    PRIMARY KEY (source, employee_id)
);
CREATE INDEX persons_status ON persons (status, employee_id);
CREATE INDEX persons_department ON persons (department, employee_id);
CREATE INDEX persons_manager ON persons (manager_id, employee_id);
CREATE INDEX persons_employee ON persons (employee_id);

CREATE TABLE imports (
    id          TEXT PRIMARY KEY,
    source      TEXT NOT NULL,
    file        TEXT NOT NULL DEFAULT '',
    sha256      TEXT NOT NULL DEFAULT '',
    status      TEXT NOT NULL,
    actor       TEXT NOT NULL,
    rows        INTEGER NOT NULL,
    joiners     INTEGER NOT NULL,
    movers      INTEGER NOT NULL,
    leavers     INTEGER NOT NULL,
    rehires     INTEGER NOT NULL,
    changes     INTEGER NOT NULL,
    unchanged   INTEGER NOT NULL,
    reason      TEXT NOT NULL DEFAULT '',
    duration_ns BIGINT NOT NULL DEFAULT 0,
    created_at  BIGINT NOT NULL,
    decided_by  TEXT NOT NULL DEFAULT '',
    decided_at  BIGINT NOT NULL DEFAULT 0,
    base_serial BIGINT NOT NULL DEFAULT 0,
    payload     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX imports_source ON imports (source, created_at);

CREATE TABLE events (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    import_id    TEXT NOT NULL,
    source       TEXT NOT NULL,
    employee_id  TEXT NOT NULL,
    type         TEXT NOT NULL,
    state        TEXT NOT NULL,
    effective_at BIGINT NOT NULL,
    before_doc   TEXT NOT NULL DEFAULT '',
    after_doc    TEXT NOT NULL DEFAULT '',
    changed      TEXT NOT NULL DEFAULT '',
    created_at   BIGINT NOT NULL,
    applied_at   BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX events_person ON events (source, employee_id, id);
CREATE INDEX events_import ON events (import_id, id);
CREATE INDEX events_due ON events (state, effective_at);
CREATE INDEX events_type ON events (type, id);

CREATE TABLE audit (
    seq        BIGINT PRIMARY KEY,
    at         BIGINT NOT NULL,
    actor      TEXT NOT NULL,
    action     TEXT NOT NULL,
    source     TEXT NOT NULL DEFAULT '',
    import_id  TEXT NOT NULL DEFAULT '',
    subject    TEXT NOT NULL DEFAULT '',
    before_doc TEXT NOT NULL DEFAULT '',
    after_doc  TEXT NOT NULL DEFAULT '',
    prev_hash  TEXT NOT NULL,
    hash       TEXT NOT NULL
);
CREATE INDEX audit_subject ON audit (subject, seq);

CREATE TABLE audit_head (
    id   INTEGER PRIMARY KEY,
    seq  BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

CREATE TABLE tokens (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name       TEXT NOT NULL,
    scope      TEXT NOT NULL,
    hash       TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    last_used  BIGINT NOT NULL DEFAULT 0,
    revoked_at BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX tokens_name ON tokens (name);

-- +goose Down
DROP TABLE tokens;
DROP TABLE audit_head;
DROP TABLE audit;
DROP TABLE events;
DROP TABLE imports;
DROP TABLE persons;
DROP TABLE sources;
