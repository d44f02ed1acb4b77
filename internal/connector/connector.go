// Package connector defines how Tango changes and reads the real systems
// (apps) people get access to. Every implementation (ldap, scim, webhook,
// manual) passes the shared conformance suite in connectortest against a
// real target started by the tests.
package connector

import (
	"context"
	"errors"
	"fmt"

	"github.com/tango-iga/tango/internal/domain"
)

// Account is a person's identity inside an app (see domain.Account); it
// lives in package domain because queued operations carry it.
type Account = domain.Account

// Connector changes and reads accounts in one app. Every method must be
// idempotent: creating an account that exists updates it, disabling a
// disabled account succeeds, granting a held entitlement succeeds.
type Connector interface {
	// Create creates the account (or updates it if it already exists) and
	// returns it with its app ID filled in.
	Create(ctx context.Context, a Account) (Account, error)
	// Update sets the managed attributes of an existing account.
	Update(ctx context.Context, a Account) error
	// Disable disables the account without deleting it.
	Disable(ctx context.Context, a Account) error
	// Enable re-enables a disabled account (rehire).
	Enable(ctx context.Context, a Account) error
	// Grant and Revoke add and remove one entitlement.
	Grant(ctx context.Context, a Account, entitlement string) error
	Revoke(ctx context.Context, a Account, entitlement string) error
	// Get reads one account by correlation key; ErrNotFound if absent.
	Get(ctx context.Context, key string) (Account, error)
	// List calls fn for every account in the app (paged underneath).
	List(ctx context.Context, fn func(Account) error) error
	// Close releases connections.
	Close() error
}

// SessionRevoker is an optional capability: ending an account's sessions
// and tokens in the app (signed-in sessions, refresh tokens, personal
// access tokens), so that a leaver who is still signed in loses access at
// once rather than when a session expires. Provisioning asks for it after a
// leaver's account is disabled, in every app whose connector offers it
// (RevokerOf). Connectors: webhook (a signed "account.sessions_revoked"
// delivery), manual (a task for the owning team), SCIM only when the app
// is configured with a session-revocation endpoint (SCIM 2.0 defines none);
// LDAP has none (a directory holds no sessions: they live in the apps that
// bind against it, and end when the account is disabled there).
type SessionRevoker interface {
	// RevokesSessions reports whether the app, as configured, offers the
	// revocation (a SCIM app only with a revocation endpoint).
	RevokesSessions() bool
	// RevokeSessions ends every session and token of the account.
	// Idempotent: revoking again, or for an account with no session,
	// succeeds. A disabled account's sessions can be revoked. An account
	// the app does not know: ErrNotFound (nothing to revoke).
	RevokeSessions(ctx context.Context, a Account) error
}

// RevokerOf returns c's session revoker, or nil when the app offers no
// separate revocation of sessions and tokens (they end with the disabled
// account, if at all).
func RevokerOf(c Connector) SessionRevoker {
	if r, ok := c.(SessionRevoker); ok && r.RevokesSessions() {
		return r
	}
	return nil
}

var (
	// ErrNotFound: the account does not exist in the app.
	ErrNotFound = errors.New("account not found")
	// ErrNotReadable: the app cannot be read back (a webhook without a list
	// endpoint, a manual app without an accounts export); reconcile skips it.
	ErrNotReadable = errors.New("app cannot be read back")
)

// TemporaryError marks a failure worth retrying (timeouts, 429, 5xx,
// connection refused). RetryAfter is the wait the app asked for, if any.
type TemporaryError struct {
	Err        error
	RetryAfter int // seconds; 0 when the app did not say
}

func (e *TemporaryError) Error() string { return e.Err.Error() }
func (e *TemporaryError) Unwrap() error { return e.Err }

// HandedOff is what a connector returns when a person makes the change
// (a manual app's task): the operation is not done yet but waiting, and
// is done when Task is completed (or the app's accounts show the change).
type HandedOff struct {
	Task int64
}

func (h *HandedOff) Error() string { return fmt.Sprintf("handed to a person: task %d", h.Task) }

// IsTemporary reports whether err is worth retrying.
func IsTemporary(err error) bool {
	var t *TemporaryError
	return errors.As(err, &t)
}
