package scim

import (
	"encoding/json"
	"testing"
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
