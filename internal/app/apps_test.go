package app_test

import (
	"strings"
	"testing"

	"github.com/tango-iga/tango/internal/app"
	"github.com/tango-iga/tango/internal/config"
)

// The check reports every problem of every app at once, each naming the
// app: a connector's settings, provisioning's keys, unknown keys.
func TestCheckAppsReportsEveryError(t *testing.T) {
	cfg, err := config.Parse([]byte(`
apps:
  - {name: dir, connector: ldap, url: "ldap://127.0.0.1:1", drift: sometimes, page_size: many, colour: blue}
  - {name: idp, connector: scim, url: "http://127.0.0.1:1/scim/v2", token: t, bind_dn: "cn=x", account: {object_classes: [top]}}
  - {name: hook, connector: webhook, secret: s, account: {dn: 'person.'}}
  - {name: crm, connector: manul, team: sales}
`), "tango.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, err := range app.CheckApps(cfg) {
		got = append(got, err.Error())
	}
	all := strings.Join(got, "\n")
	for _, want := range []string{
		`app "dir": page_size: want a whole number, not "many"`,
		`app "dir": unknown key "colour"`,
		`app "dir": drift "sometimes": want report or remediate`,
		`app "hook": webhook: URL is not an http(s) URL`,
		`app "hook": account.dn:`,
		`app "crm": connector "manul" is not available (known: ldap, manual, scim, webhook)`,
	} {
		if !strings.Contains(all, want) {
			t.Errorf("CheckApps lacks %q:\n%s", want, all)
		}
	}
	// A key another kind of connector reads is let through, as before.
	if strings.Contains(all, `app "idp"`) {
		t.Errorf("CheckApps reports idp:\n%s", all)
	}
	if len(got) != 6 {
		t.Errorf("CheckApps: %d errors, want 6:\n%s", len(got), all)
	}
}
