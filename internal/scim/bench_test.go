package scim

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"path/filepath"

	"github.com/tango-iga/tango/internal/auth"
	"github.com/tango-iga/tango/internal/config"
	"github.com/tango-iga/tango/internal/store"
	"github.com/tango-iga/tango/internal/store/sqlite"
	"github.com/tango-iga/tango/internal/store/sqlstore"
)

// benchRequests runs requests made by mk from 16 parallel clients against
// a handler over loopback HTTP and reports requests per second and p99.
func benchRequests(b *testing.B, h http.Handler, tok string, want int, mk func(base string, i int) *http.Request) {
	srv := httptest.NewServer(h)
	defer srv.Close()
	benchURL(b, srv.URL+Prefix, tok, want, 0, mk)
}

// benchURL runs requests made by mk from 16 parallel clients against the
// SCIM base URL and reports requests per second and p99. With a budget,
// no request starts after it (those in flight finish): for a server too
// slow to answer b.N requests in a benchmark run; ns/op is then the
// time per request answered.
func benchURL(b *testing.B, base, tok string, want int, budget time.Duration, mk func(base string, i int) *http.Request) {
	tr := &http.Transport{MaxIdleConnsPerHost: 64}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	var mu sync.Mutex
	var lat []time.Duration
	var seq atomic.Int64
	b.ResetTimer()
	start := time.Now()
	b.SetParallelism(16)
	b.RunParallel(func(pb *testing.PB) {
		var mine []time.Duration
		for pb.Next() {
			if budget > 0 && time.Since(start) > budget {
				continue
			}
			req := mk(base, int(seq.Add(1)))
			req.Header.Set("Authorization", "Bearer "+tok)
			t0 := time.Now()
			resp, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			// RFC 7644 3.5.2: a PATCH answers 200 with the resource, or 204.
			noContent := req.Method == http.MethodPatch && want == http.StatusOK && resp.StatusCode == http.StatusNoContent
			if resp.StatusCode != want && !noContent {
				b.Errorf("%s %s: status %d, want %d", req.Method, req.URL.Path, resp.StatusCode, want)
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
		b.ReportMetric(float64(el.Nanoseconds())/float64(len(lat)), "ns/op")
		b.ReportMetric(float64(len(lat)), "requests")
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	}
}

const benchUsers = 100000

// BenchmarkFilteredGet serves GET /Users?filter=userName eq "…" with
// 100,000 users in the embedded store.
func BenchmarkFilteredGet(b *testing.B) {
	st := benchStore(b, benchUsers)
	h := New(Options{Store: st, Config: mustCfg(b), Logger: slog.New(slog.DiscardHandler), Now: time.Now})
	defer h.Flush()
	benchRequests(b, h, benchToken(b, st), 200, func(base string, i int) *http.Request {
		u := fmt.Sprintf("%s/Users?filter=userName+eq+%%22user%06d@bench.example%%22", base, (i*7919)%benchUsers)
		req, _ := http.NewRequest("GET", u, nil)
		return req
	})
}

// BenchmarkListPage serves pages of 100 users (startIndex/count) out of
// 100,000.
func BenchmarkListPage(b *testing.B) {
	st := benchStore(b, benchUsers)
	h := New(Options{Store: st, Config: mustCfg(b), Logger: slog.New(slog.DiscardHandler), Now: time.Now})
	defer h.Flush()
	benchRequests(b, h, benchToken(b, st), 200, func(base string, i int) *http.Request {
		req, _ := http.NewRequest("GET", fmt.Sprintf("%s/Users?startIndex=%d&count=100", base, 1+(i*101)%(benchUsers-100)), nil)
		return req
	})
}

// BenchmarkPost creates users (each a joiner through the lifecycle
// pipeline) with 100,000 stored.
func BenchmarkPost(b *testing.B) {
	st := benchStore(b, benchUsers)
	h := New(Options{Store: st, Config: mustCfg(b), Logger: slog.New(slog.DiscardHandler), Now: time.Now})
	defer h.Flush()
	benchRequests(b, h, benchToken(b, st), 201, func(base string, i int) *http.Request {
		body := fmt.Sprintf(`{"schemas":[%q,%q],"userName":"new%07d@bench.example","externalId":"N%07d","displayName":"New %d","active":true,%q:{"employeeNumber":"N%07d","department":"D1"}}`,
			URNUser, URNEnterprise, i, i, i, URNEnterprise, i)
		req, _ := http.NewRequest("POST", base+"/Users", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/scim+json")
		return req
	})
}

// BenchmarkPatch changes a user's department (a mover through the
// lifecycle pipeline) with 100,000 stored.
func BenchmarkPatch(b *testing.B) {
	st := benchStore(b, benchUsers)
	h := New(Options{Store: st, Config: mustCfg(b), Logger: slog.New(slog.DiscardHandler), Now: time.Now})
	defer h.Flush()
	benchRequests(b, h, benchToken(b, st), 200, func(base string, i int) *http.Request {
		body := fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"%s:department","value":"D%d"}]}`, URNEnterprise, 100+i)
		req, _ := http.NewRequest("PATCH", fmt.Sprintf("%s/Users/id-%06d", base, (i*7919)%benchUsers), strings.NewReader(body))
		req.Header.Set("Content-Type", "application/scim+json")
		return req
	})
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
	ins, _ := tx.PrepareContext(ctx, `INSERT INTO scim_resources (id, type, source, employee_id, name_key, external_id, version, created_at, updated_at, doc, seq) VALUES (?,?,?,?,?,?,?,?,?,?,?)`)
	insP, _ := tx.PrepareContext(ctx, `INSERT INTO persons (source, employee_id, display_name, email, department, status, period, updated_at) VALUES (?,?,?,?,?,?,?,?)`)
	now := time.Now().UnixMicro()
	for i := range n {
		un := fmt.Sprintf("user%06d@bench.example", i)
		emp := fmt.Sprintf("E%06d", i)
		doc := fmt.Sprintf(`{"schemas":[%q,%q],"userName":%q,"externalId":%q,"displayName":"User %d","active":true,"name":{"givenName":"U","familyName":"%d"},"emails":[{"value":%q,"type":"work","primary":true}],%q:{"employeeNumber":%q,"department":"D%d"}}`,
			URNUser, URNEnterprise, un, emp, i, i, un, URNEnterprise, emp, i%50)
		if _, err := ins.ExecContext(ctx, fmt.Sprintf("id-%06d", i), "User", "workday", emp, un, emp, 1, now, now, doc, i+1); err != nil {
			b.Fatal(err)
		}
		if _, err := insP.ExecContext(ctx, "workday", emp, fmt.Sprint("User ", i), un, fmt.Sprint("D", i%50), "active", 1, now); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO scim_counters (type, next_seq, gaps) VALUES ('User', ?, 0)`, n+1); err != nil {
		b.Fatal(err)
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
