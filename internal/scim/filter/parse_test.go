package filter

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

const (
	entURN  = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	coreURN = "urn:ietf:params:scim:schemas:core:2.0:User"
)

func p(name string) AttrPath                    { return AttrPath{Name: name} }
func ps(name, sub string) AttrPath              { return AttrPath{Name: name, Sub: sub} }
func pr(name string) Present                    { return Present{Path: p(name)} }
func eq(name string, v any) Compare             { return Compare{Path: p(name), Op: OpEq, Value: v} }
func cmp(ap AttrPath, op string, v any) Compare { return Compare{Path: ap, Op: op, Value: v} }

// TestParseCanonical checks that filters parse and print in canonical form
// (lower-case keywords, single spaces, minimal parentheses, JSON values).
func TestParseCanonical(t *testing.T) {
	tests := []struct{ in, want string }{
		// every operator, case-insensitive
		{`userName eq "bjensen"`, `userName eq "bjensen"`},
		{`userName EQ "bjensen"`, `userName eq "bjensen"`},
		{`userName Ne "x"`, `userName ne "x"`},
		{`name.familyName co "O'Malley"`, `name.familyName co "O'Malley"`},
		{`userName SW "J"`, `userName sw "J"`},
		{`userName eW "son"`, `userName ew "son"`},
		{`meta.lastModified gt "2011-05-13T04:42:34Z"`, `meta.lastModified gt "2011-05-13T04:42:34Z"`},
		{`loginCount GE 10`, `loginCount ge 10`},
		{`loginCount lt 10.5`, `loginCount lt 10.5`},
		{`loginCount Le -3`, `loginCount le -3`},
		{`title PR`, `title pr`},
		// values
		{`active eq TRUE`, `active eq true`},
		{`active ne False`, `active ne false`},
		{`title eq NULL`, `title eq null`},
		{`n eq 1E2`, `n eq 100`},
		{`n eq 2.5e-7`, `n eq 2.5e-07`},
		{`n eq 1e21`, `n eq 1e+21`},
		{`n eq 0`, `n eq 0`},
		{`n eq -0.125`, `n eq -0.125`},
		{`s eq "a\"b\\c\/d\b\f\n\r\t\u0041\u00e9\ud83d\ude00"`, `s eq "a\"b\\c/d\b\f\n\r\tAé😀"`},
		{`s eq "\u0001\u001F"`, `s eq "\u0001\u001f"`},
		{`s eq "\ud800x"`, "s eq \"\ufffdx\""}, // lone surrogate, as encoding/json
		{`s eq ""`, `s eq ""`},
		{`s eq "日本"`, `s eq "日本"`},
		// whitespace
		{"  userName \t eq\n\"x\"  ", `userName eq "x"`},
		{`(a pr)and(b pr)`, `a pr and b pr`},
		{`a eq "x"or b pr`, `a eq "x" or b pr`},
		// precedence and parentheses
		{`a pr or b pr and c pr`, `a pr or b pr and c pr`},
		{`(a pr or b pr) and c pr`, `(a pr or b pr) and c pr`},
		{`a pr and (b pr or c pr)`, `a pr and (b pr or c pr)`},
		{`a pr and (b pr and c pr)`, `a pr and (b pr and c pr)`},
		{`a pr or (b pr or c pr)`, `a pr or (b pr or c pr)`},
		{`(a pr and b pr) or c pr`, `a pr and b pr or c pr`},
		{`((((a pr))))`, `a pr`},
		{`NOT(a pr)`, `not (a pr)`},
		{`not (a pr) and not (b pr or c pr)`, `not (a pr) and not (b pr or c pr)`},
		{`not (not (a pr))`, `not (not (a pr))`},
		// keywords are contextual: they can be attribute names
		{`and pr and or eq "x"`, `and pr and or eq "x"`},
		{`not eq "x"`, `not eq "x"`},
		{`not pr or not[value pr]`, `not pr or not[value pr]`},
		// paths
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "1"`, `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "1"`},
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "26118915"`, `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "26118915"`},
		{`URN:IETF:params:scim:schemas:core:2.0:User:UserName sw "J"`, `URN:IETF:params:scim:schemas:core:2.0:User:UserName sw "J"`},
		{`emails[type eq "work" and value co "@dtaa.com"]`, `emails[type eq "work" and value co "@dtaa.com"]`},
		{`emails[not (type eq "work")] or ims[(type eq "xmpp")]`, `emails[not (type eq "work")] or ims[type eq "xmpp"]`},
		{`members[$ref eq "https://x/Users/1"]`, `members[$ref eq "https://x/Users/1"]`},
		{`x-custom_attr1 pr`, `x-custom_attr1 pr`},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			e, err := Parse(tc.in)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tc.in, err)
			}
			if got := e.String(); got != tc.want {
				t.Fatalf("String() = %q, want %q", got, tc.want)
			}
			e2, err := Parse(tc.want)
			if err != nil {
				t.Fatalf("re-Parse(%q): %v", tc.want, err)
			}
			if !reflect.DeepEqual(e, e2) {
				t.Fatalf("re-parsed tree differs:\n%#v\n%#v", e, e2)
			}
		})
	}
}

// TestParseAST checks the exact trees, in particular operator precedence
// (not > and > or) and left associativity.
func TestParseAST(t *testing.T) {
	a, b, c := pr("a"), pr("b"), pr("c")
	tests := []struct {
		in   string
		want Expr
	}{
		{`a pr`, a},
		{`a pr or b pr and c pr`, Or{a, And{b, c}}},
		{`a pr and b pr or c pr`, Or{And{a, b}, c}},
		{`a pr and b pr and c pr`, And{And{a, b}, c}},
		{`a pr or b pr or c pr`, Or{Or{a, b}, c}},
		{`a pr and (b pr and c pr)`, And{a, And{b, c}}},
		{`not (a pr) and b pr`, And{Not{a}, b}},
		{`b pr or not (a pr) and c pr`, Or{b, And{Not{a}, c}}},
		{`not (a pr or b pr)`, Not{Or{a, b}}},
		{`(a pr or b pr) and c pr`, And{Or{a, b}, c}},
		{`NAME.FamilyName Co "O'Malley"`, cmp(ps("NAME", "FamilyName"), OpCo, "O'Malley")},
		{`loginCount gt 10`, cmp(p("loginCount"), OpGt, 10.0)},
		{`active eq false`, eq("active", false)},
		{`title ne null`, cmp(p("title"), OpNe, nil)},
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "m"`,
			cmp(AttrPath{URN: entURN, Name: "manager", Sub: "value"}, OpEq, "m")},
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "1"`,
			cmp(AttrPath{URN: entURN, Name: "employeeNumber"}, OpEq, "1")},
		{`emails[type eq "work" and value co "@dtaa.com"]`,
			ValuePath{Attr: p("emails"), Filter: And{eq("type", "work"), cmp(p("value"), OpCo, "@dtaa.com")}}},
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager[displayName pr]`,
			ValuePath{Attr: AttrPath{URN: entURN, Name: "manager"}, Filter: pr("displayName")}},
		{`userType eq "Employee" and emails[type eq "work"] or title pr`,
			Or{And{eq("userType", "Employee"), ValuePath{p("emails"), eq("type", "work")}}, pr("title")}},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := Parse(tc.in)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("Parse(%q) =\n  %#v\nwant\n  %#v", tc.in, got, tc.want)
			}
		})
	}
}

// TestParseErrors covers every class of syntax error: lexical, grammar,
// attribute paths, value filters, operator/value combinations.
func TestParseErrors(t *testing.T) {
	tests := []struct {
		in    string
		pos   int
		token string
		msg   string
	}{
		// empty input
		{``, 0, "", "empty filter"},
		{`   `, 3, "", "empty filter"},
		// lexical
		{`userName eq "abc`, 12, `"abc`, "unterminated string"},
		{`userName eq "abc\`, 12, `"abc\`, "unterminated string"},
		{`userName eq "a\x"`, 14, `\x"`, "invalid escape"},
		{`userName eq "\u12"`, 13, `\u12"`, `invalid \u escape`},
		{"userName eq \"a\x01\"", 14, "\x01", "control character"},
		{"userName eq \"\xff\"", 13, "", "invalid UTF-8"},
		{`userName eq "x" & title pr`, 16, "&", "unexpected character"},
		{`userName eq 'x'`, 12, "'", "unexpected character"},
		{`userName eq 01`, 12, "01", "invalid number"},
		{`userName eq 1.`, 12, "1.", "decimal point"},
		{`userName eq 1e`, 12, "1e", "exponent"},
		{`userName eq 1e+`, 12, "1e+", "exponent"},
		{`userName eq -`, 12, "-", "invalid number"},
		{`userName eq +1`, 12, "+", "unexpected character"},
		{`userName eq 5x`, 12, "5x", "invalid number"},
		{`userName eq 1e999`, 12, "1e999", "out of range"},
		// grammar
		{`userName`, 8, "", "expected operator"},
		{`userName eq`, 11, "", "expected comparison value"},
		{`userName eq )`, 12, ")", "expected comparison value"},
		{`userName xx "a"`, 9, "xx", "unknown operator"},
		{`userName "a"`, 9, `"a"`, "expected operator"},
		{`userName eq bjensen`, 12, "bjensen", "strings must be quoted"},
		{`userName eq "x" title pr`, 16, "title", `expected "and", "or"`},
		{`userName eq "x" and`, 19, "", "expected attribute path"},
		{`or userName pr`, 3, "userName", "unknown operator"},
		{`(userName eq "x"`, 16, "", `expected ")"`},
		{`userName eq "x")`, 15, ")", `expected "and", "or"`},
		{`()`, 1, ")", "expected attribute path"},
		{`"x" eq "x"`, 0, `"x"`, "expected attribute path"},
		{`title pr pr`, 9, "pr", `expected "and", "or"`},
		{`not userName eq "x"`, 4, "userName", "unknown operator"},
		{`not ()`, 5, ")", "expected attribute path"},
		// attribute paths
		{`_x pr`, 0, "_x", "invalid attribute name"},
		{`1x pr`, 0, "1x", "invalid number"},
		{`user:name pr`, 0, "user:name", "invalid attribute name"},
		{`a.b.c pr`, 0, "a.b.c", "invalid sub-attribute name"},
		{`a. pr`, 0, "a.", "invalid sub-attribute name"},
		{`.a pr`, 0, ".a", "invalid attribute name"},
		{`$ pr`, 0, "$", "invalid attribute name"},
		{`urn:x pr`, 0, "urn:x", "invalid schema URN"},
		{`urn:a::b:x pr`, 0, "urn:a::b:x", "invalid schema URN"},
		{`urn:ietf:params:scim:schemas:core:2.0:User: pr`, 0, "urn:ietf:params:scim:schemas:cor...", "invalid attribute name"},
		// value filters
		{`emails[type eq "work"`, 21, "", `expected "]"`},
		{`emails[]`, 7, "]", "empty value filter"},
		{`emails [type eq "work"]`, 7, "[", "no space allowed"},
		{`emails[type eq "work"].value eq "x"`, 22, ".value", `expected "and", "or"`},
		{`emails[addresses[type pr]]`, 16, "[", "cannot be nested"},
		{`emails[urn:a:b:type pr]`, 7, "urn:a:b:type", "schema URN not allowed"},
		{`emails[type.x pr]`, 7, "type.x", "sub-attribute not allowed"},
		{`name.givenName[type pr]`, 0, "name.givenName", "cannot follow a sub-attribute"},
		{`emails[type eq "work")`, 21, ")", `expected "]"`},
		{`emails[type eq "work"`, 21, "", "end of input"},
		// operator / value combinations
		{`active gt true`, 7, "gt", "with a boolean"},
		{`active lt false`, 7, "lt", "with a boolean"},
		{`active co true`, 7, "co", "with a boolean"},
		{`title ge null`, 6, "ge", "with null"},
		{`title sw null`, 6, "sw", "with null"},
		{`loginCount co 5`, 11, "co", "with a number"},
		{`loginCount ew 5`, 11, "ew", "with a number"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			e, err := Parse(tc.in)
			if err == nil {
				t.Fatalf("Parse(%q) = %v, want error", tc.in, e)
			}
			if e != nil {
				t.Errorf("Parse returned non-nil Expr %v with error", e)
			}
			var fe *Error
			if !errors.As(err, &fe) {
				t.Fatalf("error %T %v is not *Error", err, err)
			}
			if fe.ScimType != ScimTypeInvalidFilter {
				t.Errorf("ScimType = %q, want invalidFilter", fe.ScimType)
			}
			if fe.Pos != tc.pos {
				t.Errorf("Pos = %d, want %d (%v)", fe.Pos, tc.pos, err)
			}
			if fe.Token != tc.token {
				t.Errorf("Token = %q, want %q", fe.Token, tc.token)
			}
			if !strings.Contains(fe.Msg, tc.msg) {
				t.Errorf("Msg = %q, want it to contain %q", fe.Msg, tc.msg)
			}
			if !strings.Contains(err.Error(), fmt.Sprintf("at position %d", tc.pos)) {
				t.Errorf("Error() = %q does not name the position", err.Error())
			}
			if tc.token != "" && !strings.Contains(err.Error(), fmt.Sprintf("%q", tc.token)) {
				t.Errorf("Error() = %q does not name the token", err.Error())
			}
		})
	}
}

func nest(open, inner, close string, n int) string {
	return strings.Repeat(open, n) + inner + strings.Repeat(close, n)
}

func TestLimits(t *testing.T) {
	pad := func(n int) string { // a valid filter of exactly n bytes
		const head = `a eq "`
		return head + strings.Repeat("x", n-len(head)-1) + `"`
	}
	tests := []struct {
		name   string
		limits Limits
		in     string
		ok     bool
		msg    string
		pos    int
	}{
		{"default length ok", Limits{}, pad(DefaultMaxLength), true, "", 0},
		{"default length exceeded", Limits{}, pad(DefaultMaxLength + 1), false, "longer than 4096", DefaultMaxLength},
		{"custom length ok", Limits{MaxLength: 8}, `title pr`, true, "", 0},
		{"custom length exceeded", Limits{MaxLength: 8}, `title pr `, false, "longer than 8", 8},
		{"negative means default", Limits{MaxLength: -1, MaxDepth: -1}, nest("(", "a pr", ")", 64), true, "", 0},
		{"default depth parens ok", Limits{}, nest("(", "a pr", ")", 64), true, "", 0},
		{"default depth parens exceeded", Limits{}, nest("(", "a pr", ")", 65), false, "deeper than 64", 64},
		{"default depth not exceeded", Limits{}, nest("not (", "a pr", ")", 65), false, "deeper than 64", 64*5 + 4},
		{"custom depth ok", Limits{MaxDepth: 2}, `not ((a pr))`, true, "", 0},
		{"custom depth exceeded", Limits{MaxDepth: 2}, `not (((a pr)))`, false, "deeper than 2", 6},
		{"value filter counts", Limits{MaxDepth: 1}, `(emails[type pr])`, false, "deeper than 1", 7},
		{"value filter alone", Limits{MaxDepth: 1}, `emails[type pr]`, true, "", 0},
		{"and/or chains do not count", Limits{MaxDepth: 1}, strings.Repeat("a pr or b pr and ", 200) + "c pr", true, "", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, err := tc.limits.Parse(tc.in)
			if tc.ok {
				if err != nil {
					t.Fatalf("Parse: %v", err)
				}
				if e.String() == "" {
					t.Fatal("empty String()")
				}
				return
			}
			var fe *Error
			if !errors.As(err, &fe) {
				t.Fatalf("got %v, want *Error", err)
			}
			if !strings.Contains(fe.Msg, tc.msg) || fe.Pos != tc.pos || fe.ScimType != ScimTypeInvalidFilter {
				t.Fatalf("got %+v, want msg %q at %d", fe, tc.msg, tc.pos)
			}
		})
	}
}

// TestLongChain checks that a long and/or chain (allowed because chains do
// not count toward the depth limit) parses, prints and evaluates.
func TestLongChain(t *testing.T) {
	const n = 20000
	var b strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "a%d eq %d or ", i, i)
	}
	b.WriteString("last pr")
	src := b.String()
	e, err := Limits{MaxLength: len(src)}.Parse(src)
	if err != nil {
		t.Fatal(err)
	}
	if got := e.String(); got != src {
		t.Fatalf("String() differs from canonical input (len %d vs %d)", len(got), len(src))
	}
	ok, err := Match(e, map[string]any{"last": "x"}, nil)
	if err != nil || !ok {
		t.Fatalf("Match = %v, %v; want true", ok, err)
	}
	ok, err = Match(e, map[string]any{"a5": 4.0}, nil)
	if err != nil || ok {
		t.Fatalf("Match = %v, %v; want false", ok, err)
	}
}

func TestParsePath(t *testing.T) {
	tests := []struct {
		in   string
		want Path
		str  string
	}{
		{`userName`, Path{Attr: p("userName")}, `userName`},
		{`name.givenName`, Path{Attr: ps("name", "givenName")}, `name.givenName`},
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber`,
			Path{Attr: AttrPath{URN: entURN, Name: "employeeNumber"}}, ""},
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value`,
			Path{Attr: AttrPath{URN: entURN, Name: "manager", Sub: "value"}}, ""},
		{`members[value eq "2819c223-7f76-453a-919d-413861904646"]`,
			Path{Attr: p("members"), Filter: eq("value", "2819c223-7f76-453a-919d-413861904646")}, ""},
		{`emails[type eq "work"].value`,
			Path{Attr: ps("emails", "value"), Filter: eq("type", "work")}, ""},
		{`addresses[type EQ "work"].formatted`,
			Path{Attr: ps("addresses", "formatted"), Filter: eq("type", "work")}, `addresses[type eq "work"].formatted`},
		{`emails[type eq "work" and not (primary eq false)].display`,
			Path{Attr: ps("emails", "display"), Filter: And{eq("type", "work"), Not{eq("primary", false)}}}, ""},
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager[value pr].displayName`,
			Path{Attr: AttrPath{URN: entURN, Name: "manager", Sub: "displayName"}, Filter: pr("value")}, ""},
		{` emails `, Path{Attr: p("emails")}, `emails`},
		{`$ref`, Path{Attr: p("$ref")}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParsePath(tc.in)
			if err != nil {
				t.Fatalf("ParsePath: %v", err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("ParsePath(%q) =\n  %#v\nwant\n  %#v", tc.in, got, tc.want)
			}
			want := tc.str
			if want == "" {
				want = tc.in
			}
			if s := got.String(); s != want {
				t.Fatalf("String() = %q, want %q", s, want)
			}
		})
	}
}

func TestParsePathErrors(t *testing.T) {
	tests := []struct {
		in       string
		scimType string
		pos      int
		msg      string
	}{
		{``, ScimTypeInvalidPath, 0, "empty path"},
		{`"emails"`, ScimTypeInvalidPath, 0, "expected attribute path"},
		{`[type pr]`, ScimTypeInvalidPath, 0, "expected attribute path"},
		{`emails eq "x"`, ScimTypeInvalidPath, 7, "unexpected text after path"},
		{`name.givenName.x`, ScimTypeInvalidPath, 0, "invalid sub-attribute name"},
		{`1name`, ScimTypeInvalidPath, 0, "invalid number"},
		{`urn:x`, ScimTypeInvalidPath, 0, "invalid schema URN"},
		{`emails.type[value pr]`, ScimTypeInvalidPath, 0, "cannot follow a sub-attribute"},
		{`emails [type pr]`, ScimTypeInvalidPath, 7, "no space allowed"},
		{`emails[type eq "work"`, ScimTypeInvalidPath, 21, `expected "]"`},
		{`emails[type eq "work"]x`, ScimTypeInvalidPath, 22, "unexpected text after path"},
		{`emails[type eq "work"] .value`, ScimTypeInvalidPath, 23, "unexpected text after path"},
		{`emails[type eq "work"].`, ScimTypeInvalidPath, 22, "invalid sub-attribute name"},
		{`emails[type eq "work"].value.x`, ScimTypeInvalidPath, 22, "invalid sub-attribute name"},
		{`emails[type eq "work"][value pr]`, ScimTypeInvalidPath, 22, "unexpected text after path"},
		{`emails[type pr]&`, ScimTypeInvalidPath, 15, "unexpected character"},
		{`emails[]`, ScimTypeInvalidFilter, 7, "empty value filter"},
		{`emails[type eq]`, ScimTypeInvalidFilter, 14, "expected comparison value"},
		{`emails[type gt true]`, ScimTypeInvalidFilter, 12, "with a boolean"},
		{`emails[x[y pr]]`, ScimTypeInvalidFilter, 8, "cannot be nested"},
		{`emails[type.x pr]`, ScimTypeInvalidFilter, 7, "sub-attribute not allowed"},
		{`emails[(type pr]`, ScimTypeInvalidFilter, 15, `expected ")"`},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParsePath(tc.in)
			if err == nil {
				t.Fatalf("ParsePath(%q) = %v, want error", tc.in, got)
			}
			var fe *Error
			if !errors.As(err, &fe) {
				t.Fatalf("error %T is not *Error", err)
			}
			if fe.ScimType != tc.scimType || fe.Pos != tc.pos || !strings.Contains(fe.Msg, tc.msg) {
				t.Fatalf("got %+v, want %s %q at %d", fe, tc.scimType, tc.msg, tc.pos)
			}
		})
	}

	// limits apply to paths too
	if _, err := (Limits{MaxLength: 5}).ParsePath("emails"); err == nil || err.(*Error).ScimType != ScimTypeInvalidPath {
		t.Errorf("length limit: got %v, want invalidPath error", err)
	}
	if _, err := (Limits{MaxLength: 6}).ParsePath("emails"); err != nil {
		t.Errorf("length limit: %v", err)
	}
	if _, err := (Limits{MaxDepth: 1}).ParsePath(`emails[(type pr)]`); err == nil {
		t.Error("depth limit: want error")
	}
	if _, err := (Limits{MaxDepth: 2}).ParsePath(`emails[(type pr)]`); err != nil {
		t.Errorf("depth limit: %v", err)
	}
}

// TestStringConstructed checks String on hand-built trees, as a store or
// handler may build them.
func TestStringConstructed(t *testing.T) {
	a, b, c, d := pr("a"), pr("b"), pr("c"), pr("d")
	tests := []struct {
		e    Expr
		want string
	}{
		{And{a, Or{b, c}}, `a pr and (b pr or c pr)`},
		{And{Or{a, b}, c}, `(a pr or b pr) and c pr`},
		{Or{And{a, b}, And{c, d}}, `a pr and b pr or c pr and d pr`},
		{Or{a, Or{b, c}}, `a pr or (b pr or c pr)`},
		{Or{Or{a, b}, c}, `a pr or b pr or c pr`},
		{Not{And{a, b}}, `not (a pr and b pr)`},
		{eq("n", 5), `n eq 5`},
		{eq("n", int64(-7)), `n eq -7`},
		{eq("n", 1e20), `n eq 100000000000000000000`},
		{eq("n", 1e21), `n eq 1e+21`},
		{eq("n", 0.5), `n eq 0.5`},
		{eq("s", "tab\tq\"\\\x01\x7f/é"), `s eq "tab\tq\"\\\u0001` + "\x7f" + `/é"`},
		{eq("s", nil), `s eq null`},
		{cmp(AttrPath{URN: entURN, Name: "manager", Sub: "value"}, OpNe, "x"), entURN + `:manager.value ne "x"`},
		{ValuePath{Attr: p("emails"), Filter: Or{eq("type", "work"), eq("type", "home")}}, `emails[type eq "work" or type eq "home"]`},
	}
	for _, tc := range tests {
		if got := tc.e.String(); got != tc.want {
			t.Errorf("String() = %q, want %q", got, tc.want)
		}
	}
	if got := (Path{Attr: ps("emails", "value"), Filter: eq("type", "work")}).String(); got != `emails[type eq "work"].value` {
		t.Errorf("Path.String() = %q", got)
	}
	if got := (AttrPath{URN: coreURN, Name: "name", Sub: "givenName"}).String(); got != coreURN+":name.givenName" {
		t.Errorf("AttrPath.String() = %q", got)
	}
	if !(AttrPath{URN: "URN:x:Y", Name: "UserName"}).EqualFold(AttrPath{URN: "urn:x:y", Name: "username"}) {
		t.Error("EqualFold: want true")
	}
	if (AttrPath{Name: "name", Sub: "givenName"}).EqualFold(AttrPath{Name: "name"}) {
		t.Error("EqualFold: want false")
	}
}
