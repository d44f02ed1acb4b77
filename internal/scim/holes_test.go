package scim

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/tango-iga/tango/internal/audit"
	"github.com/tango-iga/tango/internal/auth"
	"github.com/tango-iga/tango/internal/config"
	"github.com/tango-iga/tango/internal/store"
)

// nestedBulk is a Bulk request whose one operation posts a Bulk request,
// depth times, around a User carrying pad bytes.
func nestedBulk(depth, pad int) string {
	inner := `{"schemas":["` + URNUser + `"],"userName":"deep","nickName":"` + strings.Repeat("x", pad) + `"}`
	path := "/Users"
	for i := 0; i < depth; i++ {
		inner = `{"schemas":["` + URNBulkRequest + `"],"Operations":[{"method":"POST","bulkId":"b","path":"` + path + `","data":` + inner + `}]}`
		path = "/Bulk"
	}
	return inner
}

func TestBulkInBulkIsRefused(t *testing.T) {
	e := newEnv(t, sqliteStore(t))
	code, body, _ := e.do("POST", "/Bulk", nestedBulk(2, 1))
	if code != http.StatusBadRequest || body["scimType"] != "invalidValue" || !strings.Contains(body["detail"].(string), "Bulk") {
		t.Fatalf("a Bulk operation posting a Bulk request: %d %v, want 400 invalidValue naming Bulk", code, body)
	}
	// The data alone (a BulkRequest posted to /Users) is refused too.
	code, body, _ = e.do("POST", "/Bulk", `{"schemas":["`+URNBulkRequest+`"],"Operations":[{"method":"POST","bulkId":"b","path":"/Users","data":{"schemas":["`+URNBulkRequest+`"],"Operations":[]}}]}`)
	if code != http.StatusBadRequest || body["scimType"] != "invalidValue" {
		t.Fatalf("a BulkRequest as the data of an operation: %d %v, want 400", code, body)
	}
}

func TestDeepBodiesAreRefusedCheaply(t *testing.T) {
	e := newEnv(t, sqliteStore(t))
	// 100 levels of Bulk around a 1 MB user: refused before any decoding.
	b := nestedBulk(100, 1<<20)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	code, body, _ := e.do("POST", "/Bulk", b)
	runtime.ReadMemStats(&after)
	if code != http.StatusBadRequest || body["scimType"] != "invalidSyntax" || !strings.Contains(body["detail"].(string), "nest") {
		t.Fatalf("100 nested Bulk requests: %d %v, want 400 invalidSyntax naming the nesting", code, body)
	}
	t.Logf("refusing %d bytes allocated %d", len(b), after.TotalAlloc-before.TotalAlloc)
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 12*uint64(len(b)) {
		t.Fatalf("refusing a %d-byte body allocated %d bytes", len(b), alloc)
	}
	// A plain resource nested 40 deep.
	deep := `{"schemas":["` + URNUser + `"],"userName":"deep","x":` + strings.Repeat("[", 40) + strings.Repeat("]", 40) + `}`
	code, body, _ = e.do("POST", "/Users", deep)
	if code != http.StatusBadRequest || body["scimType"] != "invalidSyntax" || !strings.Contains(body["detail"].(string), "32") {
		t.Fatalf("a User nested 40 deep: %d %v, want 400 naming the limit", code, body)
	}
	// 32 levels are fine.
	ok := `{"schemas":["` + URNUser + `"],"userName":"ok","x":` + strings.Repeat("[", 31) + strings.Repeat("]", 31) + `}`
	if code, body, _ = e.do("POST", "/Users", ok); code != http.StatusCreated {
		t.Fatalf("a User nested 32 deep: %d %v", code, body)
	}
}

func TestDuplicateAttributesAreRefused(t *testing.T) {
	e := newEnv(t, sqliteStore(t))
	for _, c := range []struct{ method, path, body, name string }{
		{"POST", "/Users", `{"schemas":["` + URNUser + `"],"userName":"a","USERNAME":"b"}`, "USERNAME"},
		{"POST", "/Users", `{"schemas":["` + URNUser + `"],"userName":"a","name":{"givenName":"A","GivenName":"B"}}`, "name.GivenName"},
		{"POST", "/Users", `{"schemas":["` + URNUser + `"],"userName":"a","emails":[{"value":"a@x","Value":"b@x"}]}`, "emails.Value"},
		{"POST", "/Users/.search", `{"filter":"userName eq \"a\"","FILTER":"id pr"}`, "FILTER"},
	} {
		code, body, _ := e.do(c.method, c.path, c.body)
		if code != http.StatusBadRequest || !strings.Contains(body["detail"].(string), c.name) {
			t.Fatalf("%s %s %s: %d %v, want 400 naming %s", c.method, c.path, c.body, code, body, c.name)
		}
	}
	code, body, _ := e.do("PATCH", "/Users/x", `{"schemas":["`+URNPatch+`"],"Operations":[{"op":"replace","Op":"add","value":{}}]}`)
	if code != http.StatusBadRequest || !strings.Contains(body["detail"].(string), "Op") {
		t.Fatalf("PATCH with op twice: %d %v", code, body)
	}
	if xs, _, _ := e.st.SCIMResources(context.Background(), store.SCIMQuery{Type: store.SCIMUser}); len(xs) != 0 {
		t.Fatalf("%d users stored after refused bodies", len(xs))
	}
}

func TestRevokedTokenIsRefusedAtOnce(t *testing.T) {
	e := newEnv(t, sqliteStore(t))
	if code, body, _ := e.do("GET", "/Users", nil); code != http.StatusOK {
		t.Fatalf("GET /Users: %d %v", code, body)
	}
	if err := auth.RevokeToken(context.Background(), e.st, "entra-prov", time.Now()); err != nil {
		t.Fatal(err)
	}
	if code, body, _ := e.do("GET", "/Users", nil); code != http.StatusUnauthorized {
		t.Fatalf("GET /Users right after revoking the token: %d %v, want 401", code, body)
	}
}

func TestLocationsUseTheConfiguredBaseURL(t *testing.T) {
	st := sqliteStore(t)
	cfg, err := config.Parse([]byte(testConfig), "tango.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := auth.Create(context.Background(), st, "idp", "scim", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for _, base := range []string{"https://tango.example.com", "https://tango.example.com/"} {
		h := New(Options{Store: st, Config: cfg, Logger: slog.New(slog.DiscardHandler), Now: time.Now, BaseURL: base})
		t.Cleanup(h.Flush)
		get := func(method, path, body string) (int, string, http.Header) {
			req := httptest.NewRequest(method, "http://evil.test"+Prefix+path, strings.NewReader(body))
			req.Host = "evil.test"
			req.Header.Set("Authorization", "Bearer "+tok)
			req.Header.Set("X-Forwarded-Proto", "http")
			req.Header.Set("X-Forwarded-Host", "evil.test")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			return rec.Code, rec.Body.String(), rec.Header()
		}
		for _, p := range []string{"/ServiceProviderConfig", "/ResourceTypes", "/Schemas", "/Users"} {
			code, b, _ := get("GET", p, "")
			if code != 200 || strings.Contains(b, "evil") {
				t.Fatalf("GET %s: %d %s", p, code, b)
			}
		}
		_, b, _ := get("GET", "/ServiceProviderConfig", "")
		if !strings.Contains(b, `"https://tango.example.com/scim/v2/ServiceProviderConfig"`) {
			t.Fatalf("ServiceProviderConfig location not under the base URL: %s", b)
		}
		code, b, hdr := get("POST", "/Bulk", `{"schemas":["`+URNBulkRequest+`"],"Operations":[{"method":"POST","bulkId":"g","path":"/Groups","data":{"schemas":["`+URNGroup+`"],"displayName":"G`+base[len(base)-1:]+`"}}]}`)
		if code != 200 || strings.Contains(b, "evil") || !strings.Contains(b, `"location":"https://tango.example.com/scim/v2/Groups/`) {
			t.Fatalf("Bulk: %d %s %v", code, b, hdr)
		}
	}
}

// readEntries flushes the handler's read audit and returns the scim.read entries.
func (e *env) readEntries() []audit.Entry {
	e.t.Helper()
	e.h.Flush()
	es, err := e.st.AuditEntries(context.Background(), 0, 100000)
	if err != nil {
		e.t.Fatal(err)
	}
	var out []audit.Entry
	for _, x := range es {
		if x.Action == "scim.read" {
			out = append(out, x)
		}
	}
	return out
}

func subjectsOf(t *testing.T, x audit.Entry) []string {
	t.Helper()
	var a struct {
		Subjects []string `json:"subjects"`
	}
	if err := json.Unmarshal(x.After, &a); err != nil {
		t.Fatalf("entry %s: %v", x.After, err)
	}
	return a.Subjects
}

func TestEveryReadIsAuditedWithItsSubjects(t *testing.T) {
	e := newEnv(t, sqliteStore(t))
	code, u, _ := e.do("POST", "/Users", `{"schemas":["`+URNUser+`"],"userName":"ada","externalId":"E1"}`)
	if code != 201 {
		t.Fatalf("create: %d %v", code, u)
	}
	id := u["id"].(string)
	if code, b, _ := e.do("POST", "/Users", `{"schemas":["`+URNUser+`"],"userName":"bob","externalId":"E2"}`); code != 201 {
		t.Fatalf("create: %d %v", code, b)
	}
	n := len(e.readEntries())
	check := func(what string, want ...string) {
		t.Helper()
		es := e.readEntries()
		if len(es) != n+1 {
			t.Fatalf("%s: %d new scim.read entries, want 1", what, len(es)-n)
		}
		n = len(es)
		x := es[len(es)-1]
		if x.Actor != "scim:entra-prov" {
			t.Fatalf("%s: actor %q", what, x.Actor)
		}
		if got := strings.Join(subjectsOf(t, x), ","); got != strings.Join(want, ",") {
			t.Fatalf("%s: subjects %q, want %q (%s)", what, got, want, x.After)
		}
		if len(want) == 1 && x.Subject != want[0] {
			t.Fatalf("%s: subject %q, want %q", what, x.Subject, want[0])
		}
	}
	e.do("GET", "/Users/"+id, nil)
	check("GET one", "E1")
	e.do("GET", "/Users?sortBy=userName", nil)
	check("GET list", "E1", "E2")
	if code, b, _ := e.do("POST", "/Users/.search", `{"filter":"userName eq \"bob\""}`); code != 200 {
		t.Fatalf(".search: %d %v", code, b)
	}
	check(".search", "E2")
	code, b, _ := e.do("POST", "/Bulk", `{"schemas":["`+URNBulkRequest+`"],"Operations":[{"method":"GET","path":"/Users/`+id+`"},{"method":"GET","path":"/Users?filter=userName%20eq%20%22bob%22"}]}`)
	if code != 200 {
		t.Fatalf("Bulk GETs: %d %v", code, b)
	}
	check("Bulk GETs", "E1", "E2")
}
