-- +goose Up
-- A service token carries its roles (comma-separated); a token bound to a
-- person holds at most the person's roles (empty: all of them). Service
-- tokens made before roles existed keep what they could do then, every
-- role but admin (admin-scope ones admin too), until they are replaced.
ALTER TABLE tokens ADD COLUMN roles TEXT NOT NULL DEFAULT '';
UPDATE tokens SET roles = 'hr,it,security,auditor' WHERE person = '' AND scope = 'api' AND revoked_at = 0;
UPDATE tokens SET roles = 'hr,it,security,auditor,admin' WHERE person = '' AND scope = 'admin' AND revoked_at = 0;
CREATE INDEX tokens_person ON tokens (person);

-- +goose Down
DROP INDEX tokens_person;
ALTER TABLE tokens DROP COLUMN roles;
