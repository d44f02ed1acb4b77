package scim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os/exec"
	"strings"
	"testing"

	"github.com/tango-iga/tango/internal/testenv"
)

// A conformance check of SCIM 2.0 service providers: a sequence of RFC
// 7644 requests (discovery, User and Group CRUD, filters, paging,
// projection, PATCH, Bulk, errors), including the forms real clients send
// although the RFC does not allow them (unquoted filter values,
// attributes= with a value filter, /serviceConfiguration, Group members
// carrying display). It runs against Tango's /scim/v2 and, in the same
// test when node and testdata/scim-server's node_modules are there,
// against the independent SCIM server of the provisioning tests (scimmy);
// both pass counts are logged. Tango must pass every case.
//
// The cases are derived from RFC 7643 and RFC 7644 and from what Entra
// ID's provisioning and Okta send; no suite's code is copied.

type confResp struct {
	status int
	body   map[string]any
	hdr    http.Header
}

type confState map[string]string

type confCase struct {
	name   string
	needs  string // a ServiceProviderConfig feature (etag, bulk, sort): skipped when not advertised
	method string
	path   string // {uid}, {uid2}, {gid}, {etag}: values saved by earlier cases
	body   string
	hdr    []string
	noAuth bool
	check  func(s confState, r confResp) error
}

const confUser = `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
 "userName":"bjensen@example.com","externalId":"E1001","displayName":"Barbara Jensen","active":true,
 "name":{"givenName":"Barbara","familyName":"Jensen","formatted":"Barbara Jensen"},
 "emails":[{"value":"bjensen@example.com","type":"work","primary":true},{"value":"babs@home.example","type":"home"}],
 "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"employeeNumber":"1001","department":"Tour Operations"}}`

const confUser2 = `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],
 "userName":"omalley@example.com","externalId":"E1002","displayName":"Olivia O'Malley","active":true,
 "name":{"givenName":"Olivia","familyName":"O'Malley"},
 "emails":[{"value":"omalley@example.com","type":"work","primary":true}]}`

func want(cond bool, format string, args ...any) error {
	if cond {
		return nil
	}
	return fmt.Errorf(format, args...)
}

func wantStatus(r confResp, codes ...int) error {
	for _, c := range codes {
		if r.status == c {
			return nil
		}
	}
	return fmt.Errorf("status %d, want %v: %v", r.status, codes, r.body)
}

// wantError checks an RFC 7644 section 3.12 error response.
func wantError(r confResp, status int, scimTypes ...string) error {
	if err := wantStatus(r, status); err != nil {
		return err
	}
	if !strings.Contains(js(r.body["schemas"]), URNError) || r.body["status"] != fmt.Sprint(status) {
		return fmt.Errorf("not a SCIM error: %v", r.body)
	}
	if len(scimTypes) == 0 {
		return nil
	}
	for _, st := range scimTypes {
		if r.body["scimType"] == st {
			return nil
		}
	}
	return fmt.Errorf("scimType %v, want %v", r.body["scimType"], scimTypes)
}

func wantList(r confResp, total int) error {
	if err := wantStatus(r, 200); err != nil {
		return err
	}
	if !strings.Contains(js(r.body["schemas"]), URNList) {
		return fmt.Errorf("not a ListResponse: %v", r.body)
	}
	if n, _ := r.body["totalResults"].(float64); total >= 0 && int(n) != total {
		return fmt.Errorf("totalResults %v, want %d", r.body["totalResults"], total)
	}
	return nil
}

func resources(r confResp) []map[string]any { return complexValues(r.body["Resources"]) }

func confCases() []confCase {
	save := func(key string) func(s confState, r confResp) error {
		return func(s confState, r confResp) error {
			if err := wantStatus(r, 201); err != nil {
				return err
			}
			id, _ := r.body["id"].(string)
			s[key] = id
			meta := getMap(r.body, "meta")
			return want(id != "" && meta["resourceType"] != nil && meta["location"] != nil, "no id or meta: %v", r.body)
		}
	}
	workEmails := func(r confResp, sub bool) error {
		if err := wantStatus(r, 200); err != nil {
			return err
		}
		es := complexValues(r.body["emails"])
		if len(es) != 1 || (!sub && es[0]["type"] != "work") || es[0]["value"] != "bjensen@example.com" || r.body["userName"] != nil {
			return fmt.Errorf("emails %v, userName %v: want only the work e-mail", r.body["emails"], r.body["userName"])
		}
		if sub && len(es[0]) != 1 {
			return fmt.Errorf("emails %v: want only the value", es)
		}
		return nil
	}
	members := func(n int) func(s confState, r confResp) error {
		return func(s confState, r confResp) error {
			if err := wantStatus(r, 200); err != nil {
				return err
			}
			ms := complexValues(r.body["members"])
			return want(len(ms) == n, "%d members, want %d: %v", len(ms), n, r.body["members"])
		}
	}
	return []confCase{
		// Discovery (RFC 7644 section 4).
		{name: "ServiceProviderConfig", method: "GET", path: "/ServiceProviderConfig", check: func(s confState, r confResp) error {
			if err := wantStatus(r, 200); err != nil {
				return err
			}
			return want(strings.Contains(js(r.body["schemas"]), URNSPConfig) && getMap(r.body, "patch")["supported"] == true, "SP config %v", r.body)
		}},
		{name: "serviceConfiguration (tolerant: the draft name)", method: "GET", path: "/serviceConfiguration", check: func(s confState, r confResp) error {
			if err := wantStatus(r, 200); err != nil {
				return err
			}
			return want(strings.Contains(js(r.body["schemas"]), URNSPConfig), "SP config %v", r.body)
		}},
		{name: "ResourceTypes", method: "GET", path: "/ResourceTypes", check: func(s confState, r confResp) error {
			b := js(r.body)
			return want(r.status == 200 && strings.Contains(b, `"/Users"`) && strings.Contains(b, `"/Groups"`), "%d %s", r.status, b)
		}},
		{name: "ResourceTypes/User", method: "GET", path: "/ResourceTypes/User", check: func(s confState, r confResp) error {
			return want(r.status == 200 && r.body["name"] == "User" && r.body["schema"] == URNUser, "%d %v", r.status, r.body)
		}},
		{name: "Schemas", method: "GET", path: "/Schemas", check: func(s confState, r confResp) error {
			return want(r.status == 200 && strings.Contains(js(r.body), URNUser) && strings.Contains(js(r.body), URNGroup), "%d", r.status)
		}},
		{name: "Schemas/User", method: "GET", path: "/Schemas/" + URNUser, check: func(s confState, r confResp) error {
			return want(r.status == 200 && r.body["id"] == URNUser && strings.Contains(js(r.body["attributes"]), `"userName"`), "%d %v", r.status, r.body["id"])
		}},
		{name: "no token: 401", method: "GET", path: "/Users", noAuth: true, check: func(s confState, r confResp) error {
			return wantStatus(r, 401)
		}},
		// Users (RFC 7644 section 3.3).
		{name: "POST /Users", method: "POST", path: "/Users", body: confUser, check: save("uid")},
		{name: "POST /Users second", method: "POST", path: "/Users", body: confUser2, check: save("uid2")},
		{name: "POST /Users duplicate userName: 409 uniqueness", method: "POST", path: "/Users",
			body: `{"schemas":["` + URNUser + `"],"userName":"BJENSEN@example.com"}`, check: func(s confState, r confResp) error {
				return wantError(r, 409, "uniqueness")
			}},
		{name: "POST /Users without userName: 400", method: "POST", path: "/Users", body: `{"schemas":["` + URNUser + `"],"displayName":"x"}`,
			check: func(s confState, r confResp) error { return wantError(r, 400) }},
		{name: "GET /Users/{id}", method: "GET", path: "/Users/{uid}", check: func(s confState, r confResp) error {
			if err := wantStatus(r, 200); err != nil {
				return err
			}
			s["etag"] = r.hdr.Get("ETag")
			return want(r.body["id"] == s["uid"] && r.body["userName"] == "bjensen@example.com" &&
				getMap(r.body, URNEnterprise)["department"] == "Tour Operations", "%v", r.body)
		}},
		{name: "GET /Users/{unknown}: 404", method: "GET", path: "/Users/no-such-id", check: func(s confState, r confResp) error {
			return wantError(r, 404)
		}},
		{name: "If-None-Match: 304", needs: "etag", method: "GET", path: "/Users/{uid}", hdr: []string{"If-None-Match", "{etag}"},
			check: func(s confState, r confResp) error { return wantStatus(r, 304) }},
		// Filters (RFC 7644 section 3.4.2.2).
		{name: `filter userName eq`, method: "GET", path: "/Users?filter=" + url.QueryEscape(`userName eq "bjensen@example.com"`),
			check: func(s confState, r confResp) error { return wantList(r, 1) }},
		{name: `filter userName eq is case-insensitive`, method: "GET", path: "/Users?filter=" + url.QueryEscape(`userName eq "BJensen@Example.com"`),
			check: func(s confState, r confResp) error { return wantList(r, 1) }},
		{name: `filter externalId eq`, method: "GET", path: "/Users?filter=" + url.QueryEscape(`externalId eq "E1002"`),
			check: func(s confState, r confResp) error { return wantList(r, 1) }},
		{name: `filter co, and, sub-attribute`, method: "GET", path: "/Users?filter=" + url.QueryEscape(`name.familyName co "ense" and active eq true`),
			check: func(s confState, r confResp) error { return wantList(r, 1) }},
		{name: `filter or, not, pr`, method: "GET", path: "/Users?filter=" + url.QueryEscape(`not (userName sw "b") or title pr`),
			check: func(s confState, r confResp) error { return wantList(r, 1) }},
		{name: `filter value path`, method: "GET", path: "/Users?filter=" + url.QueryEscape(`emails[type eq "home" and value co "@home"]`),
			check: func(s confState, r confResp) error { return wantList(r, 1) }},
		{name: `filter enterprise extension`, method: "GET", path: "/Users?filter=" + url.QueryEscape(URNEnterprise+`:department eq "Tour Operations"`),
			check: func(s confState, r confResp) error { return wantList(r, 1) }},
		{name: `filter meta.created gt "date"`, method: "GET", path: "/Users?filter=" + url.QueryEscape(`meta.created gt "2015-10-10T14:38:21Z"`),
			check: func(s confState, r confResp) error { return wantList(r, 2) }},
		{name: `filter userName sw O (tolerant: unquoted)`, method: "GET", path: "/Users?filter=" + url.QueryEscape(`userName sw O`),
			check: func(s confState, r confResp) error { return wantList(r, 1) }},
		{name: `filter meta.created gt date (tolerant: unquoted)`, method: "GET", path: "/Users?filter=" + url.QueryEscape(`meta.created gt 2015-10-10T14:38:21Z`),
			check: func(s confState, r confResp) error { return wantList(r, 2) }},
		{name: `filter emails[type eq work] (tolerant: unquoted)`, method: "GET", path: "/Users?filter=" + url.QueryEscape(`emails[type eq work]`),
			check: func(s confState, r confResp) error { return wantList(r, 2) }},
		{name: `invalid filter: 400 invalidFilter`, method: "GET", path: "/Users?filter=" + url.QueryEscape(`userName eq`),
			check: func(s confState, r confResp) error { return wantError(r, 400, "invalidFilter") }},
		{name: `ambiguous unquoted filter: 400 invalidFilter`, method: "GET", path: "/Users?filter=" + url.QueryEscape(`displayName eq Barbara Jensen`),
			check: func(s confState, r confResp) error { return wantError(r, 400, "invalidFilter") }},
		{name: `POST /.search`, method: "POST", path: "/Users/.search",
			body: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],"filter":"userName sw \"omalley\"","attributes":["userName"]}`,
			check: func(s confState, r confResp) error {
				if err := wantList(r, 1); err != nil {
					return err
				}
				rs := resources(r)
				return want(len(rs) == 1 && rs[0]["userName"] == "omalley@example.com" && rs[0]["emails"] == nil, "%v", rs)
			}},
		// Paging and sorting (RFC 7644 sections 3.4.2.3, 3.4.2.4).
		{name: "paging startIndex/count", method: "GET", path: "/Users?startIndex=2&count=1", check: func(s confState, r confResp) error {
			if err := wantList(r, 2); err != nil {
				return err
			}
			return want(len(resources(r)) == 1 && r.body["startIndex"] == 2.0 && r.body["itemsPerPage"] == 1.0, "%v", r.body)
		}},
		{name: "count=0", method: "GET", path: "/Users?count=0", check: func(s confState, r confResp) error {
			if err := wantList(r, 2); err != nil {
				return err
			}
			return want(len(resources(r)) == 0, "%d resources", len(resources(r)))
		}},
		{name: "sortBy descending", needs: "sort", method: "GET", path: "/Users?sortBy=userName&sortOrder=descending", check: func(s confState, r confResp) error {
			if err := wantList(r, 2); err != nil {
				return err
			}
			rs := resources(r)
			return want(len(rs) == 2 && rs[0]["userName"] == "omalley@example.com", "%v", rs)
		}},
		// Projection (RFC 7644 section 3.4.2.5).
		{name: "attributes=userName", method: "GET", path: "/Users?attributes=userName", check: func(s confState, r confResp) error {
			if err := wantList(r, 2); err != nil {
				return err
			}
			rs := resources(r)
			return want(len(rs) == 2 && rs[0]["userName"] != nil && rs[0]["id"] != nil && rs[0]["name"] == nil && rs[0]["emails"] == nil, "%v", rs)
		}},
		{name: "excludedAttributes=emails", method: "GET", path: "/Users/{uid}?excludedAttributes=emails", check: func(s confState, r confResp) error {
			return want(r.status == 200 && r.body["emails"] == nil && r.body["userName"] != nil, "%d %v", r.status, r.body)
		}},
		{name: `attributes=emails[type eq "work"] (tolerant)`, method: "GET", path: "/Users/{uid}?attributes=" + url.QueryEscape(`emails[type eq "work"]`),
			check: func(s confState, r confResp) error { return workEmails(r, false) }},
		{name: `attributes=emails[type eq "work"].value (tolerant)`, method: "GET", path: "/Users/{uid}?attributes=" + url.QueryEscape(`emails[type eq "work"].value`),
			check: func(s confState, r confResp) error { return workEmails(r, true) }},
		// Replace and PATCH (RFC 7644 sections 3.5.1, 3.5.2).
		{name: "PUT /Users/{id}", method: "PUT", path: "/Users/{uid2}",
			body: strings.Replace(confUser2, `"Olivia O'Malley"`, `"Liv O'Malley"`, 1), check: func(s confState, r confResp) error {
				return want(r.status == 200 && r.body["displayName"] == "Liv O'Malley" && r.body["id"] == s["uid2"], "%d %v", r.status, r.body)
			}},
		{name: "PATCH replace with path", method: "PATCH", path: "/Users/{uid2}",
			body: `{"schemas":["` + URNPatch + `"],"Operations":[{"op":"replace","path":"name.givenName","value":"Liv"}]}`,
			check: func(s confState, r confResp) error {
				return want(r.status == 200 && getMap(r.body, "name")["givenName"] == "Liv", "%d %v", r.status, r.body)
			}},
		{name: "PATCH replace without path", method: "PATCH", path: "/Users/{uid2}",
			body: `{"schemas":["` + URNPatch + `"],"Operations":[{"op":"replace","value":{"title":"Guide","active":false}}]}`,
			check: func(s confState, r confResp) error {
				return want(r.status == 200 && r.body["title"] == "Guide" && r.body["active"] == false, "%d %v", r.status, r.body)
			}},
		{name: "PATCH value-filter path", method: "PATCH", path: "/Users/{uid}",
			body: `{"schemas":["` + URNPatch + `"],"Operations":[{"op":"replace","path":"emails[type eq \"home\"].value","value":"barbara@home.example"}]}`,
			check: func(s confState, r confResp) error {
				return want(r.status == 200 && strings.Contains(js(r.body["emails"]), "barbara@home.example") && strings.Contains(js(r.body["emails"]), "bjensen@example.com"), "%d %v", r.status, r.body["emails"])
			}},
		{name: `PATCH Entra style ("Replace", "True")`, method: "PATCH", path: "/Users/{uid2}",
			body: `{"schemas":["` + URNPatch + `"],"Operations":[{"op":"Replace","path":"active","value":"True"}]}`,
			check: func(s confState, r confResp) error {
				return want(r.status == 200 && r.body["active"] == true, "%d %v", r.status, r.body)
			}},
		{name: "PATCH bad op: 400", method: "PATCH", path: "/Users/{uid2}",
			body:  `{"schemas":["` + URNPatch + `"],"Operations":[{"op":"frobnicate","path":"title","value":"x"}]}`,
			check: func(s confState, r confResp) error { return wantError(r, 400) }},
		// Groups (RFC 7643 section 4.2).
		{name: "POST /Groups with a member", method: "POST", path: "/Groups",
			body: `{"schemas":["` + URNGroup + `"],"displayName":"Tour Guides","members":[{"value":"{uid}"}]}`, check: save("gid")},
		{name: "GET /Groups/{id}: members carry display (tolerant)", method: "GET", path: "/Groups/{gid}", check: func(s confState, r confResp) error {
			if err := wantStatus(r, 200); err != nil {
				return err
			}
			ms := complexValues(r.body["members"])
			return want(len(ms) == 1 && ms[0]["value"] == s["uid"] && ms[0]["display"] != nil && ms[0]["display"] != "", "members %v", r.body["members"])
		}},
		{name: "filter Groups displayName eq", method: "GET", path: "/Groups?filter=" + url.QueryEscape(`displayName eq "Tour Guides"`),
			check: func(s confState, r confResp) error { return wantList(r, 1) }},
		{name: "PATCH add a member", method: "PATCH", path: "/Groups/{gid}",
			body:  `{"schemas":["` + URNPatch + `"],"Operations":[{"op":"add","path":"members","value":[{"value":"{uid2}"}]}]}`,
			check: func(s confState, r confResp) error { return wantStatus(r, 200, 204) }},
		{name: "GET /Groups/{id}: two members", method: "GET", path: "/Groups/{gid}", check: members(2)},
		{name: "PATCH remove a member by value filter", method: "PATCH", path: "/Groups/{gid}",
			body:  `{"schemas":["` + URNPatch + `"],"Operations":[{"op":"remove","path":"members[value eq \"{uid2}\"]"}]}`,
			check: func(s confState, r confResp) error { return wantStatus(r, 200, 204) }},
		{name: "GET /Groups/{id}: one member", method: "GET", path: "/Groups/{gid}", check: members(1)},
		{name: "User groups attribute", method: "GET", path: "/Users/{uid}", check: func(s confState, r confResp) error {
			return want(r.status == 200 && strings.Contains(js(r.body["groups"]), s["gid"]), "%d groups %v", r.status, r.body["groups"])
		}},
		{name: "Groups excludedAttributes=members", method: "GET", path: "/Groups?excludedAttributes=members", check: func(s confState, r confResp) error {
			if err := wantList(r, 1); err != nil {
				return err
			}
			rs := resources(r)
			return want(len(rs) == 1 && rs[0]["members"] == nil && rs[0]["displayName"] == "Tour Guides", "%v", rs)
		}},
		// Bulk (RFC 7644 section 3.7).
		{name: "Bulk with bulkId reference", needs: "bulk", method: "POST", path: "/Bulk",
			body: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],"Operations":[
			 {"method":"POST","path":"/Users","bulkId":"u1","data":{"schemas":["` + URNUser + `"],"userName":"bulk@example.com"}},
			 {"method":"POST","path":"/Groups","bulkId":"g1","data":{"schemas":["` + URNGroup + `"],"displayName":"Bulk","members":[{"value":"bulkId:u1"}]}}]}`,
			check: func(s confState, r confResp) error {
				ops := complexValues(r.body["Operations"])
				return want(r.status == 200 && len(ops) == 2 && ops[0]["status"] == "201" && ops[1]["status"] == "201", "%d %v", r.status, r.body)
			}},
		// Delete (RFC 7644 section 3.6).
		{name: "DELETE /Groups/{id}", method: "DELETE", path: "/Groups/{gid}", check: func(s confState, r confResp) error { return wantStatus(r, 204) }},
		{name: "GET deleted group: 404", method: "GET", path: "/Groups/{gid}", check: func(s confState, r confResp) error { return wantError(r, 404) }},
		{name: "DELETE /Users/{id}", method: "DELETE", path: "/Users/{uid2}", check: func(s confState, r confResp) error { return wantStatus(r, 204) }},
		{name: "GET deleted user: 404", method: "GET", path: "/Users/{uid2}", check: func(s confState, r confResp) error { return wantError(r, 404) }},
	}
}

// runConformance runs the cases in order against base and returns the
// number passed, the number run and the failures.
func runConformance(t *testing.T, base, token string) (passed, run int, failures []string) {
	t.Helper()
	client := &http.Client{}
	s := confState{}
	fill := func(x string) string {
		for k, v := range s {
			x = strings.ReplaceAll(x, "{"+k+"}", v)
		}
		return x
	}
	do := func(c confCase) (confResp, error) {
		var body io.Reader
		if c.body != "" {
			body = strings.NewReader(fill(c.body))
		}
		req, err := http.NewRequest(c.method, base+fill(c.path), body)
		if err != nil {
			return confResp{}, err
		}
		if !c.noAuth {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		if c.body != "" {
			req.Header.Set("Content-Type", ContentType)
		}
		for i := 0; i+1 < len(c.hdr); i += 2 {
			req.Header.Set(c.hdr[i], fill(c.hdr[i+1]))
		}
		res, err := client.Do(req)
		if err != nil {
			return confResp{}, err
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		if err != nil {
			return confResp{}, err
		}
		r := confResp{status: res.StatusCode, hdr: res.Header}
		if len(bytes.TrimSpace(b)) > 0 {
			if err := json.Unmarshal(b, &r.body); err != nil {
				return r, fmt.Errorf("status %d, body not a JSON object: %.200s", res.StatusCode, b)
			}
		}
		return r, nil
	}
	// Features the server does not advertise are not held against it.
	features := map[string]bool{}
	if sp, err := do(confCase{method: "GET", path: "/ServiceProviderConfig"}); err == nil {
		for _, f := range []string{"etag", "bulk", "sort"} {
			features[f] = getMap(sp.body, f)["supported"] == true
		}
	}
	for _, c := range confCases() {
		if c.needs != "" && !features[c.needs] {
			continue
		}
		run++
		r, err := do(c)
		if err == nil {
			err = c.check(s, r)
		}
		if err != nil {
			failures = append(failures, fmt.Sprintf("%s %s (%s): %v", c.method, c.path, c.name, err))
			continue
		}
		passed++
	}
	return passed, run, failures
}

func TestConformance(t *testing.T) {
	e := newEnv(t, sqliteStore(t))
	srv := httptest.NewServer(e.srv)
	defer srv.Close()
	passed, run, failures := runConformance(t, srv.URL+Prefix, e.token)
	t.Logf("tango: %d of %d conformance cases pass (%d defined)", passed, run, len(confCases()))
	for _, f := range failures {
		t.Errorf("tango: %s", f)
	}
	if _, err := exec.LookPath("node"); err != nil {
		t.Logf("node is not available: the independent SCIM server is not compared")
		return
	}
	other := testenv.StartSCIMServerWith(t, testenv.SCIMServerOptions{MaxPageSize: 100})
	opassed, orun, ofailures := runConformance(t, other.URL, other.Token)
	t.Logf("scimmy (testdata/scim-server): %d of %d conformance cases pass", opassed, orun)
	for _, f := range ofailures {
		t.Logf("scimmy: %s", f)
	}
}
