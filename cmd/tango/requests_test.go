package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tango-iga/tango/internal/store"
)

func TestRequestsCLI(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "tango.yaml")
	db := "sqlite:" + filepath.Join(dir, "t.db")
	csv := filepath.Join(dir, "hris.csv")
	os.WriteFile(csv, []byte("employee_name,user_id,email,role,department,supervisor\n"+
		"Eve Chief,E0,e0@dtaa.com,CEO,Exec,\nMia Lead,M1,m1@dtaa.com,Lead,Fin,E0\nAl Clerk,A1,a1@dtaa.com,Clerk,Fin,M1\n"+
		"Olu Owner,O1,o1@dtaa.com,Owner,Fin,E0\nSam Sec,S1,s1@dtaa.com,Analyst,Sec,E0\n"), 0o600)
	os.WriteFile(cfg, []byte(`
sources:
  - {name: hris, key: user_id, mapping: {display_name: employee_name, email: email, title: role, department: department, manager: supervisor}}
requests: {security_approvers: [S1]}
apps:
  - name: erp
    connector: manual
    owner: it
    requestable:
      - {entitlement: payments-create, owner: O1, risk: low, max_duration: 30d}
      - {entitlement: payments-approve, owner: O1, risk: high, max_duration: 7d}
separation_of_duties:
  - {name: create-vs-approve-payments, entitlements: ["erp:payments-create", "erp:payments-approve"]}
`), 0o600)
	run := func(args ...string) (string, string, int) {
		return tango(t, append([]string{"--db", db, "--config", cfg}, args...)...)
	}
	if _, stderr, code := run("hr", "import", csv); code != 0 {
		t.Fatalf("import: %d %s", code, stderr)
	}
	fails := func(want string, args ...string) {
		t.Helper()
		if out, stderr, code := run(args...); code == 0 || !strings.Contains(stderr, want) {
			t.Fatalf("%v: exit %d, stdout %s, stderr %q; want a failure naming %q", args, code, out, stderr, want)
		}
	}
	ok := func(args ...string) string {
		t.Helper()
		out, stderr, code := run(args...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, stderr)
		}
		return out
	}
	fails("--as EMPLOYEE_ID is required", "requests", "create", "--app", "erp", "--entitlement", "payments-approve", "--justification", "x")
	fails(`person "NOPE" is not in the workforce`, "requests", "create", "--as", "NOPE", "--app", "erp", "--entitlement", "payments-approve", "--justification", "x")
	fails("longer than the maximum 168h0m0s (7d)", "requests", "create", "--as", "A1", "--app", "erp", "--entitlement", "payments-approve", "--justification", "close", "--duration", "8d")
	var r store.Request
	if err := json.Unmarshal([]byte(ok("requests", "create", "--as", "A1", "--app", "erp", "--entitlement", "payments-approve",
		"--justification", "month-end close", "--duration", "2d", "--json")), &r); err != nil || r.ID != 1 || r.State != store.RequestPending {
		t.Fatalf("create: %+v %v", r, err)
	}
	fails("A1 made request 1", "requests", "approve", "1", "--as", "A1")
	fails("waits for the manager approval of M1", "requests", "approve", "1", "--as", "O1")
	if out := ok("requests", "approve", "1", "--as", "M1"); !strings.Contains(out, "next: the owner approval") {
		t.Fatalf("after M1: %s", out)
	}
	var pending []store.Request
	if err := json.Unmarshal([]byte(ok("requests", "list", "--pending", "--approver", "O1", "--json")), &pending); err != nil || len(pending) != 1 {
		t.Fatalf("pending for O1: %+v %v", pending, err)
	}
	ok("requests", "approve", "1", "--as", "O1")
	fails("waits for the security approval of S1", "requests", "approve", "1", "--as", "E0")
	if out := ok("requests", "approve", "1", "--as", "S1", "--note", "reviewed"); !strings.Contains(out, "is approved until") {
		t.Fatalf("after S1: %s", out)
	}
	if err := json.Unmarshal([]byte(ok("requests", "list", "--pending", "--json")), &pending); err != nil || len(pending) != 0 {
		t.Fatalf("pending after approval: %+v %v", pending, err)
	}
	// The approved request is access the plan counts (not a loss), with its reason.
	if out := ok("policy", "plan"); !strings.Contains(out, "erp:payments-approve") || !strings.Contains(out, "request #1") || strings.Contains(out, "lose") {
		t.Fatalf("policy plan with an approved request:\n%s", out)
	}
	fails(`separation-of-duties rule "create-vs-approve-payments"`, "requests", "create", "--as", "A1", "--app", "erp", "--entitlement", "payments-create", "--justification", "x")
	// An away approver is replaced by their manager.
	ok("requests", "away", "O1", "--until", "2999-01-01")
	ok("requests", "create", "--as", "A1", "--app", "erp", "--entitlement", "payments-approve", "--justification", "cover", "--duration", "1d")
	ok("requests", "approve", "2", "--as", "M1")
	fails("owner approval of E0", "requests", "approve", "2", "--as", "O1")
	fails("four eyes", "requests", "approve", "2", "--as", "M1")
	if out := ok("requests", "reject", "2", "--as", "E0", "--note", "not now"); !strings.Contains(out, "rejected: not now") {
		t.Fatalf("reject: %s", out)
	}
	// Tokens bound to a person; an unknown person is refused.
	fails(`--person NOPE`, "token", "create", "--scope", "api", "--name", "ghost", "--person", "NOPE")
	ok("token", "create", "--scope", "api", "--name", "al", "--person", "A1")
	if out := ok("token", "list"); !strings.Contains(out, "A1") {
		t.Fatalf("token list: %s", out)
	}
	if _, stderr, code := run("audit", "verify"); code != 0 {
		t.Fatalf("audit verify: %d %s", code, stderr)
	}
}
