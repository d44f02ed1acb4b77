package api_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tango-iga/tango/internal/api"
	"github.com/tango-iga/tango/internal/app"
	"github.com/tango-iga/tango/internal/auth"
	"github.com/tango-iga/tango/internal/config"
)

const followConfig = `
org: {name: Follow, timezone: UTC}
sources:
  - name: hris
    kind: file
    format: csv
    key: id
    mapping: {display_name: name, department: dept, manager: manager}
    safeguards: {max_leavers: 10}
apps: [{name: erp, connector: manual}]
authorization:
  roles:
    hr: {when: 'person.department == "HR"'}
`

// Roles follow HR like everyone's access: the import that moves a person
// out of HR takes hr from them at once, and the import that makes them a
// leaver revokes their tokens in its own transaction.
func TestRolesFollowTheImport(t *testing.T) {
	ctx := context.Background()
	st, err := app.OpenStore(ctx, "sqlite:"+filepath.Join(t.TempDir(), "tango.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	cfg, err := config.Parse([]byte(followConfig), "follow.yaml")
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(api.New(api.Options{Store: st, Config: cfg, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: time.Now}))
	t.Cleanup(hs.Close)
	call := func(method, path, token, body string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, hs.URL+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "text/csv")
		r, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Body.Close()
		b, _ := io.ReadAll(r.Body)
		return r.StatusCode, string(b)
	}
	feed, _, err := auth.CreateFor(ctx, st, "feed", "api", "", time.Now(), "hr-feed")
	if err != nil {
		t.Fatal(err)
	}
	importFeed := func(csv string) {
		t.Helper()
		if status, body := call("POST", "/api/v1/imports?source=hris", feed, csv); status != 201 {
			t.Fatalf("import: %d %s", status, body)
		}
	}
	importFeed("id,name,dept,manager\nH1,Hana,HR,B1\nB1,Boss,Exec,\nE1,Emil,Sales,B1\n")
	h1, _, err := auth.CreateFor(ctx, st, "hana", "api", "H1", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if status, body := call("GET", "/api/v1/imports", h1, ""); status != 200 {
		t.Fatalf("H1 in HR reads imports: %d %s", status, body)
	}
	if status, _ := call("GET", "/api/v1/persons/E1", h1, ""); status != 200 {
		t.Fatalf("H1 in HR reads E1: %d", status)
	}

	// The mover out of HR loses hr with the import that moved them.
	importFeed("id,name,dept,manager\nH1,Hana,Sales,B1\nB1,Boss,Exec,\nE1,Emil,Sales,B1\n")
	if status, body := call("GET", "/api/v1/imports", h1, ""); status != 403 || !strings.Contains(body, "imports.read") {
		t.Fatalf("H1 moved to Sales reads imports: %d %s, want 403 naming imports.read", status, body)
	}
	if status, _ := call("GET", "/api/v1/persons/E1", h1, ""); status != 403 {
		t.Fatalf("H1 moved to Sales reads E1: %d, want 403", status)
	}
	if status, _ := call("GET", "/api/v1/persons/H1", h1, ""); status != 200 {
		t.Fatalf("H1 reads themself: %d", status)
	}

	// The leaver's token is revoked in the import's transaction.
	importFeed("id,name,dept,manager\nB1,Boss,Exec,\nE1,Emil,Sales,B1\n")
	if status, body := call("GET", "/api/v1/persons/H1", h1, ""); status != 401 {
		t.Fatalf("the leaver H1's token: %d %s, want 401", status, body)
	}
	ts, err := st.Tokens(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, tk := range ts {
		if tk.Person == "H1" && tk.Revoked.IsZero() {
			t.Fatalf("the leaver's token %q is not revoked", tk.Name)
		}
		if tk.Name == "feed" && !tk.Revoked.IsZero() {
			t.Fatal("the feed's service token was revoked with the leaver's")
		}
	}
}
