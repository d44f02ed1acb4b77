package scim

import (
	"context"
	"strings"
	"testing"

	"github.com/tango-iga/tango/internal/store"
)

// Without a source of kind scim, a User push has nowhere to go: every
// write to /Users (also inside Bulk) is a SCIM 404 error saying so, not a
// 5xx; Groups and reads still work.
func TestPushWithoutSCIMSource(t *testing.T) {
	e := newEnvConfig(t, sqliteStore(t), "org: {name: T, timezone: UTC}\n")
	user := map[string]any{"schemas": []string{URNUser}, "userName": "bjensen@example.com"}
	check := func(what string, code int, b map[string]any) {
		t.Helper()
		if code != 404 || b["status"] != "404" || b["detail"] != ErrNoSourceDetail ||
			!strings.Contains(js(b["schemas"]), URNError) {
			t.Fatalf("%s without a scim source: %d %v", what, code, b)
		}
	}
	code, b, _ := e.do("POST", "/Users", user)
	check("POST /Users", code, b)
	code, b, _ = e.do("PUT", "/Users/x", user)
	check("PUT /Users/x", code, b)
	code, b, _ = e.do("PATCH", "/Users/x", `{"schemas":["`+URNPatch+`"],"Operations":[{"op":"replace","path":"active","value":false}]}`)
	check("PATCH /Users/x", code, b)
	code, b, _ = e.do("DELETE", "/Users/x", nil)
	check("DELETE /Users/x", code, b)
	code, b, _ = e.do("POST", "/Bulk", map[string]any{"Operations": []any{
		map[string]any{"method": "POST", "bulkId": "u", "path": "/Users", "data": user}}})
	ops, _ := b["Operations"].([]any)
	if code != 200 || len(ops) != 1 || getMap(ops[0].(map[string]any), "response")["detail"] != ErrNoSourceDetail || ops[0].(map[string]any)["status"] != "404" {
		t.Fatalf("Bulk POST /Users without a scim source: %d %v", code, b)
	}
	if code, b, _ := e.do("POST", "/Groups", map[string]any{"displayName": "G"}); code != 201 {
		t.Fatalf("POST /Groups without a scim source: %d %v", code, b)
	}
	if code, b, _ := e.do("GET", "/Users", nil); code != 200 || b["totalResults"] != 0.0 {
		t.Fatalf("GET /Users without a scim source: %d %v", code, b)
	}
	if xs, _, _ := e.st.SCIMResources(context.Background(), store.SCIMQuery{Type: store.SCIMUser}); len(xs) != 0 {
		t.Fatalf("%d users stored without a scim source", len(xs))
	}
}
