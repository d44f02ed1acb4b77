package scim

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tango-iga/tango/internal/testenv"
)

// BenchmarkVsSCIMMY runs the same load against Tango's /scim/v2 (embedded
// SQLite store) and the independent SCIM server of the provisioning tests
// (testdata/scim-server: scimmy and scimmy-routers under express, in
// memory), in the same run, both holding the same users (100,000, or
// $TANGO_BENCH_SCIM_USERS): a filtered GET by userName, a list page of 100
// deep in the list, a POST of a new user and a PATCH of a department. 16 clients in this process
// over loopback; both servers share the machine with the load generator.
// Sub-benchmarks alternate between the two servers, operation by operation.
func BenchmarkVsSCIMMY(b *testing.B) {
	n := benchUsers
	if s := os.Getenv("TANGO_BENCH_SCIM_USERS"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 200 {
			b.Fatalf("TANGO_BENCH_SCIM_USERS=%q: want a number of at least 200", s)
		}
		n = v
	}
	st := benchStore(b, n)
	h := New(Options{Store: st, Config: mustCfg(b), Logger: slog.New(slog.DiscardHandler), Now: time.Now})
	defer h.Flush()
	srv := httptest.NewServer(h)
	defer srv.Close()
	other := testenv.StartSCIMServerWith(b, testenv.SCIMServerOptions{MaxPageSize: 100, Data: scimmyUsers(n)})
	// The independent server answers list pages in time linear in the
	// users it holds (about 0.9 s a page with 2,000): it gets a time
	// budget ($TANGO_BENCH_SCIMMY_SECONDS, default 60) instead of b.N.
	budget := 60 * time.Second
	if s := os.Getenv("TANGO_BENCH_SCIMMY_SECONDS"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v <= 0 {
			b.Fatalf("TANGO_BENCH_SCIMMY_SECONDS=%q: want a positive number", s)
		}
		budget = time.Duration(v) * time.Second
	}
	targets := []struct {
		name, base, tok string
		budget          time.Duration
	}{
		{"tango", srv.URL + Prefix, benchToken(b, st), 0},
		{"scimmy", other.URL, other.Token, budget},
	}
	var posted atomic.Int64
	ops := []struct {
		name string
		want int
		mk   func(base string, i int) *http.Request
	}{
		{"FilteredGet", 200, func(base string, i int) *http.Request {
			u := fmt.Sprintf("%s/Users?filter=userName+eq+%%22user%06d@bench.example%%22", base, (i*7919)%n)
			req, _ := http.NewRequest("GET", u, nil)
			return req
		}},
		{"ListPage", 200, func(base string, i int) *http.Request {
			req, _ := http.NewRequest("GET", fmt.Sprintf("%s/Users?startIndex=%d&count=100", base, 1+(i*101)%(n-100)), nil)
			return req
		}},
		{"Post", 201, func(base string, _ int) *http.Request {
			k := posted.Add(1)
			body := fmt.Sprintf(`{"schemas":[%q,%q],"userName":"cmp%07d@bench.example","externalId":"C%07d","displayName":"New %d","active":true,%q:{"employeeNumber":"C%07d","department":"D1"}}`,
				URNUser, URNEnterprise, k, k, k, URNEnterprise, k)
			req, _ := http.NewRequest("POST", base+"/Users", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/scim+json")
			return req
		}},
		{"Patch", 200, func(base string, i int) *http.Request {
			body := fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"%s:department","value":"D%d"}]}`, URNEnterprise, 100+i)
			req, _ := http.NewRequest("PATCH", fmt.Sprintf("%s/Users/id-%06d", base, (i*7919)%n), strings.NewReader(body))
			req.Header.Set("Content-Type", "application/scim+json")
			return req
		}},
	}
	// $TANGO_BENCH_SCIMMY_OPS (comma-separated operation names) limits
	// what the independent server is given: with 100,000 users one of its
	// list pages takes about 40 s, and 16 clients' first pages 11 minutes.
	only := map[string]bool{}
	if s := os.Getenv("TANGO_BENCH_SCIMMY_OPS"); s != "" {
		for _, o := range strings.Split(s, ",") {
			only[strings.TrimSpace(o)] = true
		}
	}
	for _, op := range ops {
		for _, tg := range targets {
			if tg.name == "scimmy" && len(only) > 0 && !only[op.name] {
				continue
			}
			b.Run(op.name+"/"+tg.name, func(b *testing.B) { benchURL(b, tg.base, tg.tok, op.want, tg.budget, op.mk) })
		}
	}
}

// scimmyUsers is the test server's data file with the users benchStore
// stores: the same ids, userNames and attributes.
func scimmyUsers(n int) []byte {
	ts := time.Now().UTC().Format(time.RFC3339Nano)
	var sb strings.Builder
	sb.Grow(n * 520)
	sb.WriteString(`{"groups":[],"users":[`)
	for i := range n {
		if i > 0 {
			sb.WriteByte(',')
		}
		un := fmt.Sprintf("user%06d@bench.example", i)
		emp := fmt.Sprintf("E%06d", i)
		fmt.Fprintf(&sb, `{"schemas":[%q,%q],"id":"id-%06d","userName":%q,"externalId":%q,"displayName":"User %d","active":true,"name":{"givenName":"U","familyName":"%d"},"emails":[{"value":%q,"type":"work","primary":true}],%q:{"employeeNumber":%q,"department":"D%d"},"meta":{"resourceType":"User","created":%q,"lastModified":%q}}`,
			URNUser, URNEnterprise, i, un, emp, i, i, un, URNEnterprise, emp, i%50, ts, ts)
	}
	sb.WriteString(`]}`)
	return []byte(sb.String())
}
