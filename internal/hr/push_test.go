package hr

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tango-iga/tango/internal/config"
	"github.com/tango-iga/tango/internal/store"
)

func scimSrc() *config.Source {
	return &config.Source{Name: "entra", Kind: "scim", Safeguards: config.Safeguards{MaxLeavers: "2"}}
}

func push(t *testing.T, st store.Store, id string, p *store.Person, active bool, at time.Time) PushResult {
	t.Helper()
	res, err := ApplyPush(context.Background(), st, cfg(), scimSrc(), PushChange{EmployeeID: id, Person: p, Active: active},
		Options{Actor: "scim:test", Now: func() time.Time { return at }})
	if err != nil {
		t.Fatalf("push %s: %v", id, err)
	}
	return res
}

func evTypes(evs []store.Event) string {
	s := ""
	for _, e := range evs {
		s += e.Type + "/" + e.State + " "
	}
	return s
}

func TestApplyPushLifecycle(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	p := &store.Person{DisplayName: "Ada", Email: "ada@x", Department: "Eng", Title: "Dev"}
	if r := push(t, st, "E1", p, true, now); evTypes(r.Events) != "joiner/applied " || r.Held {
		t.Fatalf("create: %s", evTypes(r.Events))
	}
	got, err := st.Person(ctx, "entra", "E1")
	if err != nil || got.Status != store.StatusActive || got.Department != "Eng" {
		t.Fatalf("person %+v %v", got, err)
	}
	// Same record again: nothing happens.
	if r := push(t, st, "E1", p, true, now.Add(time.Minute)); len(r.Events) != 0 {
		t.Fatalf("unchanged push made events: %s", evTypes(r.Events))
	}
	// Department change: mover; other attribute: change.
	p2 := *p
	p2.Department = "Sales"
	if r := push(t, st, "E1", &p2, true, now.Add(2*time.Minute)); evTypes(r.Events) != "mover/applied " {
		t.Fatalf("department change: %s", evTypes(r.Events))
	}
	p3 := p2
	p3.Email = "ada@y"
	if r := push(t, st, "E1", &p3, true, now.Add(3*time.Minute)); evTypes(r.Events) != "change/applied " {
		t.Fatalf("email change: %s", evTypes(r.Events))
	}
	// Deactivation: leaver; again: nothing; reactivation: rehire.
	if r := push(t, st, "E1", &p3, false, now.Add(4*time.Minute)); evTypes(r.Events) != "leaver/applied " {
		t.Fatalf("deactivate: %s", evTypes(r.Events))
	}
	if got, _ := st.Person(ctx, "entra", "E1"); got.Status != store.StatusLeft || got.EndDate != "2026-06-15" {
		t.Fatalf("after deactivation %+v", got)
	}
	if r := push(t, st, "E1", &p3, false, now.Add(5*time.Minute)); len(r.Events) != 0 {
		t.Fatalf("second deactivation: %s", evTypes(r.Events))
	}
	if r := push(t, st, "E1", &p3, true, now.Add(6*time.Minute)); evTypes(r.Events) != "rehire/applied " {
		t.Fatalf("reactivate: %s", evTypes(r.Events))
	}
	if got, _ := st.Person(ctx, "entra", "E1"); got.Status != store.StatusActive || got.Period != 2 {
		t.Fatalf("after rehire %+v", got)
	}
	// Deletion: leaver.
	if r := push(t, st, "E1", nil, false, now.Add(7*time.Minute)); evTypes(r.Events) != "leaver/applied " {
		t.Fatalf("delete: %s", evTypes(r.Events))
	}
	evs, _ := st.Events(ctx, store.EventFilter{Source: "entra"})
	if len(evs) != 6 {
		t.Fatalf("%d events stored, want 6", len(evs))
	}
	// The eight pushes of this hour are one import row with their counts,
	// which every event names; each event has its audit entry.
	imps, err := st.Imports(ctx, "entra", 100)
	if err != nil || len(imps) != 1 {
		t.Fatalf("imports %+v %v, want one for the hour", imps, err)
	}
	w := imps[0]
	if w.ID != PushWindowID("entra", now) || w.Status != store.ImportApplied || w.Rows != 8 || w.Joiners != 1 || w.Movers != 1 ||
		w.Changes != 1 || w.Leavers != 2 || w.Rehires != 1 || w.Unchanged != 2 || !w.CreatedAt.Equal(now) {
		t.Fatalf("window import %+v", w)
	}
	ents, _ := st.AuditEntries(ctx, 0, 1000)
	perEvent := map[string]int{}
	for _, e := range ents {
		if e.ImportID == w.ID && e.Source == "entra" {
			perEvent[e.Action]++
		}
		if e.Action == "hr.import.applied" {
			t.Fatalf("a push wrote an import entry: %+v", e)
		}
	}
	if perEvent["hr.joiner"] != 1 || perEvent["hr.leaver"] != 2 || perEvent["hr.rehire"] != 1 || perEvent["hr.mover"] != 1 || perEvent["hr.change"] != 1 {
		t.Fatalf("event entries naming the window: %v", perEvent)
	}
	for _, e := range evs {
		if e.ImportID != w.ID {
			t.Fatalf("event %d names import %s", e.ID, e.ImportID)
		}
	}
	// The next hour opens a new window.
	push(t, st, "E7", &store.Person{DisplayName: "Ed"}, true, now.Add(time.Hour))
	if imps, _ := st.Imports(ctx, "entra", 100); len(imps) != 2 || imps[0].ID != PushWindowID("entra", now.Add(time.Hour)) || imps[0].Joiners != 1 {
		t.Fatalf("next hour: %+v", imps)
	}
	// Other persons are untouched: pushes are per person, never snapshots.
	push(t, st, "E2", &store.Person{DisplayName: "Bo"}, true, now)
	push(t, st, "E3", &store.Person{DisplayName: "Cy"}, true, now)
	if got, _ := st.Person(ctx, "entra", "E2"); got.Status != store.StatusActive {
		t.Fatalf("E2 %+v", got)
	}
}

func TestApplyPushBurstSafeguard(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	for i := range 5 {
		push(t, st, fmt.Sprint("E", i), &store.Person{DisplayName: fmt.Sprint("P", i)}, true, now)
	}
	var held string
	for i := range 4 {
		r := push(t, st, fmt.Sprint("E", i), &store.Person{DisplayName: fmt.Sprint("P", i)}, false, now.Add(time.Duration(i+1)*time.Minute))
		if r.Held != (i >= 2) {
			t.Fatalf("deactivation %d held=%v", i, r.Held)
		}
		if r.Held {
			if held != "" && r.ImportID != held {
				t.Fatalf("burst split over imports %s and %s", held, r.ImportID)
			}
			held = r.ImportID
		}
	}
	if got, _ := st.Person(ctx, "entra", "E3"); got.Status != store.StatusActive {
		t.Fatalf("held deactivation applied: %+v", got)
	}
	// Joiners still flow while the burst is held.
	if r := push(t, st, "E9", &store.Person{DisplayName: "New"}, true, now.Add(10*time.Minute)); evTypes(r.Events) != "joiner/applied " {
		t.Fatalf("joiner during hold: %s", evTypes(r.Events))
	}
	imp, err := Decide(ctx, st, held, true, Options{Actor: "hr-lead", Now: func() time.Time { return now.Add(time.Hour) }})
	if err != nil || imp.Leavers != 2 {
		t.Fatalf("approve: %+v %v", imp, err)
	}
	if got, _ := st.Person(ctx, "entra", "E3"); got.Status != store.StatusLeft {
		t.Fatalf("approved deactivation not applied: %+v", got)
	}
	// An hour later the rate allows deactivations again.
	if r := push(t, st, "E4", &store.Person{DisplayName: "P4"}, false, now.Add(3*time.Hour)); r.Held {
		t.Fatalf("deactivation after the window held: %s", r.Reason)
	}
}

func TestCheckPerson(t *testing.T) {
	for _, c := range []struct {
		p    store.Person
		want string
	}{
		{store.Person{DisplayName: "A", Email: "a@x.example", StartDate: "2026-01-01", EndDate: "2026-02-01"}, ""},
		{store.Person{Email: "a@x.example"}, "display_name: display name is empty"},
		{store.Person{DisplayName: "A", Email: "a at x"}, `email: "a at x" is not a valid email address`},
		{store.Person{DisplayName: "A", EndDate: "1.2.2026"}, `end_date: "1.2.2026" is not a date in the form YYYY-MM-DD`},
		{store.Person{DisplayName: "A", StartDate: "2026-03-01", EndDate: "2026-02-01"}, "end_date: end date 2026-02-01 is before start date 2026-03-01"},
	} {
		if got := strings.Join(CheckPerson(&c.p), "; "); got != c.want {
			t.Errorf("%+v: %q, want %q", c.p, got, c.want)
		}
	}
}
