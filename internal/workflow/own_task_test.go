package workflow

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tango-iga/tango/internal/audit"
	"github.com/tango-iga/tango/internal/domain"
	"github.com/tango-iga/tango/internal/store"
	"github.com/tango-iga/tango/internal/task"
)

// Nobody attests their own access or closes a task about themselves: the
// person a task is about may not complete it (as a person, through a
// token bound to them or the CLI's --as) nor be given it; anyone else may.
func TestNobodyCompletesATaskAboutThemselves(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, "")
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	var ps []store.Person
	for _, id := range []string{"E9", "M9"} {
		ps = append(ps, store.Person{Source: "hris", EmployeeID: id, DisplayName: "Person " + id, Status: store.StatusActive, Period: 1, UpdatedAt: t0})
	}
	imp := store.Import{ID: "imp-1", Source: "hris", Status: store.ImportApplied, Actor: "test", Rows: len(ps), CreatedAt: t0}
	if err := f.st.ApplyImport(ctx, imp, ps, nil, []audit.Entry{store.ImportEntry(imp, "hr.import.applied", "test", t0)}, nil); err != nil {
		t.Fatal(err)
	}
	_, ts, err := OpenCase(ctx, f.st, store.Case{Kind: store.CaseMover, Source: "hris", Person: "E9", OpenedAt: t0}, []store.CaseTask{
		{Team: "manager", Assignee: "M9", Title: "Attest the access of E9", Kind: store.TaskHuman, Due: t0.Add(48 * time.Hour), Step: "attest", EvidenceKind: store.EvidenceAttestation},
	}, "wf")
	if err != nil {
		t.Fatal(err)
	}
	id := ts[0].ID
	for _, actor := range []string{"person:E9", "person:E9 via token:mine", "person:E9 via cli:ops"} {
		_, err := Complete(ctx, f.st, id, "I attest that E9's access is right", actor, t0.Add(time.Hour))
		if !errors.Is(err, task.ErrAboutThemselves) || domain.KindOf(err) != domain.KindForbidden ||
			!strings.Contains(err.Error(), "is about E9, who may not complete it") {
			t.Fatalf("%s completes a task about E9: %v, want ErrAboutThemselves (403)", actor, err)
		}
	}
	// The rule of the task itself, below workflow's checks.
	if _, err := task.Complete(ctx, f.st, id, "I attest that E9's access is right", "person:E9 via token:mine", t0.Add(time.Hour)); !errors.Is(err, task.ErrAboutThemselves) {
		t.Fatalf("task.Complete by the subject: %v", err)
	}
	if _, err := ReassignTask(ctx, f.st, id, "manager", "E9", "cli:ops", t0.Add(time.Hour)); !errors.Is(err, task.ErrAboutThemselves) {
		t.Fatalf("ReassignTask to the subject: %v", err)
	}
	if _, err := Reassign(ctx, f.st, f.cfg, id, "manager", "E9", "cli:ops", t0.Add(time.Hour)); !errors.Is(err, task.ErrAboutThemselves) ||
		!strings.Contains(err.Error(), "who may not be given it") {
		t.Fatalf("reassigning the task to E9: %v, want ErrAboutThemselves", err)
	}
	if got, err := f.st.CaseTask(ctx, id); err != nil || got.Status != store.TaskOpen || got.Assignee != "M9" {
		t.Fatalf("a refused completion or reassignment changed the task: %+v %v", got, err)
	}
	if ns, _ := f.st.Notifications(ctx, store.NotificationFilter{Kind: store.NotifyReassigned}); len(ns) != 0 {
		t.Fatalf("a refused reassignment queued %d notices", len(ns))
	}
	// Someone else (a person, or a service) completes it.
	done, err := Complete(ctx, f.st, id, "I attest that E9's access is right", "person:M9 via token:m9", t0.Add(2*time.Hour))
	if err != nil || done.Status != store.TaskDone || done.CompletedBy != "person:M9 via token:m9" {
		t.Fatalf("M9 completes it: %+v %v", done, err)
	}
	for actor, want := range map[string]string{"person:E9": "E9", "person:E9 via x": "E9", "cli:ops": "", "token:x": "", "system:provision": "", "person:": ""} {
		if got := task.ActorPerson(actor); got != want {
			t.Errorf("ActorPerson(%q) = %q, want %q", actor, got, want)
		}
	}
}
