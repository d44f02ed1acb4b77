-- +goose Up
-- Browser sessions: only the SHA-256 of the cookie's secret is kept; id is
-- the public handle `tango sessions` lists and revokes. Times are Unix
-- microseconds (0: never).
CREATE TABLE sessions (
    id         TEXT PRIMARY KEY,
    hash       TEXT NOT NULL UNIQUE,
    person     TEXT NOT NULL,
    idp_groups TEXT NOT NULL DEFAULT '',
    method     TEXT NOT NULL,
    ip         TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    last_seen  BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX sessions_person ON sessions (person);

-- Local accounts (a first admin, break-glass): an argon2id password hash,
-- an optional TOTP secret with the last time step a code was used for
-- (a code works once), and the failed sign-ins that lock it.
CREATE TABLE local_accounts (
    person        TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL,
    totp_secret   TEXT NOT NULL DEFAULT '',
    totp_step     BIGINT NOT NULL DEFAULT 0,
    failures      INTEGER NOT NULL DEFAULT 0,
    locked_until  BIGINT NOT NULL DEFAULT 0,
    updated_at    BIGINT NOT NULL
);

-- +goose Down
DROP TABLE local_accounts;
DROP INDEX sessions_person;
DROP TABLE sessions;
