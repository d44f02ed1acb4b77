// Package auth issues and checks bearer tokens. A token is shown once when
// created; only its SHA-256 is stored, so a copy of the database does not
// give access.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tango-iga/tango/internal/audit"
	"github.com/tango-iga/tango/internal/authz"
	"github.com/tango-iga/tango/internal/domain"
	"github.com/tango-iga/tango/internal/store"
)

// Scopes a token may carry.
var Scopes = []string{"api", "scim", "admin"}

const prefix = "tango_"

// Hash is the stored form of a token.
func Hash(token string) string {
	s := sha256.Sum256([]byte(token))
	return hex.EncodeToString(s[:])
}

// Create makes a new token, stores its hash and returns the token itself.
func Create(ctx context.Context, st Store, name, scope string, now time.Time) (string, store.Token, error) {
	return CreateFor(ctx, st, name, scope, "", now)
}

// CreateFor is Create for a token that acts as a person (employee ID):
// access requests and approvals made with it are that person's. The caller
// checks that the person exists. roles are what a service token may do
// (authz.ServiceRoles); on a person's token they narrow what it may do of
// the person's roles (none: all of them).
func CreateFor(ctx context.Context, st Store, name, scope, person string, now time.Time, roles ...string) (string, store.Token, error) {
	if !slices.Contains(Scopes, scope) {
		return "", store.Token{}, fmt.Errorf("scope %q: want one of %s", scope, strings.Join(Scopes, ", "))
	}
	var rs []string
	for _, r := range roles {
		role, err := authz.ParseRole(r)
		if err != nil {
			return "", store.Token{}, err
		}
		if !slices.Contains(rs, string(role)) {
			rs = append(rs, string(role))
		}
	}
	slices.Sort(rs)
	if strings.TrimSpace(name) == "" {
		return "", store.Token{}, errors.New("token name is empty: give it a name that says who uses it, such as --name entra-provisioning")
	}
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", store.Token{}, err
	}
	tok := prefix + scope + "_" + base64.RawURLEncoding.EncodeToString(b[:])
	t, err := CreateToken(ctx, st, store.Token{Name: name, Scope: scope, Person: strings.TrimSpace(person), Roles: rs, Hash: Hash(tok), CreatedAt: now.UTC().Truncate(time.Microsecond)})
	return tok, t, err
}

// ErrUnauthorized: no token, an unknown or revoked one, or the wrong scope.
var ErrUnauthorized = domain.E(domain.KindUnauthorized, "unauthorized")

// Check finds the live token for a bearer value and checks its scope
// ("admin" tokens may use every scope). It records the use.
func Check(ctx context.Context, st Store, bearer, scope string, now time.Time) (store.Token, error) {
	if bearer == "" {
		return store.Token{}, ErrUnauthorized
	}
	t, err := st.TokenByHash(ctx, Hash(bearer))
	if errors.Is(err, store.ErrNotFound) || (err == nil && !t.Revoked.IsZero()) {
		return store.Token{}, ErrUnauthorized
	}
	if err != nil {
		return store.Token{}, err
	}
	if t.Scope != scope && t.Scope != "admin" {
		return store.Token{}, ErrUnauthorized
	}
	// Record the last use at most once a minute per token.
	if now.Sub(t.LastUsed) > time.Minute {
		if err := st.TouchToken(ctx, t.ID, now); err != nil {
			return store.Token{}, fmt.Errorf("recording the use of token %q: %w", t.Name, err)
		}
	}
	return t, nil
}

// CreateToken stores a token (its name not taken by an unrevoked one:
// store.ErrConflict otherwise) with a "token.created" audit entry, in one
// transaction, and returns it with its ID.
func CreateToken(ctx context.Context, st store.Transactor, t store.Token) (store.Token, error) {
	err := st.InTx(ctx, func(tx store.Tx) error {
		taken, err := tx.LiveTokenExists(t.Name)
		if err != nil {
			return err
		}
		if taken {
			return fmt.Errorf("token %q already exists; revoke it first or pick another name: %w", t.Name, store.ErrConflict)
		}
		if err := tx.InsertToken(&t); err != nil {
			return err
		}
		return tx.AppendAudit(audit.New(t.CreatedAt, "cli", "token.created", "", "", t.Name, nil, tokenDoc(t)))
	})
	return t, err
}

// tokenDoc is what a token's audit entry records: its scope, and the
// person it acts as when it has one (older entries keep their exact form).
func tokenDoc(t store.Token) map[string]string {
	m := map[string]string{"scope": t.Scope}
	if t.Person != "" {
		m["person"] = t.Person
	}
	if len(t.Roles) > 0 {
		m["roles"] = strings.Join(t.Roles, ",")
	}
	return m
}

// RevokeToken revokes the unrevoked token of a name (store.ErrNotFound if
// there is none) with a "token.revoked" audit entry, in one transaction.
func RevokeToken(ctx context.Context, st store.Transactor, name string, at time.Time) error {
	return st.InTx(ctx, func(tx store.Tx) error {
		ok, err := tx.RevokeTokenRow(name, at)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("token %q: %w", name, store.ErrNotFound)
		}
		return tx.AppendAudit(audit.New(at, "cli", "token.revoked", "", "", name, nil, nil))
	})
}
