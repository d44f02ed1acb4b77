// Package testenv starts and reaches the real parts Tango's tests run
// against: PostgreSQL, slapd, an independent SCIM server. When a part is
// missing, tests fail under CI=true and are skipped (with the way to get
// it) elsewhere.
package testenv

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
)

// DefaultPostgres is the server `make test` prepares.
const DefaultPostgres = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// Missing fails the test under CI (a part the suite needs is absent) and
// skips it elsewhere.
func Missing(t testing.TB, what, how string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is not available (%s); CI must have it", what, how)
	}
	t.Skipf("%s is not available: %s", what, how)
}

// PostgresDSN creates a fresh database for the test on the server named by
// $TANGO_TEST_POSTGRES (default DefaultPostgres), drops it afterwards, and
// returns its DSN.
func PostgresDSN(t testing.TB) string {
	t.Helper()
	admin := os.Getenv("TANGO_TEST_POSTGRES")
	if admin == "" {
		admin = DefaultPostgres
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	db, err := sql.Open("pgx", admin)
	if err == nil {
		err = db.PingContext(ctx)
	}
	if err != nil {
		Missing(t, "PostgreSQL", "run `make deps` or set TANGO_TEST_POSTGRES: "+err.Error())
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "tango_test_" + hex.EncodeToString(b[:])
	if _, err := db.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		db.Close()
		t.Fatalf("create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := db.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Logf("drop database %s: %v", name, err)
		}
		db.Close()
	})
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatalf("TANGO_TEST_POSTGRES: %v", err)
	}
	u.Path = "/" + name
	return u.String()
}
