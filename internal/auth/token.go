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
// checks that the person exists.
func CreateFor(ctx context.Context, st Store, name, scope, person string, now time.Time) (string, store.Token, error) {
	if !slices.Contains(Scopes, scope) {
		return "", store.Token{}, fmt.Errorf("scope %q: want one of %s", scope, strings.Join(Scopes, ", "))
	}
	if strings.TrimSpace(name) == "" {
		return "", store.Token{}, errors.New("token name is empty: give it a name that says who uses it, such as --name entra-provisioning")
	}
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", store.Token{}, err
	}
	tok := prefix + scope + "_" + base64.RawURLEncoding.EncodeToString(b[:])
	t, err := st.CreateToken(ctx, store.Token{Name: name, Scope: scope, Person: strings.TrimSpace(person), Hash: Hash(tok), CreatedAt: now.UTC().Truncate(time.Microsecond)})
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
