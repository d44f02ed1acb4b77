package web_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tango-iga/tango/internal/store"
)

// seedTrouble stores a failed and a retrying operation of erp, a done
// one, erp quarantined for an hour and an open finding of erp; it returns
// the operations' IDs by state.
func (f *fixture) seedTrouble() map[string]int64 {
	f.t.Helper()
	ctx := context.Background()
	now := time.Now().UTC()
	var ops []store.Operation
	for _, state := range []string{store.OpFailed, store.OpRetrying, store.OpDone} {
		ops = append(ops, store.Operation{App: "erp", Kind: store.OpGrant, Source: "hris", EmployeeID: "E005", Entitlement: state + "-reports",
			Account: `{"key":"E005"}`, Priority: store.PriorityNormal, State: state, Attempts: 3, LastError: "erp answered 503 <busy>",
			NotBefore: now.Add(time.Hour), Reason: "role engineering", CreatedAt: now, UpdatedAt: now})
	}
	if err := f.st.QueueOps(ctx, store.ProvisionBatch{Ops: ops}); err != nil {
		f.t.Fatal(err)
	}
	ids := map[string]int64{}
	for _, state := range []string{store.OpFailed, store.OpRetrying, store.OpDone} {
		got, err := f.st.Ops(ctx, store.OpFilter{State: state, App: "erp"})
		if err != nil {
			f.t.Fatal(err)
		}
		for _, o := range got {
			if o.Entitlement == state+"-reports" {
				ids[state] = o.ID
			}
		}
	}
	if err := f.st.PutAppState(ctx, store.AppState{App: "erp", Failures: 5, QuarantinedUntil: now.Add(time.Hour), LastError: "erp answered 503 <busy>"}); err != nil {
		f.t.Fatal(err)
	}
	if err := f.st.AddFinding(ctx, store.Finding{Kind: "orphan-account", App: "erp", Subject: "ghost", Detail: "no person", Team: "security", FirstSeen: now, LastSeen: now}); err != nil {
		f.t.Fatal(err)
	}
	return ids
}

// op reads one operation by ID.
func (f *fixture) op(id int64) store.Operation {
	f.t.Helper()
	got, err := f.st.Ops(context.Background(), store.OpFilter{AfterID: id - 1, Limit: 1})
	if err != nil || len(got) != 1 || got[0].ID != id {
		f.t.Fatalf("operation %d: %+v %v", id, got, err)
	}
	return got[0]
}

// /apps shows IT a Retry now button per failed or retrying operation, a
// Release button for a quarantined app, and each app's open findings
// linked to /findings; Security (who may read but not act) sees no button.
func TestAppsPageShowsRetryReleaseAndFindings(t *testing.T) {
	f := newFixture(t)
	ids := f.seedTrouble()
	p := f.get("/apps", itPerson)
	if p.status != 200 {
		t.Fatalf("/apps as IT: %d\n%s", p.status, p.body)
	}
	checkPage(t, "/apps as IT", p)
	for _, want := range []string{
		fmt.Sprintf(`action="/operations/%d/retry"`, ids[store.OpFailed]),
		fmt.Sprintf(`action="/operations/%d/retry"`, ids[store.OpRetrying]),
		`action="/apps/erp/release"`,
		`<a href="/findings?app=erp" aria-label="Open findings of erp">1</a>`,
		"erp answered 503 &lt;busy&gt;",
	} {
		if !strings.Contains(p.body, want) {
			t.Errorf("/apps as IT lacks %s:\n%s", want, p.body)
		}
	}
	if strings.Contains(p.body, fmt.Sprintf(`/operations/%d/retry`, ids[store.OpDone])) {
		t.Errorf("/apps offers to retry a done operation:\n%s", p.body)
	}
	sec := f.get("/apps", secPerson)
	if sec.status != 200 || strings.Contains(sec.body, "Retry now") || strings.Contains(sec.body, "/release") || !strings.Contains(sec.body, `href="/findings?app=erp"`) {
		t.Errorf("/apps as Security: %d, want the page with the findings link and no action button:\n%s", sec.status, sec.body)
	}
}

// IT retries a failed operation from /apps: the answer is the page again
// (after a redirect) saying so, and the operation is pending, due now,
// attempts reset, audited with IT's actor. An employee is refused (403,
// audited), a cross-origin form is refused, a done operation is a 409;
// none of these changes the operation.
func TestRetryOperationFromAppsPage(t *testing.T) {
	f := newFixture(t)
	ids := f.seedTrouble()
	failed := ids[store.OpFailed]
	path := fmt.Sprintf("/operations/%d/retry", failed)
	if p := f.post(path, employee, url.Values{}); p.status != 403 {
		t.Errorf("employee retries: %d, want 403", p.status)
	}
	if p := f.post(path, itPerson, url.Values{}, "Sec-Fetch-Site", "cross-site"); p.status != 403 {
		t.Errorf("cross-site retry: %d, want 403", p.status)
	}
	if p := f.post(path, itPerson, url.Values{}, "Origin", "https://evil.example"); p.status != 403 {
		t.Errorf("retry with a foreign Origin: %d, want 403", p.status)
	}
	if o := f.op(failed); o.State != store.OpFailed || o.Attempts != 3 {
		t.Fatalf("the operation changed after refused retries: %+v", o)
	}
	es, _ := f.st.AuditQuery(context.Background(), store.AuditFilter{Action: "access.denied"})
	denied := false
	for _, e := range es {
		denied = denied || (strings.HasPrefix(e.Actor, "person:"+employee) && strings.Contains(string(e.After), path))
	}
	if !denied {
		t.Errorf("no access.denied entry for the employee's retry: %v", es)
	}

	before := time.Now()
	p := f.post(path, itPerson, url.Values{}, "Sec-Fetch-Site", "same-origin")
	loc := p.header.Get("Location")
	if p.status != 303 || !strings.HasPrefix(loc, "/apps") {
		t.Fatalf("IT retries: %d %s, want 303 to /apps\n%s", p.status, loc, p.body)
	}
	page := f.get(loc, itPerson)
	if page.status != 200 || !strings.Contains(page.body, fmt.Sprintf("Operation #%d (erp for E005) is pending again, due now.", failed)) {
		t.Errorf("the page after the retry: %d\n%s", page.status, page.body)
	}
	o := f.op(failed)
	if o.State != store.OpPending || o.Attempts != 0 || o.NotBefore.Before(before.Add(-time.Second)) || o.NotBefore.After(time.Now()) {
		t.Errorf("the retried operation: %+v, want pending, 0 attempts, due now", o)
	}
	es, _ = f.st.AuditQuery(context.Background(), store.AuditFilter{Action: "provision.retry"})
	if len(es) != 1 || !strings.HasPrefix(es[0].Actor, "person:"+itPerson) || es[0].Subject != "E005" {
		t.Errorf("provision.retry entries %+v: want one by IT about E005", es)
	}
	if p := f.post(fmt.Sprintf("/operations/%d/retry", ids[store.OpDone]), itPerson, url.Values{}); p.status != 409 || !strings.Contains(p.body, "is done") {
		t.Errorf("retry of a done operation: %d, want 409 naming the state\n%s", p.status, p.body)
	}
	if p := f.post("/operations/abc/retry", itPerson, url.Values{}); p.status != 400 || !strings.Contains(p.body, `&#34;abc&#34;`) {
		t.Errorf("retry of operation abc: %d, want 400 naming it\n%s", p.status, p.body)
	}
}

// IT releases a quarantined app from /apps; an employee is refused; a
// second release is a 409 and an unknown app a 404.
func TestReleaseAppFromAppsPage(t *testing.T) {
	f := newFixture(t)
	f.seedTrouble()
	quarantined := func() bool {
		states, err := f.st.AppStates(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range states {
			if s.App == "erp" {
				return s.QuarantinedUntil.After(time.Now())
			}
		}
		return false
	}
	if p := f.post("/apps/erp/release", employee, url.Values{}); p.status != 403 || !quarantined() {
		t.Errorf("employee releases: %d, want 403 and erp still quarantined", p.status)
	}
	if p := f.post("/apps/erp/release", itPerson, url.Values{}, "Sec-Fetch-Site", "cross-site"); p.status != 403 || !quarantined() {
		t.Errorf("cross-site release: %d, want 403 and erp still quarantined", p.status)
	}
	p := f.post("/apps/erp/release", itPerson, url.Values{})
	if p.status != 303 || !strings.HasPrefix(p.header.Get("Location"), "/apps?done=") || quarantined() {
		t.Fatalf("IT releases: %d %s, quarantined %v", p.status, p.header.Get("Location"), quarantined())
	}
	if page := f.get(p.header.Get("Location"), itPerson); page.status != 200 || !strings.Contains(page.body, "App erp is released") || strings.Contains(page.body, `action="/apps/erp/release"`) {
		t.Errorf("the page after the release: %d\n%s", page.status, page.body)
	}
	if p := f.post("/apps/erp/release", itPerson, url.Values{}); p.status != 409 || !strings.Contains(p.body, "not quarantined") {
		t.Errorf("second release: %d, want 409\n%s", p.status, p.body)
	}
	if p := f.post("/apps/nowhere/release", itPerson, url.Values{}); p.status != 404 {
		t.Errorf("release of an unknown app: %d, want 404\n%s", p.status, p.body)
	}
	es, _ := f.st.AuditQuery(context.Background(), store.AuditFilter{Action: "provision.release"})
	if len(es) != 1 || !strings.HasPrefix(es[0].Actor, "person:"+itPerson) || es[0].Subject != "erp" {
		t.Errorf("provision.release entries %+v: want one by IT about erp", es)
	}
}
