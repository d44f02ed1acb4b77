-- +goose Up
-- Recurring access reviews (reviews.campaigns in the config): when the
-- last campaign of each definition started. The scheduler claims a start
-- by moving started_at forward in the transaction that inserts the
-- campaign, so processes sharing the database start it once.
CREATE TABLE review_schedules (
    name       TEXT PRIMARY KEY,
    started_at BIGINT NOT NULL,
    campaign   BIGINT NOT NULL DEFAULT 0
);

-- +goose Down
DROP TABLE review_schedules;
