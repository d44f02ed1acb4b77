package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/tango-iga/tango/internal/store"
)

const sessionCols = `id, hash, person, idp_groups, method, ip, created_at, last_seen, expires_at, revoked_at`

func scanSession(r scanner) (store.Session, error) {
	var x store.Session
	var groups string
	var created, seen, expires, revoked int64
	if err := r.Scan(&x.ID, &x.Hash, &x.Person, &groups, &x.Method, &x.IP, &created, &seen, &expires, &revoked); err != nil {
		return x, err
	}
	if groups != "" {
		if err := json.Unmarshal([]byte(groups), &x.Groups); err != nil {
			return x, fmt.Errorf("session %s groups: %w", x.ID, err)
		}
	}
	x.CreatedAt, x.LastSeen, x.ExpiresAt, x.Revoked = fromMicros(created), fromMicros(seen), fromMicros(expires), fromMicros(revoked)
	return x, nil
}

func (s *DB) SessionByHash(ctx context.Context, hash string) (store.Session, error) {
	x, err := scanSession(s.db.QueryRowContext(ctx, s.rb(`SELECT `+sessionCols+` FROM sessions WHERE hash = ?`), hash))
	if errors.Is(err, sql.ErrNoRows) {
		return x, store.ErrNotFound
	}
	if err != nil {
		return x, fmt.Errorf("store: session: %w", err)
	}
	return x, nil
}

func (s *DB) TouchSession(ctx context.Context, id string, at time.Time) error {
	if _, err := s.db.ExecContext(ctx, s.rb(`UPDATE sessions SET last_seen = ? WHERE id = ? AND last_seen < ?`), micros(at), id, micros(at)); err != nil {
		return fmt.Errorf("store: session %s: %w", id, err)
	}
	return nil
}

func (s *DB) Sessions(ctx context.Context, now time.Time) ([]store.Session, error) {
	out, err := queryAll(ctx, s.listing(), "store: sessions", scanSession,
		s.rb(`SELECT `+sessionCols+` FROM sessions WHERE revoked_at = 0 AND expires_at > ? ORDER BY created_at, id`), micros(now))
	if out == nil && err == nil {
		out = []store.Session{}
	}
	return out, err
}

func scanLocal(r scanner) (store.LocalAccount, error) {
	var a store.LocalAccount
	var locked, updated int64
	err := r.Scan(&a.Person, &a.PasswordHash, &a.TOTPSecret, &a.Failures, &locked, &updated)
	a.LockedUntil, a.UpdatedAt = fromMicros(locked), fromMicros(updated)
	return a, err
}

const localCols = `person, password_hash, totp_secret, failures, locked_until, updated_at`

func (s *DB) LocalAccount(ctx context.Context, person string) (store.LocalAccount, error) {
	a, err := scanLocal(s.db.QueryRowContext(ctx, s.rb(`SELECT `+localCols+` FROM local_accounts WHERE person = ?`), person))
	if errors.Is(err, sql.ErrNoRows) {
		return a, fmt.Errorf("local account of %s: %w", person, store.ErrNotFound)
	}
	if err != nil {
		return a, fmt.Errorf("store: local account of %s: %w", person, err)
	}
	return a, nil
}

func (t *txn) InsertSession(x store.Session) error {
	groups := ""
	if len(x.Groups) > 0 {
		b, _ := json.Marshal(x.Groups) // strings always marshal
		groups = string(b)
	}
	_, err := t.tx.ExecContext(t.ctx, t.s.rb(`INSERT INTO sessions (`+sessionCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		x.ID, x.Hash, x.Person, groups, x.Method, x.IP, micros(x.CreatedAt), micros(x.LastSeen), micros(x.ExpiresAt), micros(x.Revoked))
	if err != nil {
		return fmt.Errorf("store: session %s: %w", x.ID, err)
	}
	return nil
}

func (t *txn) RevokeSession(id string, at time.Time) (bool, error) {
	res, err := t.tx.ExecContext(t.ctx, t.s.rb(`UPDATE sessions SET revoked_at = ? WHERE id = ? AND revoked_at = 0`), micros(at), id)
	if err != nil {
		return false, fmt.Errorf("store: session %s: %w", id, err)
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

func (t *txn) RevokePersonSessions(person string, at time.Time) ([]string, error) {
	return revokePersonSessions(t.ctx, t.s, t.tx, person, at)
}

func revokePersonSessions(ctx context.Context, s *DB, tx *sql.Tx, person string, at time.Time) ([]string, error) {
	ids, err := queryAll(ctx, tx, "store: sessions of "+person, func(r scanner) (string, error) {
		var id string
		return id, r.Scan(&id)
	}, s.rb(`UPDATE sessions SET revoked_at = ? WHERE person = ? AND revoked_at = 0 RETURNING id`), micros(at), person)
	return ids, err
}

func (t *txn) PutLocalAccount(a store.LocalAccount) error {
	_, err := t.tx.ExecContext(t.ctx, t.s.rb(`INSERT INTO local_accounts (`+localCols+`) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (person) DO UPDATE SET password_hash = excluded.password_hash, totp_secret = excluded.totp_secret,
		failures = excluded.failures, locked_until = excluded.locked_until, updated_at = excluded.updated_at`),
		a.Person, a.PasswordHash, a.TOTPSecret, a.Failures, micros(a.LockedUntil), micros(a.UpdatedAt))
	if err != nil {
		return fmt.Errorf("store: local account of %s: %w", a.Person, err)
	}
	return nil
}

func (t *txn) SetLocalTOTP(person, secret string, at time.Time) (bool, error) {
	res, err := t.tx.ExecContext(t.ctx, t.s.rb(`UPDATE local_accounts SET totp_secret = ?, totp_step = 0, updated_at = ? WHERE person = ?`), secret, micros(at), person)
	if err != nil {
		return false, fmt.Errorf("store: local account of %s: %w", person, err)
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

func (t *txn) AddSignInFailure(person string, max int, lockedUntil time.Time) (store.LocalAccount, error) {
	// One statement: concurrent failures each count.
	a, err := scanLocal(t.tx.QueryRowContext(t.ctx, t.s.rb(`UPDATE local_accounts SET
		locked_until = CASE WHEN failures + 1 >= ? THEN ? ELSE locked_until END,
		failures = CASE WHEN failures + 1 >= ? THEN 0 ELSE failures + 1 END
		WHERE person = ? RETURNING `+localCols), max, micros(lockedUntil), max, person))
	if errors.Is(err, sql.ErrNoRows) {
		return a, fmt.Errorf("local account of %s: %w", person, store.ErrNotFound)
	}
	if err != nil {
		return a, fmt.Errorf("store: local account of %s: %w", person, err)
	}
	return a, nil
}

func (t *txn) ClearSignInFailures(person string) error {
	if _, err := t.tx.ExecContext(t.ctx, t.s.rb(`UPDATE local_accounts SET failures = 0 WHERE person = ? AND failures <> 0`), person); err != nil {
		return fmt.Errorf("store: local account of %s: %w", person, err)
	}
	return nil
}

func (t *txn) UseTOTPStep(person string, step int64) (bool, error) {
	res, err := t.tx.ExecContext(t.ctx, t.s.rb(`UPDATE local_accounts SET totp_step = ? WHERE person = ? AND totp_step < ?`), step, person, step)
	if err != nil {
		return false, fmt.Errorf("store: local account of %s: %w", person, err)
	}
	n, err := res.RowsAffected()
	return n > 0, err
}
