package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestSecretsFromEnvAndFile(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "ldap.secret"), []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TANGO_TEST_TOKEN", "from-env")
	doc := `
apps:
  - {name: dir, connector: ldap, bind_password: '${file:ldap.secret}', token: '${env:TANGO_TEST_TOKEN}'}
`
	c, err := Parse([]byte(doc), filepath.Join(dir, "tango.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Apps[0].Settings["bind_password"] != "from-file" || c.Apps[0].Settings["token"] != "from-env" {
		t.Fatalf("settings %v", c.Apps[0].Settings)
	}
	_, err = Parse([]byte(`apps: [{name: x, connector: scim, token: '${env:TANGO_TEST_MISSING}'}]`), "t.yaml")
	if err == nil || !strings.Contains(err.Error(), "TANGO_TEST_MISSING is not set") {
		t.Fatalf("missing env: %v", err)
	}
	_, err = Parse([]byte(`apps: [{name: x, connector: ldap, bind_password: '${file:/nonexistent/pw}'}]`), "t.yaml")
	if err == nil || !strings.Contains(err.Error(), "/nonexistent/pw") {
		t.Fatalf("missing file: %v", err)
	}
}

func TestErrorsNameTheInput(t *testing.T) {
	cases := map[string]string{
		`org: {timezone: Mars/Olympus}`:   `org.timezone "Mars/Olympus"`,
		`sources: [{name: h, kind: ftp}]`: `source "h": kind "ftp"`,
		`sources: [{name: h, key: id}]`:   `mapping.display_name is required`,
		`sources: [{name: h, key: id, mapping: {display_name: n}, safeguards: {max_leavers: "lots"}}]`: `max_leavers "lots"`,
		`roles: [{name: r, when: 'true', grants: [{app: ghost}]}]`:                                     `unknown app "ghost"`,
		`unknown_key: 1`: `field unknown_key not found`,
	}
	for doc, want := range cases {
		if _, err := Parse([]byte(doc), "tango.yaml"); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want %q", doc, err, want)
		}
	}
}

func TestLimit(t *testing.T) {
	l, _ := ParseLimit("5%")
	if l.Allowed(2000) != 100 || l.String() != "5%" {
		t.Fatalf("5%% of 2000: %d", l.Allowed(2000))
	}
	l, _ = ParseLimit("25")
	if l.Allowed(2000) != 25 || !l.Set() {
		t.Fatalf("count: %d", l.Allowed(2000))
	}
	for _, bad := range []string{"-1", "150%", "x%"} {
		if _, err := ParseLimit(bad); err == nil {
			t.Errorf("ParseLimit(%q) accepted", bad)
		}
	}
}

func TestRequestableCatalogue(t *testing.T) {
	doc := `
requests: {security_approvers: [E900]}
apps:
  - name: erp
    connector: manual
    requestable:
      - {entitlement: payments, owner: E100, risk: high, max_duration: 30d}
      - {entitlement: reports, owner: E101, max_duration: 12h}
      - {entitlement: wiki, owner: E101, risk: low}
`
	c, err := Parse([]byte(doc), "t.yaml")
	if err != nil {
		t.Fatal(err)
	}
	q, err := c.Requestable("erp", "payments")
	if err != nil || q.Risk != RiskHigh || q.Max != 30*24*time.Hour || q.Owner != "E100" {
		t.Fatalf("payments: %+v %v", q, err)
	}
	if q, _ := c.Requestable("erp", "reports"); q.Risk != RiskMedium || q.Max != 12*time.Hour {
		t.Fatalf("reports: default risk medium, 12h: %+v", q)
	}
	if q, _ := c.Requestable("erp", "wiki"); q.Max != 0 {
		t.Fatalf("wiki: no max_duration means no limit: %+v", q)
	}
	if _, err := c.Requestable("erp", "nope"); err == nil || !strings.Contains(err.Error(), `entitlement "nope" of app "erp" is not requestable`) {
		t.Fatalf("unknown entitlement: %v", err)
	}
	if _, err := c.Requestable("hr", "x"); err == nil || !strings.Contains(err.Error(), `app "hr"`) {
		t.Fatalf("unknown app: %v", err)
	}
	bad := map[string]string{
		`apps: [{name: erp, connector: manual, requestable: [{entitlement: p, owner: E1, risk: extreme}]}]`:               `app "erp": requestable entitlement "p": risk "extreme": want low, medium or high`,
		`apps: [{name: erp, connector: manual, requestable: [{entitlement: p, owner: E1, max_duration: soon}]}]`:          `app "erp": requestable entitlement "p": max_duration: duration "soon"`,
		`apps: [{name: erp, connector: manual, requestable: [{entitlement: p, risk: low}]}]`:                              `app "erp": requestable entitlement "p": owner`,
		`apps: [{name: erp, connector: manual, requestable: [{owner: E1}]}]`:                                              `app "erp": requestable[0]: entitlement is required`,
		`apps: [{name: erp, connector: manual, requestable: [{entitlement: p, owner: E1}, {entitlement: p, owner: E2}]}]`: `app "erp": requestable entitlement "p": listed twice`,
		`apps: [{name: erp, connector: manual, requestable: [{entitlement: p, owner: E1, risk: high}]}]`:                  `requests.security_approvers is empty`,
	}
	for doc, want := range bad {
		_, err := Parse([]byte(doc), "t.yaml")
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s\n  error %v, want it to contain %q", doc, err, want)
		}
	}
}
