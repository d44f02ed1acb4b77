-- +goose Up
-- A reviewer's recent decisions are counted at each decision (the
-- rubber-stamping pace): an index over the decided items only, so that
-- the count does not scan every item of every campaign and starting a
-- campaign (all items undecided) does not grow it.
CREATE INDEX review_items_decided ON review_items (decided_by, decided_at) WHERE automatic = 0 AND decided_by <> '';

-- +goose Down
DROP INDEX review_items_decided;
