package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tango-iga/tango/internal/audit"
	"github.com/tango-iga/tango/internal/hr"
	"github.com/tango-iga/tango/internal/store"
)

func scimUser(id, userName, employee string) store.SCIMResource {
	return store.SCIMResource{ID: id, Type: store.SCIMUser, Source: "hr-scim", EmployeeID: employee,
		NameKey: userName, ExternalID: "ext-" + id, Created: t0, Modified: t0,
		Doc: []byte(fmt.Sprintf(`{"userName":%q}`, userName))}
}

func pushImport(id string) store.Import {
	return store.Import{ID: id, Source: "hr-scim", File: "scim", Actor: "scim:test", Rows: 1, CreatedAt: t0}
}

// pushJoiner creates user and person in one change.
func pushJoiner(t *testing.T, st store.Store, id, employee string) store.Person {
	t.Helper()
	p := person(employee, "Eng", "")
	p.Source = "hr-scim"
	e := store.Event{Source: "hr-scim", EmployeeID: employee, Type: store.EventJoiner, State: store.EventApplied,
		Effective: t0, After: &p, CreatedAt: t0}
	imp := pushImport("push_" + id)
	imp.Joiners = 1
	res, err := hr.ApplyPersonChange(context.Background(), st, store.PersonChange{Import: imp, Person: &p, Events: []store.Event{e},
		Writes: []store.SCIMWrite{{Resource: scimUser(id, "user-"+id, employee)}}})
	if err != nil || res.Held {
		t.Fatalf("push joiner %s: %+v %v", id, res, err)
	}
	return p
}

func pushLeaver(st store.Store, id string, old store.Person, limit int) (store.PersonChangeResult, error) {
	gone := old
	gone.Status = store.StatusLeft
	gone.UpdatedAt = old.UpdatedAt.Add(time.Second)
	e := store.Event{Source: "hr-scim", EmployeeID: old.EmployeeID, Type: store.EventLeaver, State: store.EventApplied,
		Effective: t0, Before: &old, After: &gone, CreatedAt: t0}
	imp := pushImport("push_leave_" + old.EmployeeID)
	imp.Leavers = 1
	cur, err := st.SCIMResource(context.Background(), store.SCIMUser, id)
	if err != nil {
		return store.PersonChangeResult{}, err
	}
	cur.Doc = []byte(`{"active":false}`)
	return hr.ApplyPersonChange(context.Background(), st, store.PersonChange{Import: imp, Person: &gone, Expect: &old,
		Events: []store.Event{e}, Writes: []store.SCIMWrite{{Resource: cur}}, MaxLeaversPerHour: limit})
}

func testSCIMResourcesRoundTripAndQuery(t *testing.T, b Backend) {
	ctx := context.Background()
	st := b.Open(t)
	for i, n := range []string{"carol", "alice", "bob"} {
		x := scimUser(fmt.Sprint("u", i), n, "")
		x.Created = t0.Add(time.Duration(i) * time.Second)
		if err := st.WriteSCIM(ctx, []store.SCIMWrite{{Resource: x}}, []audit.Entry{audit.New(t0, "scim:t", "scim.user.created", "", "", x.ID, nil, nil)}); err != nil {
			t.Fatal(err)
		}
	}
	g := store.SCIMResource{ID: "g1", Type: store.SCIMGroup, Source: "hr-scim", NameKey: "alice", Created: t0, Modified: t0, Doc: []byte(`{}`)}
	if err := st.WriteSCIM(ctx, []store.SCIMWrite{{Resource: g}}, nil); err != nil {
		t.Fatalf("a group may share a user's name: %v", err)
	}
	x, err := st.SCIMResource(ctx, store.SCIMUser, "u1")
	if err != nil || x.NameKey != "alice" || x.Version != 1 || string(x.Doc) != `{"userName":"alice"}` || !x.Created.Equal(t0.Add(time.Second)) || x.ExternalID != "ext-u1" {
		t.Fatalf("read back %+v, %v", x, err)
	}
	if _, err := st.SCIMResource(ctx, store.SCIMGroup, "u1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("user read as group: %v", err)
	}
	all, total, err := st.SCIMResources(ctx, store.SCIMQuery{Type: store.SCIMUser, Count: true, Offset: 1, Limit: 1})
	if err != nil || total != 3 || len(all) != 1 || all[0].ID != "u1" {
		t.Fatalf("page: %d %+v %v", total, all, err)
	}
	byName, _, _ := st.SCIMResources(ctx, store.SCIMQuery{Type: store.SCIMUser, OrderByName: true})
	if len(byName) != 3 || byName[0].NameKey != "alice" || byName[2].NameKey != "carol" {
		t.Fatalf("by name: %+v", byName)
	}
	one, _, _ := st.SCIMResources(ctx, store.SCIMQuery{Type: store.SCIMUser, NameKey: "bob"})
	if len(one) != 1 || one[0].ID != "u2" {
		t.Fatalf("by name key: %+v", one)
	}
	ext, _, _ := st.SCIMResources(ctx, store.SCIMQuery{Type: store.SCIMUser, ExternalID: "ext-u0", IDs: []string{"u0", "u2"}})
	if len(ext) != 1 || ext[0].ID != "u0" {
		t.Fatalf("by external id and ids: %+v", ext)
	}
	// Uniqueness of userName.
	dup := scimUser("u9", "bob", "")
	if err := st.WriteSCIM(ctx, []store.SCIMWrite{{Resource: dup}}, nil); !errors.Is(err, store.ErrUniqueness) {
		t.Fatalf("duplicate userName: %v", err)
	}
	// Versions: a stale write fails, a current one bumps the version.
	x.Doc = []byte(`{"userName":"alice","title":"x"}`)
	stale := x
	stale.Version = 7
	if err := st.WriteSCIM(ctx, []store.SCIMWrite{{Resource: stale}}, nil); !errors.Is(err, store.ErrVersion) {
		t.Fatalf("stale write: %v", err)
	}
	if err := st.WriteSCIM(ctx, []store.SCIMWrite{{Resource: x}}, nil); err != nil {
		t.Fatal(err)
	}
	if y, _ := st.SCIMResource(ctx, store.SCIMUser, "u1"); y.Version != 2 || string(y.Doc) != string(x.Doc) {
		t.Fatalf("after replace: %+v", y)
	}
	x.Version = 2
	if err := st.WriteSCIM(ctx, []store.SCIMWrite{{Resource: x, Delete: true}}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := st.SCIMResource(ctx, store.SCIMUser, "u1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("after delete: %v", err)
	}
	ents, _ := st.AuditEntries(ctx, 0, 100)
	if len(ents) != 3 || ents[0].Action != "scim.user.created" {
		t.Fatalf("audit entries %+v", ents)
	}
}

func testSCIMPagesAreExactAcrossDeletes(t *testing.T, b Backend) {
	ctx := context.Background()
	st := b.Open(t)
	var want []string // ids in creation order
	for i := range 40 {
		x := scimUser(fmt.Sprintf("p%02d", i), fmt.Sprintf("user%02d", i), "")
		// Creation times out of order: pages follow the order of creation, not the clock.
		x.Created = t0.Add(time.Duration(40-i) * time.Second)
		if err := st.WriteSCIM(ctx, []store.SCIMWrite{{Resource: x}}, nil); err != nil {
			t.Fatal(err)
		}
		want = append(want, x.ID)
	}
	g := store.SCIMResource{ID: "g1", Type: store.SCIMGroup, NameKey: "g", Created: t0, Modified: t0, Doc: []byte(`{}`)}
	if err := st.WriteSCIM(ctx, []store.SCIMWrite{{Resource: g}}, nil); err != nil {
		t.Fatal(err)
	}
	check := func(stage string) {
		t.Helper()
		for off := 0; off <= len(want)+1; off++ {
			for _, lim := range []int{1, 3, 7, 100} {
				xs, total, err := st.SCIMResources(ctx, store.SCIMQuery{Type: store.SCIMUser, Offset: off, Limit: lim, Count: true})
				if err != nil {
					t.Fatal(err)
				}
				if total != len(want) {
					t.Fatalf("%s: total %d, want %d", stage, total, len(want))
				}
				exp := want[min(off, len(want)):min(off+lim, len(want))]
				var got []string
				for _, x := range xs {
					got = append(got, x.ID)
				}
				if fmt.Sprint(got) != fmt.Sprint(exp) {
					t.Fatalf("%s: offset %d limit %d: %v, want %v", stage, off, lim, got, exp)
				}
			}
		}
	}
	check("no deletes")
	// Delete the first, the last, a run in the middle and scattered ones.
	del := map[string]bool{"p00": true, "p39": true, "p10": true, "p11": true, "p12": true, "p13": true, "p25": true, "p31": true}
	for _, id := range []string{"p25", "p00", "p12", "p39", "p10", "p31", "p13", "p11"} {
		x, err := st.SCIMResource(ctx, store.SCIMUser, id)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.WriteSCIM(ctx, []store.SCIMWrite{{Resource: x, Delete: true}}, nil); err != nil {
			t.Fatal(err)
		}
		var keep []string
		for _, w := range want {
			if w != id {
				keep = append(keep, w)
			}
		}
		want = keep
		if id == "p12" {
			check("some deleted")
		}
	}
	if len(want) != 40-len(del) {
		t.Fatalf("%d left", len(want))
	}
	check("deleted")
	byName, total, err := st.SCIMResources(ctx, store.SCIMQuery{Type: store.SCIMUser, OrderByName: true, Count: true, Offset: 1, Limit: 2})
	if err != nil || total != len(want) || len(byName) != 2 || byName[0].ID != "p02" || byName[1].ID != "p03" {
		t.Fatalf("by name after deletes: %d %v %v", total, byName, err)
	}
	// New resources go to the end; replacing one keeps its place.
	x := scimUser("p40", "user40", "")
	if err := st.WriteSCIM(ctx, []store.SCIMWrite{{Resource: x}}, nil); err != nil {
		t.Fatal(err)
	}
	want = append(want, "p40")
	y, _ := st.SCIMResource(ctx, store.SCIMUser, "p05")
	y.Doc = []byte(`{"userName":"user05","title":"new"}`)
	if err := st.WriteSCIM(ctx, []store.SCIMWrite{{Resource: y}}, nil); err != nil {
		t.Fatal(err)
	}
	check("after create and replace")
	xs, total, err := st.SCIMResources(ctx, store.SCIMQuery{Type: store.SCIMGroup, Count: true})
	if err != nil || total != 1 || len(xs) != 1 || xs[0].ID != "g1" {
		t.Fatalf("groups are counted apart: %d %v %v", total, xs, err)
	}
}

func testSCIMGroupMembershipIsKept(t *testing.T, b Backend) {
	ctx := context.Background()
	st := b.Open(t)
	for _, id := range []string{"u1", "u2", "u3"} {
		if err := st.WriteSCIM(ctx, []store.SCIMWrite{{Resource: scimUser(id, id, "")}}, nil); err != nil {
			t.Fatal(err)
		}
	}
	group := func(id, name string, version int64, members ...string) store.SCIMResource {
		var ms []map[string]string
		for _, m := range members {
			ms = append(ms, map[string]string{"value": m})
		}
		doc, _ := json.Marshal(map[string]any{"displayName": name, "members": ms})
		return store.SCIMResource{ID: id, Type: store.SCIMGroup, NameKey: name, Display: name, Members: members,
			Version: version, Created: t0, Modified: t0, Doc: doc}
	}
	groupsOf := func() string {
		t.Helper()
		m, err := st.SCIMGroupsOf(ctx, []string{"u1", "u2", "u3", "nobody"})
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprint(m)
	}
	if err := st.WriteSCIM(ctx, []store.SCIMWrite{{Resource: group("g1", "Eng", 0, "u1", "u2", "u2")}, {Resource: group("g2", "All", 0, "u2")}}, nil); err != nil {
		t.Fatal(err)
	}
	if got, want := groupsOf(), "map[u1:[{g1 Eng}] u2:[{g1 Eng} {g2 All}]]"; got != want {
		t.Fatalf("after create: %s, want %s", got, want)
	}
	// A member's groups are part of it: each change is a new version.
	versions := func() string {
		t.Helper()
		var vs []int64
		for _, id := range []string{"u1", "u2", "u3"} {
			x, err := st.SCIMResource(ctx, store.SCIMUser, id)
			if err != nil {
				t.Fatal(err)
			}
			vs = append(vs, x.Version)
		}
		return fmt.Sprint(vs)
	}
	if got := versions(); got != "[2 3 1]" {
		t.Fatalf("versions after joining groups: %s, want [2 3 1]", got)
	}
	// Membership changes and a rename are reflected.
	if err := st.WriteSCIM(ctx, []store.SCIMWrite{{Resource: group("g1", "Engineering", 1, "u2", "u3")}}, nil); err != nil {
		t.Fatal(err)
	}
	if got, want := groupsOf(), "map[u2:[{g1 Engineering} {g2 All}] u3:[{g1 Engineering}]]"; got != want {
		t.Fatalf("after change: %s, want %s", got, want)
	}
	if got := versions(); got != "[3 4 2]" {
		t.Fatalf("versions after a removal, a rename and an addition: %s, want [3 4 2]", got)
	}
	// A failed write leaves the membership as it was.
	if err := st.WriteSCIM(ctx, []store.SCIMWrite{{Resource: group("g1", "Eng", 7, "u1")}}, nil); !errors.Is(err, store.ErrVersion) {
		t.Fatalf("stale group write: %v", err)
	}
	// Deleting a member or a group removes the membership.
	u3, _ := st.SCIMResource(ctx, store.SCIMUser, "u3")
	g2, _ := st.SCIMResource(ctx, store.SCIMGroup, "g2")
	if err := st.WriteSCIM(ctx, []store.SCIMWrite{{Resource: u3, Delete: true}, {Resource: g2, Delete: true}}, nil); err != nil {
		t.Fatal(err)
	}
	if got, want := groupsOf(), "map[u2:[{g1 Engineering}]]"; got != want {
		t.Fatalf("after deletes: %s, want %s", got, want)
	}
	if x, _ := st.SCIMResource(ctx, store.SCIMUser, "u2"); x.Version != 5 {
		t.Fatalf("u2 at version %d after its group g2 was deleted, want 5", x.Version)
	}
	// The deleted member left its group's document too: a new version of it.
	if g1, _ := st.SCIMResource(ctx, store.SCIMGroup, "g1"); g1.Version != 3 || strings.Contains(string(g1.Doc), "u3") || !strings.Contains(string(g1.Doc), `"u2"`) {
		t.Fatalf("g1 after its member u3 was deleted: version %d, %s", g1.Version, g1.Doc)
	}
}

func testPersonChangeAppliesAtomically(t *testing.T, b Backend) {
	ctx := context.Background()
	st := b.Open(t)
	p := pushJoiner(t, st, "u1", "E1")
	got, err := st.Person(ctx, "hr-scim", "E1")
	if err != nil || got.Status != store.StatusActive {
		t.Fatalf("person %+v %v", got, err)
	}
	evs, _ := st.Events(ctx, store.EventFilter{Source: "hr-scim"})
	if len(evs) != 1 || evs[0].Type != store.EventJoiner || evs[0].ImportID != "push_u1" || evs[0].AppliedAt.IsZero() {
		t.Fatalf("events %+v", evs)
	}
	imp, err := st.Import(ctx, "push_u1")
	if err != nil || imp.Status != store.ImportApplied || imp.Joiners != 1 {
		t.Fatalf("import %+v %v", imp, err)
	}
	// Pushes naming the same import are counted into it: one row.
	p9 := person("E9", "Eng", "")
	p9.Source = "hr-scim"
	imp9 := pushImport("push_u1")
	imp9.Joiners, imp9.CreatedAt = 1, t0.Add(time.Minute)
	if _, err := hr.ApplyPersonChange(ctx, st, store.PersonChange{Import: imp9, Person: &p9,
		Events: []store.Event{{Source: "hr-scim", EmployeeID: "E9", Type: store.EventJoiner, State: store.EventApplied, Effective: t0, After: &p9, CreatedAt: t0}},
		Writes: []store.SCIMWrite{{Resource: scimUser("u9", "user-u9", "E9")}}}); err != nil {
		t.Fatal(err)
	}
	imps, _ := st.Imports(ctx, "hr-scim", 100)
	if len(imps) != 1 || imps[0].ID != "push_u1" || imps[0].Joiners != 2 || imps[0].Rows != 2 || !imps[0].CreatedAt.Equal(t0) {
		t.Fatalf("pushes of one window: %+v", imps)
	}
	if evs, _ := st.Events(ctx, store.EventFilter{ImportID: "push_u1"}); len(evs) != 2 {
		t.Fatalf("events of the window: %+v", evs)
	}
	// Creating the same person again conflicts, and writes nothing.
	_, err = hr.ApplyPersonChange(ctx, st, store.PersonChange{Import: pushImport("push_again"), Person: &p,
		Writes: []store.SCIMWrite{{Resource: scimUser("u2", "other", "E1")}}})
	if !errors.Is(err, store.ErrConflict) {
		t.Fatalf("second create: %v", err)
	}
	if _, err := st.SCIMResource(ctx, store.SCIMUser, "u2"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a failed change wrote its resource: %v", err)
	}
	// Another resource for the same employee is not unique.
	q := person("E2", "Eng", "")
	q.Source = "hr-scim"
	_, err = hr.ApplyPersonChange(ctx, st, store.PersonChange{Import: pushImport("push_dup"), Person: &q,
		Writes: []store.SCIMWrite{{Resource: scimUser("u3", "third", "E1")}}})
	if !errors.Is(err, store.ErrUniqueness) {
		t.Fatalf("same employee twice: %v", err)
	}
	if _, err := st.Person(ctx, "hr-scim", "E2"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a failed change wrote its person: %v", err)
	}
	// A stale expectation conflicts.
	stale := p
	stale.UpdatedAt = t0.Add(-time.Hour)
	moved := p
	moved.Department = "Sales"
	_, err = hr.ApplyPersonChange(ctx, st, store.PersonChange{Import: pushImport("push_stale"), Person: &moved, Expect: &stale})
	if !errors.Is(err, store.ErrConflict) {
		t.Fatalf("stale expectation: %v", err)
	}
	if b := verify(t, st); b != nil {
		t.Fatalf("chain: %v", b)
	}
}

func testPersonChangeBurstSafeguard(t *testing.T, b Backend) {
	ctx := context.Background()
	st := b.Open(t)
	var ps []store.Person
	for i := range 4 {
		ps = append(ps, pushJoiner(t, st, fmt.Sprint("u", i), fmt.Sprint("E", i)))
	}
	// Two per hour: the first two apply, the next two are held together.
	for i := range 4 {
		res, err := pushLeaver(st, fmt.Sprint("u", i), ps[i], 2)
		if err != nil {
			t.Fatal(err)
		}
		if res.Held != (i >= 2) {
			t.Fatalf("leaver %d: held=%v (%s)", i, res.Held, res.Reason)
		}
	}
	p3, _ := st.Person(ctx, "hr-scim", "E3")
	p1, _ := st.Person(ctx, "hr-scim", "E1")
	if p3.Status != store.StatusActive || p1.Status != store.StatusLeft {
		t.Fatalf("E1 %s, E3 %s", p1.Status, p3.Status)
	}
	// The resource doc is written even when the leaver is held.
	if x, _ := st.SCIMResource(ctx, store.SCIMUser, "u3"); string(x.Doc) != `{"active":false}` {
		t.Fatalf("doc of held deactivation %s", x.Doc)
	}
	imps, _ := st.Imports(ctx, "hr-scim", 100)
	var held []store.Import
	for _, i := range imps {
		if i.Status == store.ImportHeld {
			held = append(held, i)
		}
	}
	if len(held) != 1 || held[0].Leavers != 2 {
		t.Fatalf("held imports %+v", held)
	}
	imp, err := decide(ctx, st, held[0].ID, true, "hr-lead", t0.Add(time.Minute), nil)
	if err != nil || imp.Status != store.ImportApplied {
		t.Fatalf("approve: %+v %v", imp, err)
	}
	for _, id := range []string{"E2", "E3"} {
		if p, _ := st.Person(ctx, "hr-scim", id); p.Status != store.StatusLeft {
			t.Fatalf("after approval %s is %s", id, p.Status)
		}
	}
	evs, _ := st.Events(ctx, store.EventFilter{ImportID: held[0].ID})
	if len(evs) != 2 || evs[0].State != store.EventApplied {
		t.Fatalf("approved events %+v", evs)
	}
	if b := verify(t, st); b != nil {
		t.Fatalf("chain: %v", b)
	}
}

func testPersonChangeConcurrentOneWins(t *testing.T, b Backend) {
	ctx := context.Background()
	st := b.Open(t)
	p := pushJoiner(t, st, "u1", "E1")
	x, _ := st.SCIMResource(ctx, store.SCIMUser, "u1")
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			moved := p
			moved.Department = fmt.Sprint("D", i)
			moved.UpdatedAt = t0.Add(time.Minute)
			_, errs[i] = hr.ApplyPersonChange(ctx, st, store.PersonChange{Import: pushImport(fmt.Sprint("push_c", i)), Person: &moved, Expect: &p,
				Writes: []store.SCIMWrite{{Resource: x}}})
		}()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case errors.Is(err, store.ErrVersion), errors.Is(err, store.ErrConflict):
		default:
			t.Fatalf("unexpected error %v", err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d concurrent changes won, want 1", ok)
	}
}
