-- +goose Up
-- Access reviews: reminders and escalation before a campaign's deadline.
-- review_reminders records the one reminder each reviewer (a person, or a
-- team) gets per campaign: the reminder claims its row in the transaction
-- that queues the message, so processes sharing the database send it
-- once. An item still pending near the deadline is escalated to its
-- reviewer's manager (escalated_to, escalated_at), who may then decide it.
CREATE TABLE review_reminders (
    campaign    BIGINT NOT NULL,
    recipient   TEXT NOT NULL,
    reminded_at BIGINT NOT NULL,
    items       INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (campaign, recipient)
);

ALTER TABLE review_items ADD COLUMN escalated_to TEXT NOT NULL DEFAULT '';
ALTER TABLE review_items ADD COLUMN escalated_at BIGINT NOT NULL DEFAULT 0;
-- Partial: the items of a campaign start unescalated, and 2,000,000 of
-- them would otherwise each add an entry under ''.
CREATE INDEX review_items_escalated ON review_items (escalated_to, campaign) WHERE escalated_to <> '';

-- +goose Down
DROP INDEX review_items_escalated;
ALTER TABLE review_items DROP COLUMN escalated_at;
ALTER TABLE review_items DROP COLUMN escalated_to;
DROP TABLE review_reminders;
