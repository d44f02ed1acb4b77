package scim

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"sync"
	"testing"
	"time"

	"path/filepath"

	"github.com/tango-iga/tango/internal/auth"
	"github.com/tango-iga/tango/internal/config"
	"github.com/tango-iga/tango/internal/store"
	"github.com/tango-iga/tango/internal/store/sqlite"
	"github.com/tango-iga/tango/internal/store/sqlstore"
)

// BenchmarkFilteredGet serves GET /Users?filter=userName eq "…" over
// loopback HTTP with 100,000 users in the embedded store, from parallel
// clients, and reports requests per second and the p99 latency.
func BenchmarkFilteredGet(b *testing.B) {
	const users = 100000
	st := benchStore(b, users)
	h := New(Options{Store: st, Config: mustCfg(b)})
	tok := benchToken(b, st)
	srv := httptest.NewServer(h)
	defer srv.Close()
	defer h.Flush()
	tr := &http.Transport{MaxIdleConnsPerHost: 64}
	client := &http.Client{Transport: tr}
	var mu sync.Mutex
	var lat []time.Duration
	b.ResetTimer()
	start := time.Now()
	b.SetParallelism(16)
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		var mine []time.Duration
		for pb.Next() {
			i++
			u := fmt.Sprintf("%s%s/Users?filter=userName+eq+%%22user%06d@bench.example%%22", srv.URL, Prefix, (i*7919)%users)
			req, _ := http.NewRequest("GET", u, nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			t0 := time.Now()
			resp, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			buf := make([]byte, 4096)
			for {
				if _, err := resp.Body.Read(buf); err != nil {
					break
				}
			}
			resp.Body.Close()
			if resp.StatusCode != 200 {
				b.Errorf("status %d", resp.StatusCode)
				return
			}
			mine = append(mine, time.Since(t0))
		}
		mu.Lock()
		lat = append(lat, mine...)
		mu.Unlock()
	})
	el := time.Since(start)
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	if len(lat) > 0 {
		b.ReportMetric(float64(len(lat))/el.Seconds(), "req/s")
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	}
}

func mustCfg(b *testing.B) *configT {
	cfg, err := parseCfg()
	if err != nil {
		b.Fatal(err)
	}
	return cfg
}

func benchToken(b *testing.B, st store.Store) string {
	tok, err := createToken(st)
	if err != nil {
		b.Fatal(err)
	}
	return tok
}

// benchStore loads n users (SCIM resources and persons) into a fresh
// SQLite store with bulk SQL, as a migration or a long-running feed would
// have left them.
func benchStore(b *testing.B, n int) store.Store {
	st := sqliteStoreB(b)
	db := st.(*sqlstore.DB).SQL()
	ctx := context.Background()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		b.Fatal(err)
	}
	ins, _ := tx.PrepareContext(ctx, `INSERT INTO scim_resources (id, type, source, employee_id, name_key, external_id, version, created_at, updated_at, doc) VALUES (?,?,?,?,?,?,?,?,?,?)`)
	insP, _ := tx.PrepareContext(ctx, `INSERT INTO persons (source, employee_id, display_name, email, department, status, period, updated_at) VALUES (?,?,?,?,?,?,?,?)`)
	now := time.Now().UnixMicro()
	for i := range n {
		un := fmt.Sprintf("user%06d@bench.example", i)
		emp := fmt.Sprintf("E%06d", i)
		doc := fmt.Sprintf(`{"schemas":[%q,%q],"userName":%q,"externalId":%q,"displayName":"User %d","active":true,"name":{"givenName":"U","familyName":"%d"},"emails":[{"value":%q,"type":"work","primary":true}],%q:{"employeeNumber":%q,"department":"D%d"}}`,
			URNUser, URNEnterprise, un, emp, i, i, un, URNEnterprise, emp, i%50)
		if _, err := ins.ExecContext(ctx, fmt.Sprintf("id-%06d", i), "User", "workday", emp, un, emp, 1, now, now, doc); err != nil {
			b.Fatal(err)
		}
		if _, err := insP.ExecContext(ctx, "workday", emp, fmt.Sprint("User ", i), un, fmt.Sprint("D", i%50), "active", 1, now); err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	return st
}

type configT = config.Config

func parseCfg() (*config.Config, error) { return config.Parse([]byte(testConfig), "tango.yaml") }

func createToken(st store.Store) (string, error) {
	tok, _, err := auth.Create(context.Background(), st, "bench", "scim", time.Now())
	return tok, err
}

func sqliteStoreB(b *testing.B) store.Store {
	st, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	return st
}
