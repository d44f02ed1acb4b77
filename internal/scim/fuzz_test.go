package scim

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/tango-iga/tango/internal/config"
)

// FuzzPatch feeds arbitrary PATCH bodies to the parser and the engine:
// no panic, and whatever is accepted is a valid, normalized User.
func FuzzPatch(f *testing.F) {
	for _, s := range []string{
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"active","value":"False"}]}`,
		`{"Operations":[{"op":"add","path":"emails[type eq \"work\"].value","value":"x@y"}]}`,
		`{"Operations":[{"op":"replace","value":{"name.givenName":"A","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager":{"value":"m"}}}]}`,
		`{"Operations":[{"op":"remove","path":"members[value eq \"1\"]"}]}`,
		`{"Operations":[{"op":"remove","path":"emails","value":[{"value":"a@w"}]}]}`,
		`{"Operations":[{"op":"add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User","value":{"department":"D"}}]}`,
		`{"Operations":[]}`, `[]`, `{"Operations":[{"op":"add","path":"x[","value":1}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if len(body) > 1<<16 {
			return
		}
		ops, e := ParsePatch(body)
		if e != nil {
			if e.Status != 400 || e.ScimType == "" {
				t.Fatalf("error without a scimType: %v", e)
			}
			return
		}
		var doc map[string]any
		_ = json.Unmarshal([]byte(`{"userName":"a","emails":[{"value":"a@w","type":"work","primary":true}],"name":{"givenName":"A"}}`), &doc)
		out, e := applyPatch(userType, doc, ops)
		if e != nil {
			if e.Status != 400 {
				t.Fatalf("status %d", e.Status)
			}
			return
		}
		if _, err := json.Marshal(out); err != nil {
			t.Fatalf("result does not encode: %v", err)
		}
		if s, _ := out["userName"].(string); s == "" {
			t.Fatalf("accepted a User without userName: %v", out)
		}
		again, e := normalize(userType, out)
		if e != nil {
			t.Fatalf("result is not normalized: %v", e)
		}
		a, _ := json.Marshal(out)
		b, _ := json.Marshal(again)
		if string(a) != string(b) {
			t.Fatalf("normalize is not idempotent:\n%s\n%s", a, b)
		}
	})
}

// FuzzUserMapping feeds arbitrary pushed User documents to the flattening
// a scim source's mapping reads and to the mapping itself: no panic; every
// row key is a column a mapping can name; a mapped person has the
// employee ID the key path holds.
func FuzzUserMapping(f *testing.F) {
	for _, s := range []string{
		`{"userName":"a@x","externalId":"E1","name":{"givenName":"A","familyName":"B"},"emails":[{"value":"a@x","type":"work","primary":true}]}`,
		`{"userName":"b","emails":[{"value":1},{"type":null},"x"],"name":"flat","active":"True"}`,
		`{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"D","manager":{"value":"m1"},"employeeNumber":7}}`,
		`{"emails":{"value":"not a list"},"phoneNumbers":[[1,2]],"externalId":["x"]}`,
		`{}`,
	} {
		f.Add([]byte(s))
	}
	cols := map[string]bool{}
	for _, c := range rowColumns {
		cols[c] = true
	}
	um, err := newUserMapper(&config.Source{Name: "wd", Kind: "scim", Key: "externalId", Mapping: map[string]string{
		"display_name": `row["name.givenName"] + " " + row["name.familyName"]`,
		"email":        `emails[type eq "work"].value`,
		"department":   URNEnterprise + ":department",
		"title":        `row["title"] == "" ? "none" : row["title"]`,
	}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if len(body) > 1<<16 {
			return
		}
		var doc map[string]any
		if json.Unmarshal(body, &doc) != nil {
			return
		}
		for k := range userRow(doc, "id1") {
			if !cols[k] {
				t.Fatalf("row key %q is not a column", k)
			}
		}
		p, _, employee, err := um.person(doc, "id1")
		if err != nil {
			return
		}
		if ext := userRow(doc, "id1")["externalId"]; strings.TrimSpace(ext) != employee {
			t.Fatalf("employee %q from externalId %q", employee, ext)
		}
		_ = p
	})
}

// FuzzCheckBody feeds arbitrary bytes to the pre-scan of SCIM bodies: no
// panic, every refusal is a 400 with a scimType, what it accepts is one
// valid JSON value nested at most MaxDepth deep, and what it refuses as
// too deep is deeper than that.
func FuzzCheckBody(f *testing.F) {
	for _, s := range []string{
		`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"a","name":{"givenName":"A"}}`,
		`{"userName":"a","USERNAME":"b"}`, `{"a":[{"b":1,"B":2}]}`, `[[[[[[]]]]]]`, `{"a":{"a":{"a":{}}}}`,
		`{} {}`, `"x"`, `{"a":1,}`, ``, `{"a" "b"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if len(body) > 1<<16 {
			return
		}
		e := checkBody(body)
		if e != nil {
			if e.Status != 400 || e.ScimType == "" {
				t.Fatalf("refusal without a scimType: %v", e)
			}
			if strings.Contains(e.Detail, "deep") && depthOf(body) <= MaxDepth {
				t.Fatalf("refused as too deep at depth %d: %s", depthOf(body), body)
			}
			return
		}
		if len(strings.TrimSpace(string(body))) > 0 && !json.Valid(body) {
			t.Fatalf("accepted invalid JSON %q", body)
		}
		if d := depthOf(body); d > MaxDepth {
			t.Fatalf("accepted depth %d", d)
		}
	})
}

// depthOf is the greatest nesting of brackets outside strings in valid JSON.
func depthOf(b []byte) int {
	depth, most, inStr, esc := 0, 0, false, false
	for _, c := range b {
		switch {
		case inStr && esc:
			esc = false
		case inStr && c == '\\':
			esc = true
		case inStr && c == '"':
			inStr = false
		case inStr:
		case c == '"':
			inStr = true
		case c == '{' || c == '[':
			depth++
			most = max(most, depth)
		case c == '}' || c == ']':
			depth--
		}
	}
	return most
}
