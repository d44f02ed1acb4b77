package filter

import (
	"reflect"
	"testing"
)

// Real clients (Entra ID, Okta, Microsoft's SCIM reference tests) send
// comparison values without quotes. ParseTolerant accepts them where the
// meaning is unambiguous, as strings; Parse stays strict.
func TestParseTolerant(t *testing.T) {
	tests := []struct{ in, want string }{
		{`userName sw O`, `userName sw "O"`},
		{`meta.created gt 2015-10-10T14:38:21Z`, `meta.created gt "2015-10-10T14:38:21Z"`},
		{`userName eq bjensen@example.com`, `userName eq "bjensen@example.com"`},
		{`name.familyName eq O'Malley`, `name.familyName eq "O'Malley"`},
		{`emails[type eq work]`, `emails[type eq "work"]`},
		{`(userName eq a-b) and active eq true`, `userName eq "a-b" and active eq true`},
		{`employeeNumber eq 007`, `employeeNumber eq "007"`},
		{`displayName eq Zoë`, `displayName eq "Zoë"`},
		{`loginCount gt 10`, `loginCount gt 10`},     // still a number
		{`active eq TRUE`, `active eq true`},         // still a literal
		{`userName eq "b j"`, `userName eq "b j"`},   // strict: unchanged
		{`externalId eq null`, `externalId eq null`}, // still a literal
		{`userName eq x or title pr`, `userName eq "x" or title pr`},
	}
	for _, c := range tests {
		e, err := ParseTolerant(c.in)
		if err != nil {
			t.Errorf("ParseTolerant(%q): %v", c.in, err)
			continue
		}
		if got := e.String(); got != c.want {
			t.Errorf("ParseTolerant(%q) = %s, want %s", c.in, got, c.want)
		}
		if strict, err := Parse(e.String()); err != nil || !reflect.DeepEqual(strict, e) {
			t.Errorf("canonical form of %q does not parse strictly to the same tree: %v", c.in, err)
		}
	}
	// What stays invalid: ambiguous or malformed, with the strict error.
	for _, in := range []string{
		`displayName eq Test Group`, // a value with spaces needs quotes
		`userName eq and`,
		`userName eq 'bjensen'`,
		`userName eq`,
		`userName@x eq 1`,
		`userName zz x`,
		`emails[type eq work`,
		`userName eq "x`,
		`userName eq x)`,
		`title pr x`,
	} {
		if e, err := ParseTolerant(in); err == nil {
			t.Errorf("ParseTolerant(%q) = %v, want an error", in, e)
		} else if _, serr := Parse(in); serr == nil || serr.Error() != err.Error() {
			t.Errorf("ParseTolerant(%q) error %v, want Parse's %v", in, err, serr)
		}
	}
	if _, err := Parse(`userName sw O`); err == nil {
		t.Error("Parse accepts an unquoted value")
	}
	p, err := ParsePathTolerant(`emails[type eq work].value`)
	if err != nil || p.String() != `emails[type eq "work"].value` {
		t.Errorf("ParsePathTolerant: %v %v", p, err)
	}
	if _, err := ParsePathTolerant(`emails[type eq work`); err == nil {
		t.Error("ParsePathTolerant accepts an unclosed value filter")
	}
}
