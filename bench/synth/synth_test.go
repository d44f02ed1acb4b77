package synth_test

import (
	"bytes"
	"context"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/tango-iga/tango/bench/synth"
	"github.com/tango-iga/tango/internal/config"
	"github.com/tango-iga/tango/internal/hr"
	"github.com/tango-iga/tango/internal/store"
	"github.com/tango-iga/tango/internal/store/sqlite"
)

func TestGenerateShape(t *testing.T) {
	for _, n := range []int{1, 7, 60, 500, 5000} {
		o := synth.Generate(n, 1)
		if len(o.Persons) != n {
			t.Fatalf("n=%d: got %d persons", n, len(o.Persons))
		}
		checkTree(t, o, n)
	}
	if !bytes.Equal(synth.Generate(3000, 7).CSV(), synth.Generate(3000, 7).CSV()) {
		t.Fatal("same seed, different output")
	}
	if bytes.Equal(synth.Generate(3000, 7).CSV(), synth.Generate(3000, 8).CSV()) {
		t.Fatal("different seeds, same output")
	}
}

// checkTree: unique IDs and names, one root, supervisors exist, no cycles,
// depth within 6..8 for orgs large enough to have teams.
func checkTree(t *testing.T, o *synth.Org, n int) {
	t.Helper()
	byName := map[string]*synth.Person{}
	ids := map[string]bool{}
	roots := 0
	for i := range o.Persons {
		p := &o.Persons[i]
		if ids[p.UserID] {
			t.Fatalf("duplicate user ID %s", p.UserID)
		}
		ids[p.UserID] = true
		if byName[p.Name] != nil {
			t.Fatalf("duplicate name %s", p.Name)
		}
		byName[p.Name] = p
		if p.Supervisor == "" {
			roots++
		}
	}
	if roots != 1 {
		t.Fatalf("n=%d: %d persons without supervisor, want 1", n, roots)
	}
	deepest := 0
	for i := range o.Persons {
		d := 0
		for p := &o.Persons[i]; p.Supervisor != ""; d++ {
			q := byName[p.Supervisor]
			if q == nil {
				t.Fatalf("%s: supervisor %q not in the snapshot", p.UserID, p.Supervisor)
			}
			if d > 20 {
				t.Fatalf("%s: manager chain too long (cycle?)", o.Persons[i].UserID)
			}
			p = q
		}
		deepest = max(deepest, d)
	}
	if n >= 5000 && (deepest < 5 || deepest > 8) {
		t.Fatalf("n=%d: deepest chain has %d levels below the CEO, want 5..8", n, deepest)
	}
}

func TestImport(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "tango.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cfg := config.Default()
	src, _ := cfg.Source("hris")
	at := time.Date(2025, 1, 31, 12, 0, 0, 0, time.UTC)
	imp := func(name string, data []byte) hr.Result {
		t.Helper()
		res, err := hr.ImportFile(ctx, st, cfg, src, name, data, hr.Options{Actor: "test", Now: func() time.Time { return at }})
		if err != nil {
			t.Fatal(err)
		}
		if res.Status != store.ImportApplied {
			t.Fatalf("%s: status %s: %v", name, res.Status, res.Errors)
		}
		at = at.AddDate(0, 1, 0)
		return res
	}

	o := synth.Generate(5000, 42)
	res := imp("m0.csv", o.CSV())
	if res.Rows != 5000 || res.Joiners != 5000 || res.Movers+res.Leavers+res.Changes+res.Rehires != 0 {
		t.Fatalf("first load: %+v", res)
	}
	for m := 1; m <= 3; m++ {
		n := len(o.Persons)
		next, d := synth.Next(o, 0.01, 0.02, 0.01)
		res := imp("m.csv", next.CSV())
		wantL, wantM, wantJ := len(d.Leavers), len(d.Movers), len(d.Joiners)
		if wantL != round(0.01*float64(n)) || wantM != round(0.02*float64(n)) || wantJ != round(0.01*float64(n)) {
			t.Fatalf("month %d: delta has %d/%d/%d leavers/movers/joiners for %d persons", m, wantL, wantM, wantJ, n)
		}
		if res.Leavers != wantL || res.Movers != wantM || res.Joiners != wantJ || res.Changes != 0 || res.Rehires != 0 ||
			res.Unchanged != n-wantL-wantM || res.Rows != len(next.Persons) {
			t.Fatalf("month %d: imported %+v, want %d leavers, %d movers, %d joiners", m, res, wantL, wantM, wantJ)
		}
		// the events name exactly the persons Next changed
		got := map[string][]string{}
		for _, e := range res.Events {
			got[e.Type] = append(got[e.Type], e.EmployeeID)
		}
		for typ, want := range map[string][]string{store.EventLeaver: d.Leavers, store.EventMover: d.Movers, store.EventJoiner: d.Joiners} {
			g := got[typ]
			sort.Strings(g)
			w := append([]string(nil), want...)
			sort.Strings(w)
			if len(g) != len(w) {
				t.Fatalf("month %d: %d %s events, want %d", m, len(g), typ, len(w))
			}
			for i := range g {
				if g[i] != w[i] {
					t.Fatalf("month %d: %s events for %v, want %v", m, typ, g, w)
				}
			}
		}
		checkTree(t, next, len(next.Persons))
		o = next
	}
	// Next does not modify its input and is deterministic.
	a, _ := synth.Next(o, 0.01, 0.02, 0.01)
	b, _ := synth.Next(o, 0.01, 0.02, 0.01)
	if !bytes.Equal(a.CSV(), b.CSV()) {
		t.Fatal("Next is not deterministic")
	}
}

func round(x float64) int { return int(x + 0.5) }
