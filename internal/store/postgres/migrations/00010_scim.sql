-- +goose Up
-- SCIM list pages without a scan: every resource gets its position in
-- creation order (seq, per type, assigned by the writer), deleted positions
-- are kept as gaps, and scim_counters holds the next seq and the number of
-- gaps. totalResults is next_seq - 1 - gaps; the resource at startIndex k
-- has seq k + (gaps before it), found from the gap list, then a page is one
-- index range read (type, seq >= s) instead of OFFSET.
ALTER TABLE scim_resources ADD COLUMN seq BIGINT NOT NULL DEFAULT 0;
UPDATE scim_resources SET seq = (
    SELECT r.n FROM (SELECT id, row_number() OVER (PARTITION BY type ORDER BY created_at, id) AS n FROM scim_resources) r
    WHERE r.id = scim_resources.id);
CREATE UNIQUE INDEX scim_type_seq ON scim_resources (type, seq);
DROP INDEX scim_type_created;
CREATE TABLE scim_counters (
    type      TEXT PRIMARY KEY,
    next_seq  BIGINT NOT NULL,
    gaps      BIGINT NOT NULL
);
INSERT INTO scim_counters (type, next_seq, gaps) SELECT type, count(*) + 1, 0 FROM scim_resources GROUP BY type;
CREATE TABLE scim_gaps (
    type  TEXT NOT NULL,
    seq   BIGINT NOT NULL,
    PRIMARY KEY (type, seq)
);

-- Group membership, kept from each Group's members when it is written,
-- so that a User's read-only "groups" (RFC 7643 section 4.1.2) is one
-- index lookup; display is the group's displayName.
CREATE TABLE scim_members (
    group_id   TEXT NOT NULL,
    member_id  TEXT NOT NULL,
    display    TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (group_id, member_id)
);
CREATE INDEX scim_member_of ON scim_members (member_id);
INSERT INTO scim_members (group_id, member_id, display)
    SELECT DISTINCT g.id, m.value->>'value', coalesce(g.doc::jsonb->>'displayName', '')
    FROM scim_resources g, jsonb_array_elements(CASE WHEN jsonb_typeof(g.doc::jsonb->'members') = 'array'
        THEN g.doc::jsonb->'members' ELSE '[]'::jsonb END) m
    WHERE g.type = 'Group' AND jsonb_typeof(m.value->'value') = 'string';

-- +goose Down
DROP TABLE scim_members;
DROP TABLE scim_gaps;
DROP TABLE scim_counters;
CREATE INDEX scim_type_created ON scim_resources (type, created_at, id);
DROP INDEX scim_type_seq;
ALTER TABLE scim_resources DROP COLUMN seq;
