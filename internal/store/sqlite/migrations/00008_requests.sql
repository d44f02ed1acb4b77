-- +goose Up
-- Access requests: who asked for which entitlement for whom, their approval
-- chain and, once approved, the grant (time-bound when expires_at > 0).
CREATE TABLE requests (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    source        TEXT NOT NULL,
    requester     TEXT NOT NULL,
    beneficiary   TEXT NOT NULL,
    app           TEXT NOT NULL,
    entitlement   TEXT NOT NULL,
    justification TEXT NOT NULL,
    risk          TEXT NOT NULL,
    duration_ns   BIGINT NOT NULL DEFAULT 0,
    state         TEXT NOT NULL,
    chain         TEXT NOT NULL,
    step          INTEGER NOT NULL DEFAULT 0,
    approvals     TEXT NOT NULL DEFAULT '[]',
    reason        TEXT NOT NULL DEFAULT '',
    decided_by    TEXT NOT NULL DEFAULT '',
    created_at    BIGINT NOT NULL,
    decided_at    BIGINT NOT NULL DEFAULT 0,
    expires_at    BIGINT NOT NULL DEFAULT 0,
    provisioned   INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX requests_state ON requests (state, id);
CREATE INDEX requests_beneficiary ON requests (source, beneficiary, state);
CREATE INDEX requests_unprovisioned ON requests (id) WHERE provisioned = 0;

-- Persons who are away: their approvals go to their manager until then.
CREATE TABLE away (
    employee_id TEXT PRIMARY KEY,
    until_at    BIGINT NOT NULL,
    set_by      TEXT NOT NULL,
    set_at      BIGINT NOT NULL
);

-- A token may act as a person (requests and approvals through the API).
ALTER TABLE tokens ADD COLUMN person TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE tokens DROP COLUMN person;
DROP TABLE away;
DROP TABLE requests;
