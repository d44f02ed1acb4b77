package store

import (
	"context"
	"time"
)

// Session is a signed-in browser. Only a hash of its secret (the cookie)
// is stored; ID is a public handle for listing and revoking it.
type Session struct {
	ID     string   `json:"id"`
	Hash   string   `json:"-"`
	Person string   `json:"person"`
	Groups []string `json:"groups,omitempty"`
	// Method is how the person signed in: oidc or local.
	Method    string    `json:"method"`
	IP        string    `json:"ip,omitempty"`
	CreatedAt time.Time `json:"created_at,omitzero"`
	LastSeen  time.Time `json:"last_seen_at,omitzero"`
	// ExpiresAt is the absolute end of the session.
	ExpiresAt time.Time `json:"expires_at,omitzero"`
	Revoked   time.Time `json:"revoked_at,omitzero"`
}

// LocalAccount is a person's password (and TOTP) sign-in.
type LocalAccount struct {
	Person string `json:"person"`
	// PasswordHash is an argon2id PHC string.
	PasswordHash string `json:"-"`
	// TOTPSecret is the base32 TOTP secret; empty: no second factor.
	TOTPSecret  string    `json:"-"`
	Failures    int       `json:"failures"`
	LockedUntil time.Time `json:"locked_until,omitzero"`
	UpdatedAt   time.Time `json:"updated_at,omitzero"`
}

// SignInStore keeps sessions and local accounts.
type SignInStore interface {
	// SessionByHash reads a session by the hash of its secret;
	// ErrNotFound if absent.
	SessionByHash(ctx context.Context, hash string) (Session, error)
	// TouchSession records that a session was used at at.
	TouchSession(ctx context.Context, id string, at time.Time) error
	// Sessions lists the sessions not revoked whose absolute end is after
	// now, oldest first.
	Sessions(ctx context.Context, now time.Time) ([]Session, error)
	// LocalAccount reads a person's local account; ErrNotFound if absent.
	LocalAccount(ctx context.Context, person string) (LocalAccount, error)
}

// SignInTx are the sign-in row operations of a Tx.
type SignInTx interface {
	// InsertSession stores a new session.
	InsertSession(s Session) error
	// RevokeSession marks a live session revoked at at; false when no
	// unrevoked session has the ID.
	RevokeSession(id string, at time.Time) (bool, error)
	// RevokePersonSessions revokes every unrevoked session of a person and
	// returns their IDs.
	RevokePersonSessions(person string, at time.Time) ([]string, error)
	// PutLocalAccount creates or replaces a person's local account.
	PutLocalAccount(a LocalAccount) error
	// SetLocalTOTP sets (or with "" removes) a person's TOTP secret;
	// false without a local account.
	SetLocalTOTP(person, secret string, at time.Time) (bool, error)
	// AddSignInFailure counts a failed sign-in of a local account; when
	// the count reaches max it locks the account until lockedUntil and
	// starts counting again. It returns the account after the change.
	AddSignInFailure(person string, max int, lockedUntil time.Time) (LocalAccount, error)
	// UseTOTPStep records that a TOTP code of time step step was used;
	// false when one of that step or a later one already was (a replay).
	UseTOTPStep(person string, step int64) (bool, error)
	// ClearSignInFailures forgets a local account's failures.
	ClearSignInFailures(person string) error
}
