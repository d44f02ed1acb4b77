package hr_test

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/tango-iga/tango/internal/audit"
	"github.com/tango-iga/tango/internal/config"
	"github.com/tango-iga/tango/internal/hr"
	"github.com/tango-iga/tango/internal/store"
	"github.com/tango-iga/tango/internal/store/postgres"
	"github.com/tango-iga/tango/internal/store/sqlite"
	"github.com/tango-iga/tango/internal/testenv"
)

// replay imports the 18 monthly CERT r5.2 snapshots in order and returns
// the per-month results (without IDs) and the movers' employee IDs.
func replay(t *testing.T, st store.Store) ([]hr.Result, []string) {
	t.Helper()
	ctx := context.Background()
	cfg := config.Default()
	src, _ := cfg.Source("hris")
	files, _ := filepath.Glob("../../testdata/cert-r5.2-ldap/*.csv")
	if len(files) != 18 {
		t.Fatalf("found %d CERT snapshots in testdata, want 18", len(files))
	}
	var out []hr.Result
	var movers []string
	for i, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		at := time.Date(2009, 12, 28, 12, 0, 0, 0, time.UTC).AddDate(0, i, 0)
		res, err := hr.ImportFile(ctx, st, cfg, src, filepath.Base(f), data, hr.Options{Actor: "test", Now: func() time.Time { return at }})
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if res.Status != store.ImportApplied {
			t.Fatalf("%s: %s %+v", f, res.Status, res.Errors)
		}
		for _, e := range res.Events {
			if e.Type == store.EventMover {
				movers = append(movers, e.EmployeeID)
			}
		}
		res.ImportID, res.Events = "", nil
		out = append(out, res)
	}
	// the whole trail verifies
	v := audit.NewVerifier()
	var after int64
	for {
		page, err := st.AuditEntries(ctx, after, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		if b := v.Next(page); b != nil {
			t.Fatalf("audit: %v", b)
		}
		after = page[len(page)-1].Seq
	}
	seq, hash, _ := st.AuditHead(ctx)
	if b := v.Finish(seq, hash); b != nil {
		t.Fatalf("audit: %v", b)
	}
	return out, movers
}

func checkCERT(t *testing.T, res []hr.Result, movers []string) {
	t.Helper()
	if res[0].Joiners != 2000 || res[0].Leavers != 0 {
		t.Fatalf("first month: %+v, want 2000 joiners", res[0])
	}
	var leavers, rehires, joiners int
	for _, r := range res[1:] {
		leavers += r.Leavers
		rehires += r.Rehires
		joiners += r.Joiners
	}
	if leavers != 238 || rehires != 0 || joiners != 0 {
		t.Fatalf("after the first month: %d leavers (want 238), %d rehires (want 0), %d joiners (want 0)", leavers, rehires, joiners)
	}
	if res[2].Leavers != 13 {
		t.Fatalf("2010-02: %d leavers, want 13", res[2].Leavers)
	}
	slices.Sort(movers)
	if !slices.Equal(movers, []string{"KSS1005", "VRP0267"}) {
		t.Fatalf("movers %v, want KSS1005 and VRP0267", movers)
	}
}

func TestCERTReplaySQLiteAndPostgres(t *testing.T) {
	ctx := context.Background()
	lite, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "cert.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer lite.Close()
	resLite, moversLite := replay(t, lite)
	checkCERT(t, resLite, moversLite)

	pg, err := postgres.Open(ctx, testenv.PostgresDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	resPG, moversPG := replay(t, pg)
	checkCERT(t, resPG, moversPG)
	if !reflect.DeepEqual(resLite, resPG) {
		t.Fatalf("SQLite and PostgreSQL disagree:\n%+v\n%+v", resLite, resPG)
	}
	a, _ := lite.Persons(ctx, store.PersonFilter{})
	b, _ := pg.Persons(ctx, store.PersonFilter{})
	if len(a) != 2000 || !reflect.DeepEqual(a, b) {
		t.Fatalf("stored persons differ between stores (%d vs %d)", len(a), len(b))
	}
	left, _ := pg.Persons(ctx, store.PersonFilter{Status: store.StatusLeft})
	if len(left) != 238 {
		t.Fatalf("%d persons left, want 238", len(left))
	}
}
