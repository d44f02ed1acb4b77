package api_test

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/tango-iga/tango/internal/api"
	"github.com/tango-iga/tango/internal/authz"
)

// TestDocsNamePermissions: docs/http.md names, for every route, the
// permission the route table gives it, and for every role the permissions
// authz gives it, so the reference cannot drift from the code.
func TestDocsNamePermissions(t *testing.T) {
	b, err := os.ReadFile("../../docs/http.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	for _, rt := range api.Routes {
		// A table row: | `METHOD PATH…` | … | `perm` |
		re := regexp.MustCompile("(?m)^\\| `" + regexp.QuoteMeta(rt.Method+" "+rt.Path) + "[`?].*\\| `" + regexp.QuoteMeta(string(rt.Perm)) + "` \\|$")
		if !re.MatchString(doc) {
			t.Errorf("docs/http.md: no row for %s %s ending in | `%s` | (its permission)", rt.Method, rt.Path, rt.Perm)
		}
	}
	for _, r := range authz.Roles {
		var names []string
		for _, p := range authz.Grants(r) {
			names = append(names, "`"+string(p)+"`")
		}
		row := "| `" + string(r) + "` |"
		i := strings.Index(doc, row)
		if i < 0 {
			t.Errorf("docs/http.md: no row for role %s in \"Who may do what\"", r)
			continue
		}
		line := doc[i:]
		line = line[:strings.IndexByte(line, '\n')]
		if want := strings.Join(names, ", "); !strings.HasSuffix(line, "| "+want+" |") {
			t.Errorf("docs/http.md: the row of role %s must end with | %s |, it is %s", r, want, line)
		}
	}
}
