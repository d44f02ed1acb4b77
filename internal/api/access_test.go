package api_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tango-iga/tango/internal/api"
	"github.com/tango-iga/tango/internal/store"
)

func TestAppsOperationsFindings(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	ctx := context.Background()
	now := time.Now().UTC()
	err := f.st.QueueOps(ctx, store.ProvisionBatch{Ops: []store.Operation{
		{App: "crm", Kind: store.OpDisable, Source: "hris", EmployeeID: "E1", Priority: 0, State: store.OpPending, NotBefore: now, Reason: "person left", CreatedAt: now, UpdatedAt: now},
		{App: "wiki", Kind: store.OpCreate, Source: "hris", EmployeeID: "E2", Priority: 10, State: store.OpPending, NotBefore: now, CreatedAt: now, UpdatedAt: now},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.st.PutAppState(ctx, store.AppState{App: "crm", Failures: 5, LastError: "503", QuarantinedUntil: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if err := f.st.AddFinding(ctx, store.Finding{Kind: "orphan-account", App: "crm", Subject: "ghost", Team: "security", FirstSeen: now, LastSeen: now}); err != nil {
		t.Fatal(err)
	}
	if r := f.get("/api/v1/apps", ""); r.status != 401 {
		t.Fatalf("apps without a token: %d", r.status)
	}
	var apps []api.AppStatus
	f.getJSON("/api/v1/apps", f.token, 200, &apps)
	byName := map[string]api.AppStatus{}
	for _, a := range apps {
		byName[a.Name] = a
	}
	if crm := byName["crm"]; !crm.Quarantined || crm.Health.LastError != "503" || crm.Operations["pending"] != 1 {
		t.Fatalf("crm status %+v", crm)
	}
	if wiki := byName["wiki"]; wiki.Quarantined || wiki.Operations["pending"] != 1 {
		t.Fatalf("an app with operations but no config entry: %+v", wiki)
	}
	var ops api.Page[store.Operation]
	f.getJSON("/api/v1/operations?app=crm&state=pending", f.token, 200, &ops)
	if len(ops.Items) != 1 || ops.Items[0].Reason != "person left" {
		t.Fatalf("operations %+v", ops)
	}
	if r := f.get("/api/v1/operations?state=bogus", f.token); r.status != 400 {
		t.Fatalf("bad state: %d", r.status)
	}
	var fs api.Page[store.Finding]
	f.getJSON("/api/v1/findings?kind=orphan-account&status=open", f.token, 200, &fs)
	if len(fs.Items) != 1 || fs.Items[0].Subject != "ghost" || fs.Items[0].Team != "security" {
		t.Fatalf("findings %+v", fs)
	}
}

// Operations that keep failing are found by ?state=retrying, with their
// attempts and next try, and /apps counts them; the list pages with a
// cursor.
func TestOperationsRetryingAndPaged(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Microsecond)
	var batch []store.Operation
	for _, id := range []string{"E1", "E2", "E3", "E4", "E5"} {
		batch = append(batch, store.Operation{App: "crm", Kind: store.OpCreate, Source: "hris", EmployeeID: id, Priority: 10,
			State: store.OpPending, NotBefore: now, CreatedAt: now, UpdatedAt: now})
	}
	if err := f.st.QueueOps(ctx, store.ProvisionBatch{Ops: batch}); err != nil {
		t.Fatal(err)
	}
	claimed, err := f.st.ClaimOps(ctx, "w", now, time.Minute, 1, nil)
	if err != nil || len(claimed) != 1 {
		t.Fatalf("claim: %+v, %v", claimed, err)
	}
	next := now.Add(time.Minute)
	if err := f.st.FinishOp(ctx, claimed[0].ID, "w", now, store.OpResult{State: store.OpRetrying, Error: "connection refused", NotBefore: next}); err != nil {
		t.Fatal(err)
	}
	var ops api.Page[store.Operation]
	f.getJSON("/api/v1/operations?state=retrying", f.token, 200, &ops)
	if len(ops.Items) != 1 || ops.Items[0].EmployeeID != "E1" || ops.Items[0].Attempts != 1 ||
		ops.Items[0].LastError != "connection refused" || !ops.Items[0].NotBefore.Equal(next) {
		t.Fatalf("retrying operations %+v", ops)
	}
	var apps []api.AppStatus
	f.getJSON("/api/v1/apps", f.token, 200, &apps)
	for _, a := range apps {
		if a.Name == "crm" && (a.Operations[store.OpRetrying] != 1 || a.Operations[store.OpPending] != 4) {
			t.Fatalf("crm queue %v: want 1 retrying, 4 pending", a.Operations)
		}
	}
	// Pages of two: E1 E2, E3 E4, E5.
	var got []string
	after := ""
	for range 5 {
		var p api.Page[store.Operation]
		f.getJSON("/api/v1/operations?app=crm&limit=2"+after, f.token, 200, &p)
		for _, o := range p.Items {
			got = append(got, o.EmployeeID)
		}
		if p.Next == "" {
			break
		}
		after = "&after=" + p.Next
	}
	if strings.Join(got, " ") != "E1 E2 E3 E4 E5" {
		t.Fatalf("paged through %v, want every operation once", got)
	}
	if r := f.get("/api/v1/operations?after=x", f.token); r.status != 400 {
		t.Fatalf("bad cursor: %d", r.status)
	}
}
