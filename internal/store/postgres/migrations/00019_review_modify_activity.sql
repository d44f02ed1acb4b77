-- +goose Up
-- Access reviews (issue 13): a reviewer may modify an item, revoking the
-- reviewed entitlement and granting a narrower one of the same app through
-- an approved access request (requests.review_item names the item, so the
-- grant's reason shows it); and reconcile records when each account was
-- last used where the app reports it, which review items show (with how
-- many days the account was inactive when the campaign started).
ALTER TABLE review_items ADD COLUMN new_entitlement TEXT NOT NULL DEFAULT '';
ALTER TABLE review_items ADD COLUMN request BIGINT NOT NULL DEFAULT 0;
ALTER TABLE review_items ADD COLUMN last_activity BIGINT NOT NULL DEFAULT 0;
ALTER TABLE review_items ADD COLUMN inactive_days INTEGER NOT NULL DEFAULT 0;
ALTER TABLE requests ADD COLUMN review_item BIGINT NOT NULL DEFAULT 0;

CREATE TABLE account_activity (
    app           TEXT NOT NULL,
    source        TEXT NOT NULL,
    employee_id   TEXT NOT NULL,
    last_activity BIGINT NOT NULL,
    read_at       BIGINT NOT NULL,
    PRIMARY KEY (app, source, employee_id)
);

-- +goose Down
DROP TABLE account_activity;
ALTER TABLE requests DROP COLUMN review_item;
ALTER TABLE review_items DROP COLUMN inactive_days;
ALTER TABLE review_items DROP COLUMN last_activity;
ALTER TABLE review_items DROP COLUMN request;
ALTER TABLE review_items DROP COLUMN new_entitlement;
