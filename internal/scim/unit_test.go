package scim

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/tango-iga/tango/internal/store"
)

func patchDoc(t *testing.T, rt *resourceType, doc string, ops string) (map[string]any, *Error) {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(doc), &m); err != nil {
		t.Fatal(err)
	}
	n, e := normalize(rt, m)
	if e != nil {
		t.Fatalf("normalize: %v", e)
	}
	parsed, e := ParsePatch([]byte(`{"schemas":["` + URNPatch + `"],"Operations":` + ops + `}`))
	if e != nil {
		return nil, e
	}
	return applyPatch(rt, n, parsed)
}

func js(v any) string { b, _ := json.Marshal(v); return string(b) }

func TestPatchSemantics(t *testing.T) {
	base := `{"userName":"a","emails":[{"value":"a@w","type":"work","primary":true},{"value":"a@h","type":"home"}],
		"name":{"givenName":"A","familyName":"B"},"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"D"}}`
	for _, c := range []struct {
		name, ops string
		check     func(m map[string]any) bool
		scimType  string
	}{
		{"entra capitalised replace and string boolean", `[{"op":"Replace","path":"active","value":"False"}]`,
			func(m map[string]any) bool { return m["active"] == false }, ""},
		{"path-less dotted and URN keys", `[{"op":"replace","value":{"name.givenName":"Z","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department":"E","unknownThing":1}}]`,
			func(m map[string]any) bool {
				return getStr(getMap(m, "name"), "givenName") == "Z" && getStr(getMap(m, "name"), "familyName") == "B" &&
					getStr(getMap(m, URNEnterprise), "department") == "E" && m["unknownThing"] == nil
			}, ""},
		{"value filter sub-attribute", `[{"op":"replace","path":"emails[type eq \"home\"].value","value":"new@h"}]`,
			func(m map[string]any) bool {
				return strings.Contains(js(m["emails"]), `"new@h"`) && strings.Contains(js(m["emails"]), `"a@w"`)
			}, ""},
		{"value filter without match adds (Entra)", `[{"op":"add","path":"phoneNumbers[type eq \"mobile\"].value","value":"123"}]`,
			func(m map[string]any) bool { return js(m["phoneNumbers"]) == `[{"type":"mobile","value":"123"}]` }, ""},
		{"remove by value filter", `[{"op":"remove","path":"emails[type eq \"work\"]"}]`,
			func(m map[string]any) bool { return js(m["emails"]) == `[{"type":"home","value":"a@h"}]` }, ""},
		{"add a new primary demotes the old", `[{"op":"add","path":"emails","value":[{"value":"n@w","primary":true}]}]`,
			func(m map[string]any) bool {
				n := 0
				for _, e := range complexValues(m["emails"]) {
					if e["primary"] == true {
						n++
						if e["value"] != "n@w" {
							return false
						}
					}
				}
				return n == 1 && len(complexValues(m["emails"])) == 3
			}, ""},
		{"replace multi-valued", `[{"op":"replace","path":"emails","value":[{"value":"only@w"}]}]`,
			func(m map[string]any) bool { return js(m["emails"]) == `[{"value":"only@w"}]` }, ""},
		{"manager as a bare id", `[{"op":"add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":"m1"}]`,
			func(m map[string]any) bool { return js(getMap(m, URNEnterprise)["manager"]) == `{"value":"m1"}` }, ""},
		{"manager as an object", `[{"op":"replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":{"value":"m2"}}]`,
			func(m map[string]any) bool { return js(getMap(m, URNEnterprise)["manager"]) == `{"value":"m2"}` }, ""},
		{"whole extension object", `[{"op":"replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User","value":{"costCenter":"C"}}]`,
			func(m map[string]any) bool { return getStr(getMap(m, URNEnterprise), "costCenter") == "C" }, ""},
		{"remove sub-attribute", `[{"op":"remove","path":"name.givenName"}]`,
			func(m map[string]any) bool { return js(m["name"]) == `{"familyName":"B"}` }, ""},
		{"replace without filter match is noTarget", `[{"op":"replace","path":"emails[value co \"zz\"].value","value":"x"}]`, nil, "noTarget"},
		{"unknown path", `[{"op":"replace","path":"nope","value":"x"}]`, nil, "invalidPath"},
		{"read-only attribute", `[{"op":"replace","path":"id","value":"x"}]`, nil, "mutability"},
		{"groups are read-only", `[{"op":"add","path":"groups","value":[{"value":"g"}]}]`, nil, "mutability"},
		{"bad boolean", `[{"op":"replace","path":"active","value":"maybe"}]`, nil, "invalidValue"},
		{"remove without path", `[{"op":"remove"}]`, nil, "noTarget"},
		{"bad op", `[{"op":"move","path":"title","value":"x"}]`, nil, "invalidSyntax"},
		{"bad path syntax", `[{"op":"replace","path":"emails[type eq","value":"x"}]`, nil, "invalidFilter"},
		{"removing userName breaks the schema", `[{"op":"remove","path":"userName"}]`, nil, "invalidValue"},
	} {
		t.Run(c.name, func(t *testing.T) {
			m, e := patchDoc(t, userType, base, c.ops)
			if c.scimType != "" {
				if e == nil || e.ScimType != c.scimType || e.Status != 400 {
					t.Fatalf("got %v, want 400 %s", e, c.scimType)
				}
				return
			}
			if e != nil {
				t.Fatal(e)
			}
			if !c.check(m) {
				t.Fatalf("result %s", js(m))
			}
		})
	}
}

func TestHTTPErrorsAndETags(t *testing.T) {
	e := newEnv(t, sqliteStore(t))
	user := map[string]any{"schemas": []string{URNUser}, "userName": "Bjensen", "externalId": "x1",
		URNEnterprise: map[string]any{"employeeNumber": "42", "department": "Eng"}, "bogus": "dropped"}
	code, u, hdr := e.do("POST", "/Users", user)
	if code != 201 || hdr.Get("ETag") != `W/"1"` || !strings.HasSuffix(hdr.Get("Location"), "/scim/v2/Users/"+u["id"].(string)) || u["bogus"] != nil {
		t.Fatalf("create: %d %v %v", code, hdr, u)
	}
	id := u["id"].(string)
	meta := u["meta"].(map[string]any)
	if meta["resourceType"] != "User" || meta["location"] != "http://tango.test/scim/v2/Users/"+id || meta["created"] == nil || meta["lastModified"] == nil {
		t.Fatalf("meta %v", meta)
	}
	for _, c := range []struct {
		method, path string
		body         any
		hdr          []string
		status       int
		scimType     string
	}{
		{"GET", "/Users/nope", nil, nil, 404, ""},
		{"GET", "/Users?filter=userName+eq", nil, nil, 400, "invalidFilter"},
		{"GET", "/Users?filter=active+gt+true", nil, nil, 400, "invalidFilter"},
		{"POST", "/Users", `{"userName":`, nil, 400, "invalidSyntax"},
		{"POST", "/Users", map[string]any{"userName": "BJENSEN"}, nil, 409, "uniqueness"},
		{"POST", "/Users", map[string]any{"userName": "other", URNEnterprise: map[string]any{"employeeNumber": "42"}}, nil, 409, "uniqueness"},
		{"POST", "/Users", map[string]any{"displayName": "no userName"}, nil, 400, "invalidValue"},
		{"PUT", "/Users/" + id, map[string]any{"userName": "bjensen"}, []string{"If-Match", `W/"7"`}, 412, ""},
		{"PATCH", "/Users/" + id, `{"Operations":[{"op":"replace","path":"title","value":"x"}]}`, []string{"If-Match", `W/"9"`}, 412, ""},
		{"DELETE", "/Users/" + id, nil, []string{"If-Match", `W/"3"`}, 412, ""},
		{"POST", "/Users", strings.Repeat(" ", MaxBodyBytes+10), nil, 413, ""},
		{"GET", "/Nope", nil, nil, 404, ""},
	} {
		code, body, _ := e.do(c.method, c.path, c.body, c.hdr...)
		if code != c.status || (c.scimType != "" && body["scimType"] != c.scimType) || body["status"] != fmt.Sprint(c.status) {
			t.Fatalf("%s %s: %d %v, want %d %s", c.method, c.path, code, body, c.status, c.scimType)
		}
		if s, _ := body["schemas"].([]any); len(s) != 1 || s[0] != URNError {
			t.Fatalf("%s %s: error schemas %v", c.method, c.path, body["schemas"])
		}
	}
	// The right If-Match passes and bumps the version; If-None-Match gives 304.
	code, u, hdr = e.do("PATCH", "/Users/"+id, `{"Operations":[{"op":"replace","path":"title","value":"Lead"}]}`, "If-Match", `W/"1"`)
	if code != 200 || hdr.Get("ETag") != `W/"2"` || u["title"] != "Lead" {
		t.Fatalf("patch with If-Match: %d %v %v", code, hdr, u)
	}
	if code, _, _ := e.do("GET", "/Users/"+id, nil, "If-None-Match", `W/"2"`); code != http.StatusNotModified {
		t.Fatalf("If-None-Match: %d", code)
	}
	// No token, a wrong one, one of another scope: 401.
	e2 := *e
	e2.token = "tango_scim_wrong"
	if code, body, hdr := e2.do("GET", "/Users", nil); code != 401 || body["status"] != "401" || hdr.Get("WWW-Authenticate") == "" {
		t.Fatalf("bad token: %d %v", code, body)
	}
	// Projection.
	_, got, _ := e.do("GET", "/Users/"+id+"?attributes=userName,urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", nil)
	if got["userName"] != "Bjensen" || got["title"] != nil || got["id"] != id || getStr(getMap(got, URNEnterprise), "department") != "Eng" || getMap(got, URNEnterprise)["employeeNumber"] != nil {
		t.Fatalf("attributes projection %v", got)
	}
	_, got, _ = e.do("GET", "/Users/"+id+"?excludedAttributes=title,id", nil)
	if got["title"] != nil || got["id"] != id || got["userName"] != "Bjensen" {
		t.Fatalf("excludedAttributes projection %v", got)
	}
	// DELETE makes a leaver and a 404.
	if code, _, _ := e.do("DELETE", "/Users/"+id, nil); code != 204 {
		t.Fatalf("delete %d", code)
	}
	if code, _, _ := e.do("GET", "/Users/"+id, nil); code != 404 {
		t.Fatalf("after delete %d", code)
	}
	if p := e.person("42"); p.Status != store.StatusLeft {
		t.Fatalf("deleted user's person %+v", p)
	}
}

func TestListFilterSortPage(t *testing.T) {
	e := newEnv(t, sqliteStore(t))
	for i := range 25 {
		dept := []string{"Eng", "Sales", "Ops"}[i%3]
		u := map[string]any{"userName": fmt.Sprintf("user%02d@x", 24-i), "title": fmt.Sprint("T", i%5), "active": i%4 != 0,
			"emails":      []any{map[string]any{"value": fmt.Sprintf("u%d@work", i), "type": "work"}},
			URNEnterprise: map[string]any{"department": dept}}
		if code, b, _ := e.do("POST", "/Users", u); code != 201 {
			t.Fatalf("create %d: %d %v", i, code, b)
		}
	}
	for _, c := range []struct {
		q       string
		total   int
		n       int
		firstUN string
	}{
		{"", 25, 25, ""},
		{"?count=10&startIndex=21", 25, 5, ""},
		{"?count=0", 25, 0, ""},
		{"?filter=userName+eq+%22USER03@x%22", 1, 1, "user03@x"},
		{"?filter=" + urlq(`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "Eng" and active eq true`), 6, 6, ""},
		{"?filter=" + urlq(`emails[type eq "work" and value sw "u1"]`) + "&sortBy=userName", 11, 11, "user05@x"},
		{"?filter=" + urlq(`not (title eq "T0") or userName pr`) + "&sortBy=userName&sortOrder=descending&count=3", 25, 3, "user24@x"},
		{"?sortBy=userName&count=2&startIndex=2", 25, 2, "user01@x"},
		{"?filter=" + urlq(`meta.lastModified gt "2000-01-01T00:00:00Z"`), 25, 25, ""},
	} {
		code, b, _ := e.do("GET", "/Users"+c.q, nil)
		if code != 200 {
			t.Fatalf("%s: %d %v", c.q, code, b)
		}
		res, _ := b["Resources"].([]any)
		if int(b["totalResults"].(float64)) != c.total || len(res) != c.n || int(b["itemsPerPage"].(float64)) != c.n {
			t.Fatalf("%s: total %v, %d resources, want %d, %d", c.q, b["totalResults"], len(res), c.total, c.n)
		}
		if c.firstUN != "" && res[0].(map[string]any)["userName"] != c.firstUN {
			t.Fatalf("%s: first %v", c.q, res[0].(map[string]any)["userName"])
		}
	}
	// POST /.search
	code, b, _ := e.do("POST", "/Users/.search", map[string]any{"filter": `title eq "T1"`, "attributes": []string{"userName"}, "count": 2})
	if code != 200 || b["totalResults"].(float64) != 5 || len(b["Resources"].([]any)) != 2 || b["Resources"].([]any)[0].(map[string]any)["title"] != nil {
		t.Fatalf(".search: %d %v", code, b)
	}
}

func urlq(s string) string {
	r := strings.NewReplacer(" ", "+", `"`, "%22", "[", "%5B", "]", "%5D", "(", "%28", ")", "%29")
	return r.Replace(s)
}

func TestDiscoveryAndBulkLimits(t *testing.T) {
	e := newEnv(t, sqliteStore(t))
	_, sp, _ := e.do("GET", "/ServiceProviderConfig", nil)
	if getMap(sp, "patch")["supported"] != true || getMap(sp, "bulk")["maxOperations"].(float64) != MaxBulkOps || getMap(sp, "etag")["supported"] != true {
		t.Fatalf("ServiceProviderConfig %v", sp)
	}
	_, rts, _ := e.do("GET", "/ResourceTypes", nil)
	if rts["totalResults"].(float64) != 2 {
		t.Fatalf("ResourceTypes %v", rts)
	}
	code, sc, _ := e.do("GET", "/Schemas/"+URNEnterprise, nil)
	if code != 200 || sc["id"] != URNEnterprise || !strings.Contains(js(sc["attributes"]), `"name":"manager"`) {
		t.Fatalf("Schemas: %d %v", code, sc)
	}
	_, sc, _ = e.do("GET", "/Schemas/"+URNUser, nil)
	un := sc["attributes"].([]any)[0].(map[string]any)
	if un["name"] != "userName" || un["required"] != true || un["caseExact"] != false || un["uniqueness"] != "server" || un["mutability"] != "readWrite" {
		t.Fatalf("userName definition %s", js(sc))
	}
	ops := make([]any, MaxBulkOps+1)
	for i := range ops {
		ops[i] = map[string]any{"method": "DELETE", "path": "/Users/x"}
	}
	if code, b, _ := e.do("POST", "/Bulk", map[string]any{"Operations": ops}); code != 413 || b["status"] != "413" {
		t.Fatalf("too many bulk operations: %d", code)
	}
	// failOnErrors stops after that many errors.
	code, b, _ := e.do("POST", "/Bulk", map[string]any{"failOnErrors": 1, "Operations": []any{
		map[string]any{"method": "DELETE", "path": "/Users/missing"},
		map[string]any{"method": "POST", "bulkId": "q", "path": "/Users", "data": map[string]any{"userName": "never"}},
	}})
	if code != 200 || len(b["Operations"].([]any)) != 1 {
		t.Fatalf("failOnErrors: %d %v", code, b)
	}
	if xs, _, _ := e.st.SCIMResources(context.Background(), store.SCIMQuery{Type: store.SCIMUser}); len(xs) != 0 {
		t.Fatalf("operations ran after failOnErrors: %d users", len(xs))
	}
}

func TestGroupMembershipBatches(t *testing.T) {
	e := newEnv(t, sqliteStore(t))
	code, g, _ := e.do("POST", "/Groups", map[string]any{"displayName": "All"})
	if code != 201 {
		t.Fatal(code)
	}
	id := g["id"].(string)
	var add []any
	for i := range 300 {
		add = append(add, map[string]any{"value": fmt.Sprint("m", i)})
	}
	body := map[string]any{"schemas": []string{URNPatch}, "Operations": []any{map[string]any{"op": "Add", "path": "members", "value": add}}}
	if code, b, _ := e.do("PATCH", "/Groups/"+id, body); code != 200 || len(b["members"].([]any)) != 300 {
		t.Fatalf("add 300: %d", code)
	}
	var rm []any
	for i := range 150 {
		rm = append(rm, map[string]any{"value": fmt.Sprint("m", 2*i)})
	}
	body["Operations"] = []any{map[string]any{"op": "Remove", "path": "members", "value": rm}}
	code, b, _ := e.do("PATCH", "/Groups/"+id, body)
	if code != 200 || len(b["members"].([]any)) != 150 || strings.Contains(js(b["members"]), `"m0"`) {
		t.Fatalf("remove 150: %d %d", code, len(b["members"].([]any)))
	}
	_, b, _ = e.do("GET", "/Groups/"+id+"?excludedAttributes=members", nil)
	if b["members"] != nil || b["displayName"] != "All" {
		t.Fatalf("excluded members %v", b)
	}
}

// Paging every user with startIndex/count after deletes returns each
// remaining user once, in creation order, with the right totalResults and
// complete resources (id, meta, stored attributes).
func TestListPagesWalkAfterDeletes(t *testing.T) {
	e := newEnv(t, sqliteStore(t))
	var ids []string
	for i := range 23 {
		code, b, _ := e.do("POST", "/Users", map[string]any{"userName": fmt.Sprintf("walk%02d@x", i), "title": fmt.Sprint("T", i)})
		if code != 201 {
			t.Fatalf("create %d: %d %v", i, code, b)
		}
		ids = append(ids, b["id"].(string))
	}
	var want []string
	for i, id := range ids {
		if i%5 == 0 || i == 22 {
			if code, _, _ := e.do("DELETE", "/Users/"+id, nil); code != 204 {
				t.Fatalf("delete %d: %d", i, code)
			}
			continue
		}
		want = append(want, id)
	}
	var got []string
	for start := 1; start <= len(want)+4; start += 4 {
		code, b, _ := e.do("GET", fmt.Sprintf("/Users?startIndex=%d&count=4", start), nil)
		if code != 200 || int(b["totalResults"].(float64)) != len(want) || int(b["startIndex"].(float64)) != start {
			t.Fatalf("page %d: %d %v", start, code, b)
		}
		res, _ := b["Resources"].([]any)
		if int(b["itemsPerPage"].(float64)) != len(res) || len(res) != max(0, min(4, len(want)-start+1)) {
			t.Fatalf("page %d: %d resources, itemsPerPage %v", start, len(res), b["itemsPerPage"])
		}
		for _, r := range res {
			m := r.(map[string]any)
			meta, _ := m["meta"].(map[string]any)
			if meta == nil || meta["resourceType"] != "User" || meta["location"] != "http://tango.test/scim/v2/Users/"+m["id"].(string) ||
				!strings.HasPrefix(m["userName"].(string), "walk") || m["title"] == nil {
				t.Fatalf("page %d: resource %v", start, m)
			}
			got = append(got, m["id"].(string))
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("walked %v\nwant   %v", got, want)
	}
}

// Users' read-only "groups" follow the Groups' members: after a create,
// a PATCH of members, a rename and a delete; in GET, lists, filters and
// projections; a client cannot write it.
func TestUserGroupsFollowMembership(t *testing.T) {
	e := newEnv(t, sqliteStore(t))
	var uid []string
	for i := range 3 {
		code, b, _ := e.do("POST", "/Users", map[string]any{"userName": fmt.Sprintf("g%d@x", i),
			"groups": []any{map[string]any{"value": "forged"}}})
		if code != 201 || b["groups"] != nil {
			t.Fatalf("create %d: %d %v", i, code, b)
		}
		uid = append(uid, b["id"].(string))
	}
	code, g, _ := e.do("POST", "/Groups", map[string]any{"displayName": "Eng",
		"members": []any{map[string]any{"value": uid[0]}, map[string]any{"value": uid[1]}}})
	if code != 201 {
		t.Fatalf("group: %d %v", code, g)
	}
	gid := g["id"].(string)
	groupsOf := func(path string) string {
		t.Helper()
		code, b, _ := e.do("GET", path, nil)
		if code != 200 {
			t.Fatalf("%s: %d %v", path, code, b)
		}
		return js(b["groups"])
	}
	want := fmt.Sprintf(`[{"$ref":"http://tango.test/scim/v2/Groups/%s","display":"Eng","type":"direct","value":"%s"}]`, gid, gid)
	if got := groupsOf("/Users/" + uid[0]); got != want {
		t.Fatalf("groups of a member: %s, want %s", got, want)
	}
	if got := groupsOf("/Users/" + uid[2]); got != "null" {
		t.Fatalf("groups of a non-member: %s", got)
	}
	_, _, h := e.do("GET", "/Users/"+uid[0], nil)
	tag := h.Get("ETag")
	// Membership by PATCH, and a rename.
	body := map[string]any{"schemas": []string{URNPatch}, "Operations": []any{
		map[string]any{"op": "remove", "path": fmt.Sprintf("members[value eq %q]", uid[0])},
		map[string]any{"op": "add", "path": "members", "value": []any{map[string]any{"value": uid[2]}}},
		map[string]any{"op": "replace", "path": "displayName", "value": "Engineering"}}}
	if code, b, _ := e.do("PATCH", "/Groups/"+gid, body); code != 200 {
		t.Fatalf("patch group: %d %v", code, b)
	}
	if got := groupsOf("/Users/" + uid[0]); got != "null" {
		t.Fatalf("removed member still has %s", got)
	}
	// Its representation changed, so did its ETag.
	if code, _, h := e.do("GET", "/Users/"+uid[0], nil, "If-None-Match", tag); code != 200 || h.Get("ETag") == tag {
		t.Fatalf("after leaving a group: %d, ETag %s (was %s)", code, h.Get("ETag"), tag)
	}
	if got := groupsOf("/Users/" + uid[2]); !strings.Contains(got, `"display":"Engineering"`) || !strings.Contains(got, gid) {
		t.Fatalf("added member has %s", got)
	}
	// Lists, filters and projections see them.
	_, b, _ := e.do("GET", "/Users?startIndex=1&count=10", nil)
	n := 0
	for _, r := range b["Resources"].([]any) {
		if gs, _ := r.(map[string]any)["groups"].([]any); len(gs) == 1 {
			n++
		}
	}
	if n != 2 {
		t.Fatalf("%d listed users have groups, want 2: %v", n, b)
	}
	_, b, _ = e.do("GET", "/Users?filter="+urlq(fmt.Sprintf(`groups.value eq %q`, gid))+"&attributes=groups", nil)
	if b["totalResults"].(float64) != 2 || strings.Contains(js(b), "userName") || !strings.Contains(js(b), "Engineering") {
		t.Fatalf("filter by group: %v", b)
	}
	_, b, _ = e.do("GET", "/Users?filter="+urlq(`userName eq "g1@x"`)+"&excludedAttributes=groups", nil)
	if b["totalResults"].(float64) != 1 || strings.Contains(js(b), "Engineering") {
		t.Fatalf("excluded groups: %v", b)
	}
	// A deleted group leaves no trace on its members.
	if code, _, _ := e.do("DELETE", "/Groups/"+gid, nil); code != 204 {
		t.Fatal(code)
	}
	if got := groupsOf("/Users/" + uid[1]); got != "null" {
		t.Fatalf("member of a deleted group has %s", got)
	}
}

// A deleted user is no longer a member of any group: the group's members
// leave it out and the group has a new version.
func TestDeletedUserLeavesItsGroups(t *testing.T) {
	e := newEnv(t, sqliteStore(t))
	var uid []string
	for i := range 2 {
		code, b, _ := e.do("POST", "/Users", map[string]any{"userName": fmt.Sprintf("d%d@x", i)})
		if code != 201 {
			t.Fatalf("create %d: %d %v", i, code, b)
		}
		uid = append(uid, b["id"].(string))
	}
	code, g, h := e.do("POST", "/Groups", map[string]any{"displayName": "Ops",
		"members": []any{map[string]any{"value": uid[0]}, map[string]any{"value": uid[1]}}})
	if code != 201 {
		t.Fatalf("group: %d %v", code, g)
	}
	gid, tag := g["id"].(string), h.Get("ETag")
	if code, b, _ := e.do("DELETE", "/Users/"+uid[0], nil); code != 204 {
		t.Fatalf("delete: %d %v", code, b)
	}
	code, g, h = e.do("GET", "/Groups/"+gid, nil)
	if code != 200 || strings.Contains(js(g["members"]), uid[0]) || !strings.Contains(js(g["members"]), uid[1]) || h.Get("ETag") == tag {
		t.Fatalf("group after its member was deleted: %d %s, ETag %s (was %s)", code, js(g["members"]), h.Get("ETag"), tag)
	}
	// The last member gone: no members at all.
	e.do("DELETE", "/Users/"+uid[1], nil)
	if _, g, _ = e.do("GET", "/Groups/"+gid, nil); g["members"] != nil {
		t.Fatalf("members of an emptied group: %s", js(g["members"]))
	}
}
