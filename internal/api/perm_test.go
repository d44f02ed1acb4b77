package api_test

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tango-iga/tango/internal/api"
	"github.com/tango-iga/tango/internal/auth"
)

// Every route names its permission, and the one check enforces it for
// every route × caller: no token, a token bound to a person, a service
// token. Only the verdict of the check is asserted here (401, 403 with its
// message, or through to the handler, which may answer anything else).
func TestRoutePermissionMatrix(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	person, _, err := auth.CreateFor(context.Background(), f.st, "ann", "api", "E001", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	callers := []struct{ name, token string }{{"none", ""}, {"person", person}, {"service", f.token}}
	want := map[api.Permission][3]string{
		api.PermPublic:  {"through", "through", "through"},
		api.PermToken:   {"401", "through", "through"},
		api.PermService: {"401", "403", "through"},
	}
	wild := regexp.MustCompile(`\{[a-z]+\}`)
	var matrix []string
	for _, rt := range api.Routes {
		if !slices.Contains(api.Permissions, rt.Perm) {
			t.Errorf("%s %s names no known permission (%q): every route says who may call it", rt.Method, rt.Path, rt.Perm)
			continue
		}
		row := rt.Method + " " + rt.Path + " [" + string(rt.Perm) + "]:"
		for i, c := range callers {
			r := f.do(rt.Method, wild.ReplaceAllString(rt.Path, "0"), c.token, strings.NewReader("{}"))
			got := "through"
			switch {
			case r.status == 401:
				got = "401"
			case r.status == 403 && strings.Contains(string(r.body), "needs a service token"):
				got = "403"
			}
			if got != want[rt.Perm][i] {
				t.Errorf("%s %s as %s: %s (status %d, %s), want %s", rt.Method, rt.Path, c.name, got, r.status, r.body, want[rt.Perm][i])
			}
			row += " " + c.name + "=" + got
		}
		matrix = append(matrix, row)
	}
	t.Log("\n" + strings.Join(matrix, "\n"))
}
