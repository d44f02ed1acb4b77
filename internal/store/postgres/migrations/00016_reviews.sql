-- +goose Up
-- Access reviews (issue 13): a campaign snapshots who holds what at its
-- launch (one item per person x app x entitlement, with why it exists),
-- reviewers decide each item, and a revocation removes the access.
CREATE TABLE review_campaigns (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind         TEXT NOT NULL,
    app          TEXT NOT NULL DEFAULT '',
    entitlement  TEXT NOT NULL DEFAULT '',
    team         TEXT NOT NULL DEFAULT '',
    policy       TEXT NOT NULL,
    state        TEXT NOT NULL,
    digest       TEXT NOT NULL,
    items        INTEGER NOT NULL DEFAULT 0,
    created_by   TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    due_at       BIGINT NOT NULL,
    closed_at    BIGINT NOT NULL DEFAULT 0,
    completed_at BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX review_campaigns_state ON review_campaigns (state, id);

CREATE TABLE review_items (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    campaign       BIGINT NOT NULL,
    source         TEXT NOT NULL,
    employee_id    TEXT NOT NULL,
    display_name   TEXT NOT NULL DEFAULT '',
    app            TEXT NOT NULL,
    entitlement    TEXT NOT NULL DEFAULT '',
    origin         TEXT NOT NULL,
    why            TEXT NOT NULL DEFAULT '',
    reviewer       TEXT NOT NULL DEFAULT '',
    team           TEXT NOT NULL DEFAULT '',
    recommendation TEXT NOT NULL DEFAULT '',
    sod            TEXT NOT NULL DEFAULT '',
    state          TEXT NOT NULL,
    decision       TEXT NOT NULL DEFAULT '',
    reason         TEXT NOT NULL DEFAULT '',
    decided_by     TEXT NOT NULL DEFAULT '',
    decided_at     BIGINT NOT NULL DEFAULT 0,
    automatic      INTEGER NOT NULL DEFAULT 0,
    operation      BIGINT NOT NULL DEFAULT 0,
    task           BIGINT NOT NULL DEFAULT 0,
    verified_at    BIGINT NOT NULL DEFAULT 0,
    evidence       TEXT NOT NULL DEFAULT ''
);
CREATE INDEX review_items_campaign ON review_items (campaign, id);
CREATE INDEX review_items_reviewer ON review_items (reviewer, campaign);

-- Access a review revoked: the planner leaves it out of what a person
-- should have (even when a role gives it) until an access request for it
-- is approved after the revocation. planned = 0 until the provisioning
-- plan has queued its removal.
CREATE TABLE revocations (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source      TEXT NOT NULL,
    employee_id TEXT NOT NULL,
    app         TEXT NOT NULL,
    entitlement TEXT NOT NULL DEFAULT '',
    item        BIGINT NOT NULL DEFAULT 0,
    reason      TEXT NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL,
    planned     INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX revocations_grant ON revocations (source, employee_id, app, entitlement);
CREATE INDEX revocations_unplanned ON revocations (id) WHERE planned = 0;

-- +goose Down
DROP TABLE revocations;
DROP TABLE review_items;
DROP TABLE review_campaigns;
