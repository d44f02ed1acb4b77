package scim

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tango-iga/tango/internal/auth"
	"github.com/tango-iga/tango/internal/config"
	"github.com/tango-iga/tango/internal/store"
)

const mappedConfig = `
org: {name: T, timezone: UTC}
sources:
  - name: workday
    kind: scim
    key: externalId
    mapping:
      display_name: 'row["name.givenName"] + " " + row["name.familyName"]'
      department: "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:division"
      email: 'emails[type eq "work"].value'
      title: title
      cost_center: "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:costCenter"
      site: "addresses[primary eq true].locality"
      manager: "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value"
`

func newEnvConfig(t *testing.T, st store.Store, yaml string) *env {
	t.Helper()
	cfg, err := config.Parse([]byte(yaml), "tango.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := auth.Create(context.Background(), st, "hr-feed", "scim", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	h := New(Options{Store: st, Config: cfg, Logger: slog.New(slog.DiscardHandler), Now: time.Now})
	t.Cleanup(h.Flush)
	mux := http.NewServeMux()
	mux.Handle("/scim/v2/", h)
	return &env{t: t, st: st, h: h, srv: mux, token: tok}
}

// A scim source's mapping is applied to pushed users as a file source's
// is to rows: SCIM attribute paths are the columns, CEL reads them from
// row, and the key names the employee ID.
func TestSourceMappingAppliesToPushes(t *testing.T) {
	st := sqliteStore(t)
	e := newEnvConfig(t, st, mappedConfig)
	ctx := context.Background()
	code, boss, _ := e.do("POST", "/Users", map[string]any{"userName": "boss@x", "externalId": "B1",
		"name": map[string]any{"givenName": "Bea", "familyName": "Boss"}})
	if code != 201 {
		t.Fatalf("boss: %d %v", code, boss)
	}
	u := map[string]any{"userName": "ada@x", "externalId": "W100", "title": "Engineer",
		"name":        map[string]any{"givenName": "Ada", "familyName": "Lovelace"},
		"emails":      []any{map[string]any{"value": "ada@home", "type": "home", "primary": true}, map[string]any{"value": "ada@work.example", "type": "work"}},
		"addresses":   []any{map[string]any{"locality": "Leeds", "type": "home"}, map[string]any{"locality": "London", "type": "work", "primary": true}},
		URNEnterprise: map[string]any{"employeeNumber": "ignored", "department": "not mapped", "division": "R&D", "costCenter": "CC7", "manager": map[string]any{"value": boss["id"]}}}
	code, b, _ := e.do("POST", "/Users", u)
	if code != 201 {
		t.Fatalf("create: %d %v", code, b)
	}
	p, err := st.Person(ctx, "workday", "W100")
	if err != nil {
		t.Fatalf("the key (externalId) is the employee ID: %v", err)
	}
	if p.DisplayName != "Ada Lovelace" || p.Department != "R&D" || p.Email != "ada@work.example" || p.Title != "Engineer" ||
		p.ManagerID != "B1" || p.Attributes["cost_center"] != "CC7" || p.Attributes["site"] != "London" {
		t.Fatalf("mapped person %+v", p)
	}
	// A change of a mapped path is a move; of an unmapped one, nothing.
	patch := func(path string, v any) {
		t.Helper()
		body := map[string]any{"schemas": []string{URNPatch}, "Operations": []any{map[string]any{"op": "replace", "path": path, "value": v}}}
		if code, b, _ := e.do("PATCH", "/Users/"+b["id"].(string), body); code != 200 {
			t.Fatalf("patch %s: %d %v", path, code, b)
		}
	}
	patch(URNEnterprise+":department", "still not mapped")
	patch(URNEnterprise+":division", "Sales")
	evs, _ := st.Events(ctx, store.EventFilter{Source: "workday", EmployeeID: "W100"})
	var types []string
	for _, ev := range evs {
		types = append(types, ev.Type)
	}
	if strings.Join(types, ",") != "joiner,mover" || evs[1].After.Department != "Sales" {
		t.Fatalf("events %v", types)
	}
}

// A mapping naming a path a User does not have is a configuration error
// naming it; pushes fail instead of storing persons mapped wrongly.
func TestSourceMappingUnknownPath(t *testing.T) {
	_, err := newUserMapper(&config.Source{Name: "wd", Kind: "scim", Mapping: map[string]string{"department": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:dept"}})
	if err == nil || !strings.Contains(err.Error(), "User:dept") {
		t.Fatalf("unknown path: %v", err)
	}
	e := newEnvConfig(t, sqliteStore(t), strings.Replace(mappedConfig, "User:division", "User:divisoin", 1))
	if code, b, _ := e.do("POST", "/Users", map[string]any{"userName": "x@x"}); code != 500 {
		t.Fatalf("push with a broken mapping: %d %v", code, b)
	}
	if xs, _, _ := e.st.SCIMResources(context.Background(), store.SCIMQuery{Type: store.SCIMUser}); len(xs) != 0 {
		t.Fatalf("stored %d users", len(xs))
	}
}

// The flattened row of a User.
func TestUserRowPaths(t *testing.T) {
	doc := map[string]any{"userName": "a@x", "active": false, "name": map[string]any{"givenName": "A"},
		"emails":      []any{map[string]any{"value": "w1", "type": "work"}, map[string]any{"value": "w2", "type": "work", "primary": true}},
		URNEnterprise: map[string]any{"manager": map[string]any{"value": "m1"}}}
	row := userRow(doc, "id1")
	for k, want := range map[string]string{"id": "id1", "userName": "a@x", "active": "false", "name.givenName": "A",
		"emails.value": "w2", "emails[primary eq true].value": "w2", `emails[type eq "work"].value`: "w1",
		URNEnterprise + ":manager.value": "m1", "title": ""} {
		if row[k] != want {
			t.Errorf("row[%q] = %q, want %q", k, row[k], want)
		}
	}
	have := map[string]bool{}
	for _, c := range rowColumns {
		have[c] = true
	}
	for k := range row {
		if !have[k] {
			t.Errorf("row key %q is not a column a mapping can name", k)
		}
	}
}

// Mapped values are checked as a file import checks its rows: a
// malformed e-mail address or date is a 400 naming it, and nothing is
// stored.
func TestSourceMappingValidatesValues(t *testing.T) {
	st := sqliteStore(t)
	e := newEnvConfig(t, st, mappedConfig+`      start_date: "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:organization"
`)
	for _, c := range []struct {
		email, start, want string
	}{
		{"not an address", "2026-01-01", `email: \"not an address\" is not a valid email address`},
		{"ok@x", "01/02/2026", `start_date: \"01/02/2026\" is not a date`},
	} {
		u := map[string]any{"userName": "v@x", "externalId": "V1", "name": map[string]any{"givenName": "V", "familyName": "W"},
			"emails": []any{map[string]any{"value": c.email, "type": "work"}}, URNEnterprise: map[string]any{"organization": c.start}}
		code, b, _ := e.do("POST", "/Users", u)
		if code != 400 || b["scimType"] != "invalidValue" || !strings.Contains(js(b), c.want) {
			t.Fatalf("%v: %d %v", c, code, b)
		}
	}
	if _, err := st.Person(context.Background(), "workday", "V1"); err == nil {
		t.Fatal("a rejected push stored its person")
	}
	u := map[string]any{"userName": "v@x", "externalId": "V1", "name": map[string]any{"givenName": "V", "familyName": "W"},
		"emails": []any{map[string]any{"value": "v@work.example", "type": "work"}}, URNEnterprise: map[string]any{"organization": "2026-01-01"}}
	if code, b, _ := e.do("POST", "/Users", u); code != 201 {
		t.Fatalf("valid: %d %v", code, b)
	}
	if p, err := st.Person(context.Background(), "workday", "V1"); err != nil || p.StartDate != "2026-01-01" {
		t.Fatalf("person %+v %v", p, err)
	}
}
