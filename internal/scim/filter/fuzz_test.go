package filter

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// seedFilters are added to the corpus in testdata/fuzz/FuzzParse.
var seedFilters = []string{
	`userName eq "bjensen"`,
	`name.familyName co "O'Malley"`,
	`urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J"`,
	`title pr and userType eq "Employee"`,
	`meta.lastModified ge "2011-05-13T04:42:34Z"`,
	`userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")`,
	`emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@example.com"]`,
	`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "x"`,
	`loginCount gt -1.5e3 or active eq TRUE or x eq null`,
	`s eq "\u00e9\ud83d\ude00\n\"\\"`,
	`((a pr) or not (b pr)) and c pr`,
	`members[$ref eq "x"]`,
	`userName eq "x`,
	`a eq 01`,
	`userName sw O`,
	`meta.created gt 2015-10-10T14:38:21Z and (name.familyName eq O'Malley or emails[type eq work])`,
	`displayName eq Test Group`,
}

var seedPaths = []string{
	`userName`,
	`name.givenName`,
	`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager`,
	`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value`,
	`members[value eq "2819c223"]`,
	`emails[type eq "work"].value`,
	`addresses[type eq "work" and not (primary eq false)].formatted`,
	`emails[type eq "work"`,
	`emails[type eq "work"].`,
	`emails[type eq work].value`,
}

func checkFuzzErr(t *testing.T, s string, err error, types ...string) {
	t.Helper()
	var fe *Error
	if !errors.As(err, &fe) {
		t.Fatalf("%q: error %T %v is not *Error", s, err, err)
	}
	okType := false
	for _, ty := range types {
		okType = okType || fe.ScimType == ty
	}
	if !okType || fe.Pos < 0 || fe.Pos > len(s) || fe.Msg == "" {
		t.Fatalf("%q: malformed error %+v", s, fe)
	}
}

// reparse parses canonical output. Canonical form can be longer than the
// input (it adds spaces), so the length limit is relaxed; the depth limit
// is not, since canonical form never nests deeper than its input.
func reparseLimits(s string) Limits { return Limits{MaxLength: len(s) + 1} }

func FuzzParse(f *testing.F) {
	for _, s := range seedFilters {
		f.Add(s)
	}
	resources := []map[string]any{decode(f, bjensenJSON), decode(f, groupJSON)}
	schema := func(p AttrPath) bool { return strings.EqualFold(p.Name, "id") || strings.EqualFold(p.Sub, "value") }
	f.Fuzz(func(t *testing.T, s string) {
		e, err := Parse(s)
		te, terr := ParseTolerant(s)
		if err == nil && (terr != nil || !reflect.DeepEqual(e, te)) {
			t.Fatalf("%q: ParseTolerant differs from Parse: %v %v", s, te, terr)
		}
		if err != nil {
			if e != nil {
				t.Fatalf("%q: Expr %v returned with error", s, e)
			}
			checkFuzzErr(t, s, err, ScimTypeInvalidFilter)
			if terr != nil {
				if te != nil || terr.Error() != err.Error() {
					t.Fatalf("%q: ParseTolerant error %v, want Parse's %v", s, terr, err)
				}
				return
			}
			// Accepted only by the tolerant fallback: the same checks,
			// and its canonical form parses strictly.
			e = te
		}
		if err := Validate(e); err != nil {
			t.Fatalf("%q: parsed tree invalid: %v", s, err)
		}
		c := e.String()
		e2, err := reparseLimits(c).Parse(c)
		if err != nil {
			t.Fatalf("%q: canonical form %q does not parse: %v", s, c, err)
		}
		if c2 := e2.String(); c2 != c {
			t.Fatalf("%q: canonical form not stable: %q -> %q", s, c, c2)
		}
		if !reflect.DeepEqual(e, e2) {
			t.Fatalf("%q: re-parsed tree differs:\n%#v\n%#v", s, e, e2)
		}
		for _, r := range resources {
			if _, err := Match(e, r, schema); err != nil {
				checkFuzzErrEval(t, s, err)
			}
		}
	})
}

func checkFuzzErrEval(t *testing.T, s string, err error) {
	t.Helper()
	var fe *Error
	if !errors.As(err, &fe) || fe.ScimType != ScimTypeInvalidFilter || fe.Pos != -1 {
		t.Fatalf("%q: Match error %v is not an invalidFilter *Error", s, err)
	}
}

func FuzzParsePath(f *testing.F) {
	for _, s := range seedPaths {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePath(s)
		tp, terr := ParsePathTolerant(s)
		if err == nil && (terr != nil || !reflect.DeepEqual(p, tp)) {
			t.Fatalf("%q: ParsePathTolerant differs from ParsePath: %v %v", s, tp, terr)
		}
		if err != nil {
			if !reflect.DeepEqual(p, Path{}) {
				t.Fatalf("%q: Path %v returned with error", s, p)
			}
			checkFuzzErr(t, s, err, ScimTypeInvalidPath, ScimTypeInvalidFilter)
			if terr != nil {
				if !reflect.DeepEqual(tp, Path{}) || terr.Error() != err.Error() {
					t.Fatalf("%q: ParsePathTolerant error %v, want ParsePath's %v", s, terr, err)
				}
				return
			}
			p = tp
		}
		if p.Attr.Name == "" {
			t.Fatalf("%q: empty attribute name", s)
		}
		if p.Filter != nil {
			if err := Validate(ValuePath{Attr: AttrPath{URN: p.Attr.URN, Name: p.Attr.Name}, Filter: p.Filter}); err != nil {
				t.Fatalf("%q: parsed filter invalid: %v", s, err)
			}
		}
		c := p.String()
		p2, err := reparseLimits(c).ParsePath(c)
		if err != nil {
			t.Fatalf("%q: canonical form %q does not parse: %v", s, c, err)
		}
		if c2 := p2.String(); c2 != c {
			t.Fatalf("%q: canonical form not stable: %q -> %q", s, c, c2)
		}
		if !reflect.DeepEqual(p, p2) {
			t.Fatalf("%q: re-parsed path differs:\n%#v\n%#v", s, p, p2)
		}
	})
}
