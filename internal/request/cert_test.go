package request_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tango-iga/tango/internal/config"
	"github.com/tango-iga/tango/internal/hr"
	"github.com/tango-iga/tango/internal/request"
	"github.com/tango-iga/tango/internal/store"
	"github.com/tango-iga/tango/internal/store/sqlite"
)

// certConfig reads the CERT exports; ITAdmins get the directory's admin
// group by role, and the audit-log reviewers group may be requested, but
// never by someone who administers what the log records.
const certConfig = `
org: {name: DTAA, timezone: America/New_York}
sources:
  - name: hris
    key: user_id
    mapping: {display_name: employee_name, email: email, title: role, department: department,
              team: team, business_unit: business_unit, manager: supervisor}
apps:
  - name: directory
    connector: manual
    owner: it
    requestable:
      - {entitlement: audit-reviewers, owner: PCK0271, risk: high, max_duration: 30d}
roles:
  - name: it-admins
    when: person.title == "ITAdmin"
    grants: [{app: directory, entitlements: [admins]}]
requests: {security_approvers: [OCW1127]}
separation_of_duties:
  - {name: admins-do-not-review-their-own-logs, entitlements: ["directory:admins", "directory:audit-reviewers"]}
`

// TestCERTRequestBreakingSoDIsRefused is issue 5's proof on real data: on
// the CERT organisation an ITAdmin (admin group by role) asking to review
// the audit logs is refused with the rule named, while a technician's
// request for the same entitlement goes through manager, owner and Security.
func TestCERTRequestBreakingSoDIsRefused(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "tango.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cfg, err := config.Parse([]byte(certConfig), "cert.yaml")
	if err != nil {
		t.Fatal(err)
	}
	name := filepath.Join("..", "..", "testdata", "cert-r5.2-ldap", "2009-12.csv")
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	src, _ := cfg.Source("hris")
	res, err := hr.ImportFile(ctx, st, cfg, src, name, data, hr.Options{Actor: "test", Now: func() time.Time { return t0 }})
	if err != nil || res.Status != store.ImportApplied || res.Joiners != 2000 {
		t.Fatalf("import: %+v, %v", res, err)
	}
	svc, err := request.NewService(st, cfg, func() time.Time { return t0 })
	if err != nil {
		t.Fatal(err)
	}
	caller := func(id string) request.Caller {
		p, err := svc.Person(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return request.Caller{Person: p, Via: "test"}
	}

	// WFV0687 is an ITAdmin: the request is refused, naming the rule, and nothing is stored.
	_, err = svc.Create(ctx, caller("WFV0687"), request.New{App: "directory", Entitlement: "audit-reviewers", Justification: "quarterly log review"})
	var se *request.SoDError
	if !errors.As(err, &se) || se.Rule != "admins-do-not-review-their-own-logs" ||
		!strings.Contains(err.Error(), "admins-do-not-review-their-own-logs") {
		t.Fatalf("ITAdmin's request: %v, want a refusal naming the rule", err)
	}
	if rs, _ := st.Requests(ctx, store.RequestFilter{}); len(rs) != 0 {
		t.Fatalf("a refused request was stored: %+v", rs)
	}

	// MMK1532, a technician, may: manager YNC1336, then the owner, then Security.
	r, err := svc.Create(ctx, caller("MMK1532"), request.New{App: "directory", Entitlement: "audit-reviewers", Justification: "quarterly log review"})
	if err != nil {
		t.Fatal(err)
	}
	for _, by := range []string{"YNC1336", "PCK0271", "OCW1127"} {
		if r, err = svc.Approve(ctx, caller(by), r.ID, ""); err != nil {
			t.Fatalf("%s approves: %v", by, err)
		}
	}
	if r.State != store.RequestApproved {
		t.Fatalf("after manager, owner and Security: %+v", r)
	}
}
