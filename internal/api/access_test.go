package api_test

import (
	"context"
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
