package workflow

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tango-iga/tango/internal/config"
	"github.com/tango-iga/tango/internal/store"
)

// A task given to a team or person Tango does not know would fall out of
// every queue: Reassign refuses it, naming the known teams, and the task
// stays where it was.
func TestReassignRefusesUnknownTeamsAndPersons(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, "")
	f.cfg.Apps = append(f.cfg.Apps, config.App{Name: "erp", Connector: "manual", Owner: "finance-it", Settings: map[string]any{"team": "erp-admins"}})
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	_, ts, err := OpenCase(ctx, f.st, store.Case{Kind: store.CaseLeaver, Source: "hris", Person: "E9", OpenedAt: t0}, []store.CaseTask{
		{Team: "it", Title: "Recover laptop", Kind: store.TaskHuman, Due: t0.Add(48 * time.Hour), Step: "recover-asset", EvidenceKind: store.EvidenceText},
	}, "wf")
	if err != nil {
		t.Fatal(err)
	}
	id := ts[0].ID
	_, err = Reassign(ctx, f.st, f.cfg, id, "nobody-team", "", "cli:ops", t0)
	if !errors.Is(err, ErrUnknownOwner) || !strings.Contains(err.Error(), `team "nobody-team" is not known`) ||
		!strings.Contains(err.Error(), "erp-admins, ") || !strings.Contains(err.Error(), "finance-it, hr, it, manager, security") {
		t.Fatalf("unknown team: %v", err)
	}
	if _, err := Reassign(ctx, f.st, f.cfg, id, "it", "NOBODY99", "cli:ops", t0); !errors.Is(err, ErrUnknownOwner) || !strings.Contains(err.Error(), `"NOBODY99"`) {
		t.Fatalf("unknown person: %v", err)
	}
	if got, err := f.st.CaseTask(ctx, id); err != nil || got.Team != "it" || got.Assignee != "" {
		t.Fatalf("a refused reassignment changed the task: %+v %v", got, err)
	}
	for _, team := range []string{"finance-it", "erp-admins", "security"} {
		if got, err := Reassign(ctx, f.st, f.cfg, id, team, "", "cli:ops", t0); err != nil || got.Team != team {
			t.Fatalf("reassign to known team %s: %+v %v", team, got, err)
		}
	}
}
