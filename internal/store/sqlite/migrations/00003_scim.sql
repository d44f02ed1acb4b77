-- +goose Up
-- SCIM resources pushed by HR systems and identity providers: the full
-- SCIM document plus the columns that filters and uniqueness use.
CREATE TABLE scim_resources (
    id           TEXT PRIMARY KEY,
    type         TEXT NOT NULL,               -- User | Group
    source       TEXT NOT NULL,
    employee_id  TEXT NOT NULL DEFAULT '',    -- the person a User feeds
    name_key     TEXT NOT NULL,               -- lower(userName) or lower(displayName)
    external_id  TEXT NOT NULL DEFAULT '',
    version      BIGINT NOT NULL,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    doc          TEXT NOT NULL
);
CREATE UNIQUE INDEX scim_user_name ON scim_resources (name_key) WHERE type = 'User';
CREATE INDEX scim_type_name ON scim_resources (type, name_key);
CREATE INDEX scim_type_external ON scim_resources (type, external_id);
CREATE INDEX scim_type_created ON scim_resources (type, created_at, id);
CREATE INDEX scim_person ON scim_resources (source, employee_id);

-- +goose Down
DROP TABLE scim_resources;
