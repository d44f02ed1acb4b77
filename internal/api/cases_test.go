package api_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tango-iga/tango/internal/store"
	"github.com/tango-iga/tango/internal/workflow"
)

func TestCasesAndTasksAPI(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	ctx := context.Background()
	now := time.Now().UTC()
	_, tasks, err := workflow.OpenCase(ctx, f.st, store.Case{Kind: store.CaseLeaver, Source: "hris", Person: "E9", Status: store.CaseOpen, OpenedAt: now, Effective: now},
		[]store.CaseTask{
			{Person: "E9", Team: "hr", Title: "Attest that E9 holds no company data", Status: store.TaskOpen, Kind: store.TaskHuman, Due: now.Add(-time.Hour), CreatedAt: now,
				Step: "attest", EvidenceKind: store.EvidenceAttestation},
			{Person: "E9", Team: "security", Title: "Review E9's recent access", Status: store.TaskOpen, Kind: store.TaskHuman, Due: now.Add(time.Hour), CreatedAt: now,
				Step: "review", DependsOn: []string{"attest"}, EvidenceKind: store.EvidenceText},
		}, "test")
	if err != nil {
		t.Fatal(err)
	}
	var cases struct{ Items []store.Case }
	f.getJSON("/api/v1/cases?status=open", f.token, 200, &cases)
	if len(cases.Items) != 1 || cases.Items[0].Person != "E9" || cases.Items[0].Kind != "leaver" {
		t.Fatalf("cases %+v", cases)
	}
	var hr struct{ Items []store.CaseTask }
	f.getJSON("/api/v1/tasks?team=hr&status=open", f.token, 200, &hr)
	if len(hr.Items) != 1 || hr.Items[0].Step != "attest" {
		t.Fatalf("hr tasks %+v", hr)
	}
	// metrics: one open task per team, the HR one overdue
	m := f.get("/metrics", f.token)
	for _, want := range []string{`tango_tasks{state="open",team="hr"} 1`, `tango_tasks{state="overdue",team="hr"} 1`, `tango_tasks{state="overdue",team="security"} 0`} {
		if !strings.Contains(string(m.body), want) {
			t.Fatalf("metrics lack %s", want)
		}
	}
	post := func(path, body string) resp {
		return f.do("POST", path, f.token, strings.NewReader(body), "Content-Type", "application/json")
	}
	review := tasks[1].ID
	if r := post("/api/v1/tasks/"+itoa(review)+"/complete", `{"evidence":"looked"}`); r.status != 409 {
		t.Fatalf("a blocked task completed: %d %s", r.status, r.body)
	}
	if r := post("/api/v1/tasks/"+itoa(tasks[0].ID)+"/complete", `{"evidence":"ok"}`); r.status != 422 {
		t.Fatalf("weak attestation: %d %s", r.status, r.body)
	}
	if r := post("/api/v1/tasks/"+itoa(tasks[0].ID)+"/complete", `{"evidence":"I attest that E9 returned every device and keeps no data"}`); r.status != 200 {
		t.Fatalf("attestation: %d %s", r.status, r.body)
	}
	// An unknown team or person is refused, naming the known teams: the
	// task would fall out of every queue.
	if r := post("/api/v1/tasks/"+itoa(review)+"/reassign", `{"team":"nobody-team"}`); r.status != 422 || !strings.Contains(string(r.body), `known teams: `) || !strings.Contains(string(r.body), `security`) {
		t.Fatalf("reassign to an unknown team: %d %s", r.status, r.body)
	}
	if r := post("/api/v1/tasks/"+itoa(review)+"/reassign", `{"team":"it","assignee":"NOBODY99"}`); r.status != 422 || !strings.Contains(string(r.body), `NOBODY99`) {
		t.Fatalf("reassign to an unknown person: %d %s", r.status, r.body)
	}
	if r := post("/api/v1/tasks/"+itoa(review)+"/reassign", `{"team":"it"}`); r.status != 200 || !strings.Contains(string(r.body), `"it"`) {
		t.Fatalf("reassign: %d %s", r.status, r.body)
	}
	if r := post("/api/v1/tasks/"+itoa(review)+"/complete", `{"evidence":"no unusual access in the last 90 days"}`); r.status != 200 {
		t.Fatalf("review: %d %s", r.status, r.body)
	}
	f.getJSON("/api/v1/cases?status=closed", f.token, 200, &cases)
	if len(cases.Items) != 1 || cases.Items[0].ClosedAt == nil {
		t.Fatalf("the case did not close: %+v", cases)
	}
	if r := post("/api/v1/tasks/x/complete", `{}`); r.status != 400 {
		t.Fatalf("bad id: %d", r.status)
	}
	if r := f.do("POST", "/api/v1/tasks/"+itoa(review)+"/complete", "", strings.NewReader(`{}`)); r.status != 401 {
		t.Fatalf("no token: %d", r.status)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
