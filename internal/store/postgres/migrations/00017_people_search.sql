-- +goose Up
-- People search (PersonFilter.Query, /people?q=): a trigram index
-- (pg_trgm, a trusted extension: the database's owner may create it) over
-- the four fields the search matches, so that LIKE '%q%' does not read
-- every person.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX persons_search ON persons USING gin
    (lower(employee_id || ' ' || display_name || ' ' || email || ' ' || department) gin_trgm_ops);

-- +goose Down
DROP INDEX persons_search;
