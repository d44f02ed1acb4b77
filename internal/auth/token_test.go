package auth_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tango-iga/tango/internal/auth"
	"github.com/tango-iga/tango/internal/store"
	"github.com/tango-iga/tango/internal/store/sqlite"
)

func TestTokens(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	now := time.Now()
	tok, rec, err := auth.Create(ctx, st, "entra", "scim", now)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(tok, "tango_scim_") || len(tok) < 40 || rec.Hash == tok || rec.Hash != auth.Hash(tok) {
		t.Fatalf("token %q, stored %+v", tok, rec)
	}
	if _, err := auth.Check(ctx, st, tok, "scim", now); err != nil {
		t.Fatalf("valid token refused: %v", err)
	}
	if _, err := auth.Check(ctx, st, tok, "api", now); !errors.Is(err, auth.ErrUnauthorized) {
		t.Fatalf("a scim token passed for the api: %v", err)
	}
	if _, err := auth.Check(ctx, st, tok+"x", "scim", now); !errors.Is(err, auth.ErrUnauthorized) {
		t.Fatalf("an altered token passed: %v", err)
	}
	admin, _, _ := auth.Create(ctx, st, "root", "admin", now)
	if _, err := auth.Check(ctx, st, admin, "scim", now); err != nil {
		t.Fatalf("admin token refused for scim: %v", err)
	}
	if err := auth.RevokeToken(ctx, st, "entra", now); err != nil {
		t.Fatal(err)
	}
	if _, err := auth.Check(ctx, st, tok, "scim", now); !errors.Is(err, auth.ErrUnauthorized) {
		t.Fatalf("a revoked token passed: %v", err)
	}
	if _, _, err := auth.Create(ctx, st, "x", "superuser", now); err == nil {
		t.Fatal("unknown scope accepted")
	}
	if _, _, err := auth.Create(ctx, st, " ", "api", now); err == nil {
		t.Fatal("empty name accepted")
	}
	ts, _ := st.Tokens(ctx)
	if len(ts) != 2 || ts[0].LastUsed.IsZero() {
		t.Fatalf("tokens with last use: %+v", ts)
	}
}

// failingTouch is a store that cannot record a token's use.
type failingTouch struct {
	store.Store
	err error
}

func (s failingTouch) TouchToken(context.Context, int64, time.Time) error { return s.err }

func TestTokenUseThatCannotBeRecordedFails(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	now := time.Now()
	tok, _, err := auth.Create(ctx, st, "entra", "scim", now)
	if err != nil {
		t.Fatal(err)
	}
	broken := errors.New("database is read-only")
	if _, err := auth.Check(ctx, failingTouch{Store: st, err: broken}, tok, "scim", now); !errors.Is(err, broken) {
		t.Fatalf("check whose use cannot be recorded: %v, want %v", err, broken)
	}
	// Once recorded, the next minute's checks do not write.
	if _, err := auth.Check(ctx, st, tok, "scim", now); err != nil {
		t.Fatal(err)
	}
	if _, err := auth.Check(ctx, failingTouch{Store: st, err: broken}, tok, "scim", now.Add(30*time.Second)); err != nil {
		t.Fatalf("check within the minute: %v", err)
	}
}
