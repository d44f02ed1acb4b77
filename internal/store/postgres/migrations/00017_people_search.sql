-- +goose Up
-- People search (PersonFilter.Query, /people?q=): a trigram index
-- (pg_trgm) over the four fields the search matches, so that LIKE '%q%'
-- does not read every person. pg_trgm is a trusted extension (PostgreSQL
-- 13 and later: the database's owner may create it); a role that may not
-- gets a notice and no index, and the search still answers, reading every
-- person.
-- +goose StatementBegin
DO $$
BEGIN
    CREATE EXTENSION IF NOT EXISTS pg_trgm;
EXCEPTION WHEN insufficient_privilege OR feature_not_supported OR undefined_file THEN
    RAISE NOTICE 'pg_trgm is not available (%): people search reads every person', SQLERRM;
END
$$;
-- +goose StatementEnd
-- +goose StatementBegin
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
        CREATE INDEX persons_search ON persons USING gin
            (lower(employee_id || ' ' || display_name || ' ' || email || ' ' || department) gin_trgm_ops);
    END IF;
END
$$;
-- +goose StatementEnd

-- +goose Down
DROP INDEX IF EXISTS persons_search;
