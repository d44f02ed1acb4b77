package hr

import (
	"context"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tango-iga/tango/internal/config"
	"github.com/tango-iga/tango/internal/store"
	"github.com/tango-iga/tango/internal/store/sqlite"
	"github.com/tango-iga/tango/internal/table"
)

func src() *config.Source {
	return &config.Source{Name: "hris", Kind: "file", Key: "id",
		Mapping: map[string]string{"display_name": "name", "email": "email", "title": "title",
			"department": "dept", "manager": "manager", "start_date": "start", "end_date": "end",
			"employment_type": "'employee'", "projects": "projects"},
		Safeguards: config.Safeguards{MaxLeavers: "2"}}
}

const header = "id,name,email,title,dept,manager,start,end,projects\n"

func cfg() *config.Config { return config.Default() }

func openStore(t *testing.T) store.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

var now = time.Date(2026, 6, 15, 14, 0, 0, 0, time.UTC)

func run(t *testing.T, st store.Store, csv string, opt ...Options) Result {
	t.Helper()
	o := Options{Actor: "test", Now: func() time.Time { return now }}
	if len(opt) > 0 {
		o.DryRun = opt[0].DryRun
	}
	res, err := ImportFile(context.Background(), st, cfg(), src(), "hris.csv", []byte(csv), o)
	if err != nil {
		t.Fatalf("import: %v", err)
	}
	return res
}

func TestValidationRejectsWholeFeed(t *testing.T) {
	st := openStore(t)
	feed := header +
		"E1,Ann Boss,ann@dtaa.com,CEO,Exec,,,,\n" +
		",No Id,x@dtaa.com,Eng,Eng,E1,,,\n" + // row 3: empty key
		"E1,Dup,d@dtaa.com,Eng,Eng,E1,,,\n" + // row 4: duplicate key
		"E3,Bad Mail,not-an-email,Eng,Eng,E1,,,\n" + // row 5
		"E4,Lost,l@dtaa.com,Eng,Eng,Nobody Known,,,\n" + // row 6: unknown manager
		"E5,Loop A,a@dtaa.com,Eng,Eng,E6,,,\n" + // rows 7-8: cycle
		"E6,Loop B,b@dtaa.com,Eng,Eng,Loop A,,,\n" +
		"E7,Twin,t1@dtaa.com,Eng,Eng,E1,,,\n" +
		"E8,Twin,t2@dtaa.com,Eng,Eng,E1,,,\n" +
		"E9,Amb,m@dtaa.com,Eng,Eng,Twin,,,\n" + // row 11: ambiguous manager
		"E10,Dates,q@dtaa.com,Eng,Eng,E1,2026-13-01,,\n" // row 12: bad date
	res := run(t, st, feed)
	if res.Status != store.ImportRejected {
		t.Fatalf("status %s, want rejected", res.Status)
	}
	want := map[int]string{3: "id", 4: "id", 5: "email", 6: "manager", 7: "manager", 11: "manager", 12: "start"}
	got := map[int]string{}
	for _, e := range res.Errors {
		got[e.Row] = e.Column
		if e.Message == "" {
			t.Errorf("row %d: empty message", e.Row)
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("errors by row %v, want %v; all: %+v", got, want, res.Errors)
	}
	if ps, _ := st.Persons(context.Background(), store.PersonFilter{}); len(ps) != 0 {
		t.Fatalf("%d persons written by a rejected feed", len(ps))
	}
	// Only the rejected import itself is kept: its errors (never its rows)
	// and one audit entry saying so.
	ctx := context.Background()
	if res.ImportID == "" {
		t.Fatal("rejected feed has no import ID")
	}
	imp, err := st.Import(ctx, res.ImportID)
	if err != nil || imp.Status != store.ImportRejected || len(imp.Errors) != len(res.Errors) || imp.Joiners != 0 {
		t.Fatalf("stored rejected import %+v, %v", imp, err)
	}
	for i, e := range imp.Errors {
		if e.Row != res.Errors[i].Row || e.Column != res.Errors[i].Column || e.Message != res.Errors[i].Message {
			t.Fatalf("stored error %d = %+v, want %+v", i, e, res.Errors[i])
		}
	}
	if evs, _ := st.Events(ctx, store.EventFilter{}); len(evs) != 0 {
		t.Fatalf("%d events written by a rejected feed", len(evs))
	}
	if wf, _ := st.Workforce(ctx, "hris"); wf.Serial != 0 {
		t.Fatalf("source serial %d after a rejected feed", wf.Serial)
	}
	ents, _ := st.AuditEntries(ctx, 0, 10)
	if len(ents) != 1 || ents[0].Action != "hr.import.rejected" || ents[0].ImportID != res.ImportID {
		t.Fatalf("audit after a rejected feed: %+v, want one hr.import.rejected entry", ents)
	}
	if strings.Contains(string(ents[0].After), "Loop A") {
		t.Fatalf("the audit entry carries row data: %s", ents[0].After)
	}
}

func TestMissingColumnsAndBadMapping(t *testing.T) {
	st := openStore(t)
	res := run(t, st, "id,name\nE1,Ann\n")
	if res.Status != store.ImportRejected {
		t.Fatal("feed missing mapped columns accepted")
	}
	var cols []string
	for _, e := range res.Errors {
		cols = append(cols, e.Column)
	}
	for _, c := range []string{"email", "title", "dept", "manager"} {
		if !slices.Contains(cols, c) {
			t.Errorf("missing column %q not reported; got %v", c, cols)
		}
	}
	s := src()
	s.Mapping["display_name"] = `row.first + " " + row.last`
	s.Mapping["title"] = `row.title.upperAscii(`
	_, errs := NewMapper(s, []string{"id", "first", "last", "email", "title", "dept", "manager", "start", "end", "projects"})
	if len(errs) != 1 || errs[0].Column != "title" || !strings.Contains(errs[0].Message, "does not compile") {
		t.Fatalf("bad CEL: %+v", errs)
	}
}

func TestCELMapping(t *testing.T) {
	s := src()
	s.Mapping["display_name"] = `row.first + " " + row.last`
	s.Mapping["employment_type"] = `row.kind == "C" ? "contractor" : "employee"`
	m, errs := NewMapper(s, []string{"id", "first", "last", "kind", "email", "title", "dept", "manager", "start", "end", "projects"})
	if errs != nil {
		t.Fatal(errs)
	}
	rec, errs := m.Map(table.Row{Num: 2, Values: []string{"E1", "Ann", "Lee", "C"}})
	if errs != nil || rec.Person.DisplayName != "Ann Lee" || rec.Person.EmploymentType != "contractor" {
		t.Fatalf("mapped %+v, %v", rec.Person, errs)
	}
}

func TestLifecycleEvents(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	base := header +
		"E1,Ann Boss,ann@dtaa.com,CEO,Exec,,2020-01-01,,\n" +
		"E2,Bob Eng,bob@dtaa.com,Engineer,Eng,Ann Boss,2021-01-01,,P1\n" +
		"E3,Cat Eng,cat@dtaa.com,Engineer,Eng,E1,2021-01-01,,\n" +
		"E4,Dan Eng,dan@dtaa.com,Engineer,Eng,E1,2021-01-01,,\n"
	res := run(t, st, base)
	if res.Status != store.ImportApplied || res.Joiners != 4 {
		t.Fatalf("first load: %+v", res)
	}
	p, _ := st.Person(ctx, "hris", "E2")
	if p.ManagerID != "E1" || p.Status != store.StatusActive || p.Period != 1 || p.Attributes["projects"] != "P1" {
		t.Fatalf("E2 stored as %+v", p)
	}
	if again := run(t, st, base); again.Joiners+again.Movers+again.Leavers+again.Changes+again.Rehires != 0 || again.Unchanged != 4 {
		t.Fatalf("re-import yielded events: %+v", again)
	}
	// E2 moves (title), E3 only changes projects, E4 leaves, E5 is a pre-hire, E1 has a scheduled leave.
	next := header +
		"E1,Ann Boss,ann@dtaa.com,CEO,Exec,,2020-01-01,2026-07-01,\n" +
		"E2,Bob Eng,bob@dtaa.com,Lead Engineer,Eng,Ann Boss,2021-01-01,,P1\n" +
		"E3,Cat Eng,cat@dtaa.com,Engineer,Eng,E1,2021-01-01,,P9\n" +
		"E5,Eve New,eve@dtaa.com,Engineer,Eng,E1,2026-07-01,,\n"
	res = run(t, st, next)
	if res.Movers != 1 || res.Changes != 2 || res.Leavers != 2 || res.Joiners != 1 || res.Scheduled != 2 {
		t.Fatalf("second import: %+v", res)
	}
	evs, _ := st.Events(ctx, store.EventFilter{EmployeeID: "E2", Type: store.EventMover})
	if len(evs) != 1 || evs[0].Before.Title != "Engineer" || evs[0].After.Title != "Lead Engineer" || !slices.Equal(evs[0].Changed, []string{"title"}) {
		t.Fatalf("mover event %+v", evs)
	}
	if p, _ := st.Person(ctx, "hris", "E4"); p.Status != store.StatusLeft {
		t.Fatalf("E4 %s, want left", p.Status)
	}
	if p, _ := st.Person(ctx, "hris", "E5"); p.Status != store.StatusPrehire {
		t.Fatalf("E5 %s, want prehire", p.Status)
	}
	if p, _ := st.Person(ctx, "hris", "E1"); p.Status != store.StatusActive || p.EndDate != "2026-07-01" {
		t.Fatalf("E1 %+v, want active until 2026-07-01", p)
	}
	// On 2026-07-01 in New York, the pre-hire starts and the scheduled leave happens.
	nyMidnight := time.Date(2026, 7, 1, 4, 0, 0, 0, time.UTC)
	done, err := ApplyDue(ctx, st, nyMidnight.Add(-time.Minute), "scheduler")
	if err != nil || len(done) != 0 {
		t.Fatalf("applied before the date in the org's time zone: %d, %v", len(done), err)
	}
	done, _ = ApplyDue(ctx, st, nyMidnight, "scheduler")
	if len(done) != 2 {
		t.Fatalf("applied %d scheduled events, want 2", len(done))
	}
	if p, _ := st.Person(ctx, "hris", "E5"); p.Status != store.StatusActive {
		t.Fatalf("E5 %s after start date", p.Status)
	}
	if p, _ := st.Person(ctx, "hris", "E1"); p.Status != store.StatusLeft {
		t.Fatalf("E1 %s after end date", p.Status)
	}
	// E4 returns: a rehire with a new employment period.
	now = time.Date(2026, 7, 2, 14, 0, 0, 0, time.UTC)
	defer func() { now = time.Date(2026, 6, 15, 14, 0, 0, 0, time.UTC) }()
	back := next + "E4,Dan Eng,dan@dtaa.com,Engineer,Eng,E1,2026-07-02,,\n"
	res = run(t, st, back)
	if res.Rehires != 1 || res.Joiners != 0 || res.Leavers != 0 || res.Unchanged != 4 || res.Changes != 0 {
		t.Fatalf("rehire: %+v", res)
	}
	if p, _ := st.Person(ctx, "hris", "E4"); p.Status != store.StatusActive || p.Period != 2 {
		t.Fatalf("rehired E4: %+v", p)
	}
}

func TestSafeguardHoldsThenApprove(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	var b strings.Builder
	b.WriteString(header + "E0,Boss,boss@dtaa.com,CEO,Exec,,,,\n")
	for _, id := range []string{"E1", "E2", "E3", "E4"} {
		b.WriteString(id + ",P " + id + "," + id + "@dtaa.com,Eng,Eng,E0,,,\n")
	}
	run(t, st, b.String())
	small := header + "E0,Boss,boss@dtaa.com,CEO,Exec,,,,\n"
	res := run(t, st, small) // 4 leavers > max 2
	if res.Status != store.ImportHeld || res.Leavers != 4 || !strings.Contains(res.Reason, "max_leavers") {
		t.Fatalf("not held: %+v", res)
	}
	if p, _ := st.Person(ctx, "hris", "E1"); p.Status != store.StatusActive {
		t.Fatal("held import changed a person")
	}
	_, err := ImportFile(ctx, st, cfg(), src(), "next.csv", []byte(small), Options{Actor: "t"})
	if err == nil || !strings.Contains(err.Error(), res.ImportID) {
		t.Fatalf("import while held: %v, want a refusal naming %s", err, res.ImportID)
	}
	if _, err := Decide(ctx, st, res.ImportID, true, Options{Actor: "hr-lead", Now: func() time.Time { return now }}); err != nil {
		t.Fatal(err)
	}
	if ps, _ := st.Persons(ctx, store.PersonFilter{Status: store.StatusLeft}); len(ps) != 4 {
		t.Fatalf("%d left after approval, want 4", len(ps))
	}
	evs, _ := st.Events(ctx, store.EventFilter{ImportID: res.ImportID})
	if len(evs) != 4 || evs[0].State != store.EventApplied || evs[0].Type != store.EventLeaver || evs[0].Before == nil {
		t.Fatalf("events of the approved import: %+v", evs)
	}
	ents, _ := st.AuditEntries(ctx, 0, 1000)
	leavers := 0
	for _, e := range ents {
		if e.Action == "hr.leaver" && e.ImportID == res.ImportID && e.Actor == "hr-lead" {
			leavers++
		}
	}
	if leavers != 4 {
		t.Fatalf("%d leaver audit entries by the approver, want 4", leavers)
	}
	if dry := run(t, st, b.String(), Options{DryRun: true}); dry.Status != store.ImportDryRun || dry.Rehires != 4 {
		t.Fatalf("dry run: %+v", dry)
	}
	if ps, _ := st.Persons(ctx, store.PersonFilter{Status: store.StatusLeft}); len(ps) != 4 {
		t.Fatal("dry run wrote")
	}
}

// A pre-hire whose start date has come when the next snapshot arrives
// becomes active through that import; the joiner scheduled earlier is
// cancelled, not applied a second time.
func TestPrehireStartedByImport(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	feed := header + "E1,Ann Boss,ann@dtaa.com,CEO,Exec,,2020-01-01,,\n" + "E2,Bob New,bob@dtaa.com,Eng,Eng,E1,2026-06-20,,\n"
	if res := run(t, st, feed); res.Joiners != 2 || res.Scheduled != 1 {
		t.Fatalf("first import: %+v", res)
	}
	now = time.Date(2026, 6, 21, 14, 0, 0, 0, time.UTC)
	defer func() { now = time.Date(2026, 6, 15, 14, 0, 0, 0, time.UTC) }()
	if res := run(t, st, feed); res.Joiners != 1 {
		t.Fatalf("second import: %+v", res)
	}
	if p, _ := st.Person(ctx, "hris", "E2"); p.Status != store.StatusActive {
		t.Fatalf("E2 is %s", p.Status)
	}
	if done, _ := ApplyDue(ctx, st, now, "scheduler"); len(done) != 0 {
		t.Fatalf("the scheduled joiner was applied again: %+v", done)
	}
	evs, _ := st.Events(ctx, store.EventFilter{EmployeeID: "E2", Type: store.EventJoiner})
	if len(evs) != 2 || evs[0].State != "cancelled" || evs[1].State != store.EventApplied {
		t.Fatalf("joiner events of E2: %+v", evs)
	}
}
