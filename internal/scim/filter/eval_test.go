package filter

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// bjensen is the RFC 7643 example user, trimmed, with a few extra
// attributes to exercise edge cases.
const bjensenJSON = `{
  "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User",
              "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
  "id": "2819c223-7f76-453a-919d-413861904646",
  "externalId": "bjensen-ext",
  "userName": "bjensen",
  "name": {"familyName": "O'Malley", "givenName": "Barbara"},
  "displayName": "Babs Jensen",
  "nickName": "",
  "title": "Tour Guide",
  "userType": "Employee",
  "active": true,
  "loginCount": 42,
  "zero": 0,
  "phoneNumbers": [],
  "x509Certificates": null,
  "photos": [null],
  "emptyObj": {},
  "emails": [
    {"value": "bjensen@example.com", "type": "work", "primary": true},
    {"value": "babs@jensen.org", "type": "home"}
  ],
  "ims": [{"value": "babs@xmpp.example.com", "type": "xmpp"}],
  "roles": ["admin", "Auditor"],
  "meta": {"resourceType": "User",
           "created": "2010-01-23T04:56:22Z",
           "lastModified": "2011-05-13T04:42:34Z",
           "lastLogin": "2011-05-13T05:00:00+02:00"},
  "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {
    "employeeNumber": "701984",
    "costCenter": "4130",
    "manager": {"value": "26118915-6090-4610-87e4-49d8ca9f808d", "displayName": "John Smith"}
  }
}`

const jsmithJSON = `{
  "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
  "id": "c75ad752-64ae-4823-840d-ffa80929976c",
  "userName": "JSmith",
  "userType": "Intern",
  "active": false,
  "name": {"familyName": "Smith", "givenName": "John"},
  "emails": [{"value": "john@example.net", "type": "home"}],
  "meta": {"created": "2011-05-13T04:42:34Z", "lastModified": "2011-05-14T00:00:00+02:00"}
}`

const groupJSON = `{
  "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
  "id": "e9e30dba-f08f-4109-8486-d5c6a331660a",
  "displayName": "Tour Guides",
  "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
  "members": [{"value": "2819c223-7f76-453a-919d-413861904646", "display": "Babs Jensen",
               "$ref": "https://example.com/v2/Users/2819c223-7f76-453a-919d-413861904646"}]
}`

func decode(t testing.TB, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func mustMatch(t *testing.T, filter string, res map[string]any, schema CaseExactFunc) bool {
	t.Helper()
	e, err := Parse(filter)
	if err != nil {
		t.Fatalf("Parse(%q): %v", filter, err)
	}
	ok, err := Match(e, res, schema)
	if err != nil {
		t.Fatalf("Match(%q): %v", filter, err)
	}
	return ok
}

// TestRFC7644Examples evaluates the filter examples of RFC 7644 section
// 3.4.2.2 against two users, so each example is checked both ways where
// the data allows.
func TestRFC7644Examples(t *testing.T) {
	bj, js := decode(t, bjensenJSON), decode(t, jsmithJSON)
	tests := []struct {
		filter string
		bj, js bool
	}{
		{`userName eq "bjensen"`, true, false},
		{`name.familyName co "O'Malley"`, true, false},
		{`userName sw "J"`, false, true},
		{`urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J"`, false, true},
		{`title pr`, true, false},
		{`meta.lastModified gt "2011-05-13T04:42:34Z"`, false, true},
		{`meta.lastModified ge "2011-05-13T04:42:34Z"`, true, true},
		{`meta.lastModified lt "2011-05-13T04:42:34Z"`, false, false},
		{`meta.lastModified le "2011-05-13T04:42:34Z"`, true, false},
		{`title pr and userType eq "Employee"`, true, false},
		{`title pr or userType eq "Intern"`, true, true},
		{`schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"`, true, false},
		{`userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")`, true, false},
		{`userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")`, false, true},
		{`userType eq "Employee" and (emails.type eq "work")`, true, false},
		{`userType eq "Employee" and emails[type eq "work" and value co "@example.com"]`, true, false},
		{`emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@example.com"]`, true, false},
	}
	for _, tc := range tests {
		t.Run(tc.filter, func(t *testing.T) {
			if got := mustMatch(t, tc.filter, bj, nil); got != tc.bj {
				t.Errorf("bjensen: got %v, want %v", got, tc.bj)
			}
			if got := mustMatch(t, tc.filter, js, nil); got != tc.js {
				t.Errorf("jsmith: got %v, want %v", got, tc.js)
			}
		})
	}
}

// TestEntraFilters covers the filters Microsoft Entra ID provisioning
// sends to look up users and groups.
func TestEntraFilters(t *testing.T) {
	bj, grp := decode(t, bjensenJSON), decode(t, groupJSON)
	externalIDExact := func(p AttrPath) bool {
		return p.URN == "" && strings.EqualFold(p.Name, "externalId") && p.Sub == ""
	}
	tests := []struct {
		filter string
		res    map[string]any
		want   bool
	}{
		{`userName eq "bjensen"`, bj, true},
		{`userName eq "BJensen"`, bj, true}, // userName is caseExact=false
		{`userName eq "someone-else@contoso.com"`, bj, false},
		{`externalId eq "bjensen-ext"`, bj, true},
		{`externalId eq "BJENSEN-EXT"`, bj, false}, // externalId is caseExact=true
		{`externalId eq "nope"`, bj, false},
		{`displayName eq "Tour Guides"`, grp, true},
		{`displayName eq "tour guides"`, grp, true},
		{`displayName eq "Other Group"`, grp, false},
		{`externalId eq "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159"`, grp, true},
		{`id eq "e9e30dba-f08f-4109-8486-d5c6a331660a" and members[value eq "2819c223-7f76-453a-919d-413861904646"]`, grp, true},
		{`members[value eq "00000000-0000-0000-0000-000000000000"]`, grp, false},
	}
	for _, tc := range tests {
		t.Run(tc.filter, func(t *testing.T) {
			if got := mustMatch(t, tc.filter, tc.res, externalIDExact); got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

// TestMatch covers each operator per value type, multi-valued and complex
// attributes, presence, null, extensions and case-insensitive lookup.
func TestMatch(t *testing.T) {
	bj := decode(t, bjensenJSON)
	tests := []struct {
		filter string
		want   bool
	}{
		// strings, every operator, case-insensitive by default
		{`title eq "tour guide"`, true},
		{`title eq "Tour"`, false},
		{`title ne "Tour"`, true},
		{`title ne "TOUR GUIDE"`, false},
		{`title co "UR GU"`, true},
		{`title co "guides"`, false},
		{`title sw "tOUR"`, true},
		{`title sw "Guide"`, false},
		{`title ew "GUIDE"`, true},
		{`title ew "Tour"`, false},
		{`title gt "Tour"`, true},
		{`title gt "tour guide"`, false},
		{`title ge "TOUR GUIDE"`, true},
		{`title ge "Tour Guidf"`, false},
		{`title lt "tour guidf"`, true},
		{`title lt "Tour Guide"`, false},
		{`title le "TOUR GUIDE"`, true},
		{`title le "Tour"`, false},
		{`title co ""`, true},
		// numbers
		{`loginCount eq 42`, true},
		{`loginCount eq 42.0`, true},
		{`loginCount eq 4.2e1`, true},
		{`loginCount eq 41`, false},
		{`loginCount ne 41`, true},
		{`loginCount ne 42`, false},
		{`loginCount gt 41.5`, true},
		{`loginCount gt 42`, false},
		{`loginCount ge 42`, true},
		{`loginCount ge 43`, false},
		{`loginCount lt 100`, true},
		{`loginCount lt 42`, false},
		{`loginCount le 42`, true},
		{`loginCount le -1`, false},
		{`zero eq -0`, true},
		// type mismatches never match
		{`loginCount eq "42"`, false},
		{`loginCount ne "42"`, false},
		{`userName eq 5`, false},
		{`active eq "true"`, false},
		{`title eq true`, false},
		// booleans
		{`active eq true`, true},
		{`active eq TRUE`, true},
		{`active eq false`, false},
		{`active ne false`, true},
		{`active ne true`, false},
		{`emails.primary eq true`, true},
		// date-times compare as instants when both sides parse as RFC 3339
		{`meta.created lt "2011-01-01T00:00:00Z"`, true},
		{`meta.created gt "2011-01-01T00:00:00Z"`, false},
		{`meta.lastModified eq "2011-05-13T06:42:34+02:00"`, true},
		{`meta.lastModified eq "2011-05-13T04:42:34.000Z"`, true},
		{`meta.lastLogin gt "2011-05-13T04:42:34Z"`, false}, // 03:00Z; lexicographically it would be greater
		{`meta.lastLogin lt "2011-05-13T04:42:34Z"`, true},
		{`meta.lastLogin gt "2011-05-13"`, true}, // not both date-times: lexicographic
		{`meta.created sw "2010-01"`, true},
		// presence
		{`title pr`, true},
		{`nickName pr`, false},
		{`phoneNumbers pr`, false},
		{`x509Certificates pr`, false},
		{`photos pr`, false},
		{`emptyObj pr`, false},
		{`missing pr`, false},
		{`active pr`, true},
		{`zero pr`, true},
		{`name pr`, true},
		{`emails pr`, true},
		{`emails.display pr`, false},
		{`emails.primary pr`, true},
		// null
		{`title eq null`, false},
		{`title ne null`, true},
		{`nickName eq null`, true},
		{`missing eq null`, true},
		{`missing ne null`, false},
		{`x509Certificates eq null`, true},
		{`name.middleName eq null`, true},
		{`name.givenName eq null`, false},
		// absent attributes match nothing, not even ne
		{`missing eq "x"`, false},
		{`missing ne "x"`, false},
		{`missing.sub eq "x"`, false},
		{`title.sub eq "x"`, false},
		// multi-valued attributes: any value
		{`emails.type eq "home"`, true},
		{`emails.type eq "other"`, false},
		{`emails.type ne "work"`, true},
		{`emails.value ew "JENSEN.ORG"`, true},
		{`roles eq "auditor"`, true},
		{`roles eq "user"`, false},
		{`schemas eq "urn:ietf:params:scim:schemas:core:2.0:User"`, true},
		// complex attribute without sub-attribute compares "value"
		{`emails eq "babs@jensen.org"`, true},
		{`emails co "nomatch"`, false},
		{`name eq "O'Malley"`, false},
		// value paths require one element to satisfy the whole filter
		{`emails[type eq "home" and value co "example.com"]`, false},
		{`emails.type eq "home" and emails.value co "example.com"`, true},
		{`emails[type eq "work" and primary eq true]`, true},
		{`emails[not (type eq "work")]`, true},
		{`emails[type eq "work" or type eq "other"]`, true},
		{`emails[display pr]`, false},
		{`name[familyName eq "o'malley"]`, true},
		{`title[value pr]`, false},
		{`roles[value pr]`, false},
		{`missing[value pr]`, false},
		// logical operators
		{`title pr and active eq true`, true},
		{`title pr and active eq false`, false},
		{`nickName pr or active eq true`, true},
		{`nickName pr or active eq false`, false},
		{`not (title pr)`, false},
		{`not (missing pr)`, true},
		{`not (not (title pr))`, true},
		{`missing pr or title pr and active eq true`, true},
		{`(missing pr or title pr) and active eq false`, false},
		// case-insensitive attribute names
		{`USERNAME eq "bjensen"`, true},
		{`Name.FAMILYNAME eq "O'MALLEY"`, true},
		{`EMAILS[TYPE eq "work"]`, true},
		// extension attributes live under the URN key
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "701984"`, true},
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "1"`, false},
		{`URN:IETF:PARAMS:SCIM:SCHEMAS:EXTENSION:ENTERPRISE:2.0:USER:EMPLOYEENUMBER eq "701984"`, true},
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "26118915-6090-4610-87e4-49d8ca9f808d"`, true},
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.displayName sw "john"`, true},
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager[displayName ew "smith"]`, true},
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager eq "26118915-6090-4610-87e4-49d8ca9f808d"`, true},
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:userName eq "bjensen"`, false},
		{`employeeNumber eq "701984"`, false}, // unqualified names are core attributes
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User pr`, true},
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:Group pr`, false},
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User[employeeNumber eq "701984"]`, true},
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User[employeeNumber eq "1"]`, false},
		{`urn:example:params:scim:ext:1.0:User:employeeNumber pr`, false},
		// the core schema URN addresses top-level attributes
		{`urn:ietf:params:scim:schemas:core:2.0:User:userName eq "bjensen"`, true},
		{`urn:ietf:params:scim:schemas:core:2.0:User:name.givenName eq "Barbara"`, true},
		{`urn:ietf:params:scim:schemas:core:2.0:User:emails[type eq "home"]`, true},
	}
	for _, tc := range tests {
		t.Run(tc.filter, func(t *testing.T) {
			if got := mustMatch(t, tc.filter, bj, nil); got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

// TestMatchGoValues checks resources built in Go rather than decoded.
func TestMatchGoValues(t *testing.T) {
	res := map[string]any{
		"count":  7,
		"big":    int64(1 << 40),
		"num":    json.Number("2.5"),
		"bad":    json.Number("x"),
		"Title":  "Boss",
		"title":  "boss-lower",
		"nested": map[string]any{"list": []any{map[string]any{"v": "a"}, "not-a-map", nil}},
	}
	tests := []struct {
		filter string
		want   bool
	}{
		{`count eq 7`, true},
		{`count gt 6.5`, true},
		{`big eq 1099511627776`, true},
		{`num lt 3`, true},
		{`num eq 2.5`, true},
		{`bad eq 0`, false},
		{`title eq "boss-lower"`, true}, // exact key wins
		{`TITLE eq "Boss"`, true},       // "Title" < "title": deterministic choice
		{`nested.list pr`, true},
	}
	for _, tc := range tests {
		if got := mustMatch(t, tc.filter, res, nil); got != tc.want {
			t.Errorf("%s: got %v, want %v", tc.filter, got, tc.want)
		}
	}
	// hand-built values of Go integer types
	ok, err := Match(Compare{Path: p("count"), Op: OpGe, Value: 7}, res, nil)
	if err != nil || !ok {
		t.Errorf("int value: got %v, %v", ok, err)
	}
	ok, err = Match(pr("title"), nil, nil)
	if err != nil || ok {
		t.Errorf("nil resource: got %v, %v", ok, err)
	}
}

// TestCaseExact checks that the schema callback switches string
// comparisons to case-sensitive, and receives the full attribute path.
func TestCaseExact(t *testing.T) {
	bj := decode(t, bjensenJSON)
	exactFor := func(paths ...AttrPath) CaseExactFunc {
		return func(q AttrPath) bool {
			for _, p := range paths {
				if p.EqualFold(q) {
					return true
				}
			}
			return false
		}
	}
	extID, emailValue := p("externalId"), ps("emails", "value")
	empNo := AttrPath{URN: entURN, Name: "employeeNumber"}
	tests := []struct {
		filter string
		exact  []AttrPath
		want   bool
	}{
		{`externalId eq "BJENSEN-EXT"`, nil, true},
		{`externalId eq "BJENSEN-EXT"`, []AttrPath{extID}, false},
		{`externalId eq "bjensen-ext"`, []AttrPath{extID}, true},
		{`externalId ne "BJENSEN-EXT"`, []AttrPath{extID}, true},
		{`externalId co "EXT"`, []AttrPath{extID}, false},
		{`externalId co "ext"`, []AttrPath{extID}, true},
		{`externalId sw "BJ"`, []AttrPath{extID}, false},
		{`externalId ew "-EXT"`, []AttrPath{extID}, false},
		{`externalId lt "C"`, nil, true},
		{`externalId lt "C"`, []AttrPath{extID}, false},    // 'b' > 'C' in byte order
		{`userName eq "BJENSEN"`, []AttrPath{extID}, true}, // other attributes unaffected
		{`emails[value eq "BABS@JENSEN.ORG"]`, nil, true},
		{`emails[value eq "BABS@JENSEN.ORG"]`, []AttrPath{emailValue}, false},
		{`emails.value eq "BABS@JENSEN.ORG"`, []AttrPath{emailValue}, false},
		{`emails[type eq "HOME"]`, []AttrPath{emailValue}, true},
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "701984"`, []AttrPath{empNo}, true},
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:costCenter eq "4130"`, []AttrPath{empNo}, true},
	}
	for _, tc := range tests {
		t.Run(tc.filter, func(t *testing.T) {
			if got := mustMatch(t, tc.filter, bj, exactFor(tc.exact...)); got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}

	// The callback sees full paths, including the outer attribute of a
	// value filter and the URN as written.
	var seen []AttrPath
	record := func(q AttrPath) bool { seen = append(seen, q); return false }
	mustMatch(t, `emails[type eq "nomatch"] or urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager[displayName eq "x"] or name.givenName eq "x" or loginCount eq 1`, bj, record)
	want := []AttrPath{
		{Name: "emails", Sub: "type"}, {Name: "emails", Sub: "type"},
		{URN: entURN, Name: "manager", Sub: "displayName"},
		{Name: "name", Sub: "givenName"},
		// loginCount: number comparisons never consult the callback
	}
	if !reflect.DeepEqual(seen, want) {
		t.Errorf("callback saw %#v,\nwant %#v", seen, want)
	}
}

// TestMatchErrors checks unsupported comparisons and malformed hand-built
// trees are reported as invalidFilter errors.
func TestMatchErrors(t *testing.T) {
	bj := decode(t, bjensenJSON)
	parsed := []struct{ filter, msg string }{
		{`active gt "x"`, `"gt" is not supported for boolean attribute "active"`},
		{`active le 1`, `boolean attribute`},
		{`emails[primary lt "a"]`, `boolean attribute "emails.primary"`},
		{`emails.primary ge 0`, `boolean attribute "emails.primary"`},
	}
	for _, tc := range parsed {
		e, err := Parse(tc.filter)
		if err != nil {
			t.Fatalf("Parse(%q): %v", tc.filter, err)
		}
		checkEvalErr(t, tc.filter, e, bj, tc.msg)
	}
	built := []struct {
		name string
		e    Expr
		msg  string
	}{
		{"nil", nil, "missing expression"},
		{"nil operand", And{pr("a"), nil}, "missing expression"},
		{"unknown op", Compare{Path: p("a"), Op: "EQ", Value: "x"}, `unknown operator "EQ"`},
		{"gt bool", Compare{Path: p("a"), Op: OpGt, Value: true}, "with a boolean"},
		{"co number", Compare{Path: p("a"), Op: OpCo, Value: 1.0}, "with a number"},
		{"lt null", Compare{Path: p("a"), Op: OpLt, Value: nil}, "with null"},
		{"bad value type", Compare{Path: p("a"), Op: OpEq, Value: []string{"x"}}, "unsupported comparison value type"},
		{"empty name", Present{Path: AttrPath{}}, "empty attribute name"},
		{"nested value path", ValuePath{Attr: p("a"), Filter: ValuePath{Attr: p("b"), Filter: pr("c")}}, "cannot be nested"},
		{"sub in value path attr", ValuePath{Attr: ps("a", "b"), Filter: pr("c")}, "cannot follow a sub-attribute"},
		{"sub inside value path", ValuePath{Attr: p("a"), Filter: Not{Present{Path: ps("b", "c")}}}, "plain sub-attribute name"},
		{"urn inside value path", ValuePath{Attr: p("a"), Filter: Present{Path: AttrPath{URN: "urn:a:b", Name: "c"}}}, "plain sub-attribute name"},
	}
	for _, tc := range built {
		checkEvalErr(t, tc.name, tc.e, bj, tc.msg)
		if err := Validate(tc.e); err == nil {
			t.Errorf("%s: Validate = nil, want error", tc.name)
		}
	}
	if err := Validate(And{pr("a"), ValuePath{Attr: p("b"), Filter: eq("c", 1.0)}}); err != nil {
		t.Errorf("Validate(valid) = %v", err)
	}
}

func checkEvalErr(t *testing.T, name string, e Expr, res map[string]any, msg string) {
	t.Helper()
	ok, err := Match(e, res, nil)
	var fe *Error
	if !errors.As(err, &fe) {
		t.Errorf("%s: Match = %v, %v; want *Error", name, ok, err)
		return
	}
	if ok || fe.ScimType != ScimTypeInvalidFilter || fe.Pos != -1 || !strings.Contains(fe.Msg, msg) {
		t.Errorf("%s: got %v, %+v; want invalidFilter containing %q", name, ok, fe, msg)
	}
}
