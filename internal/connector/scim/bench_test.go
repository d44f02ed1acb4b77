package scim_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/tango-iga/tango/internal/connector/scim"
	"github.com/tango-iga/tango/internal/testenv"
)

// benchUsers is how many users the benchmarks store in the server.
const benchUsers = 1000

// seed stores benchUsers users (user000001 ...) in the server.
func seed(b *testing.B, s *testenv.SCIMServer, client *http.Client) {
	b.Helper()
	for n := 1; n <= benchUsers; n++ {
		a := newAccount(n)
		body, _ := json.Marshal(map[string]any{
			"schemas":                 []string{scim.UserSchema, scim.EnterpriseUserSchema},
			"userName":                a.Name,
			"externalId":              a.Key,
			"displayName":             a.Attributes["displayName"][0],
			"name":                    map[string]string{"givenName": "Test", "familyName": a.Attributes["name.familyName"][0]},
			"emails":                  []map[string]any{{"value": a.Attributes["emails"][0], "primary": true}},
			"title":                   "Engineer",
			scim.EnterpriseUserSchema: map[string]string{"employeeNumber": fmt.Sprint(n)},
		})
		req, _ := http.NewRequest(http.MethodPost, s.URL+"/Users", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+s.Token)
		req.Header.Set("Content-Type", "application/scim+json")
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			b.Fatalf("POST /Users %s: %s", a.Name, resp.Status)
		}
	}
}

// reportLatency reports requests per second and the 50th and 99th
// percentile latencies of the samples.
func reportLatency(b *testing.B, samples []time.Duration, total time.Duration) {
	b.Helper()
	if len(samples) == 0 {
		return
	}
	slices.Sort(samples)
	pct := func(p float64) time.Duration { return samples[int(p*float64(len(samples)-1))] }
	b.ReportMetric(float64(len(samples))/total.Seconds(), "req/s")
	b.ReportMetric(float64(pct(0.50).Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(pct(0.99).Microseconds())/1000, "p99-ms")
	b.Logf("%d sequential requests, %d users stored: %.0f req/s, p50 %v, p99 %v, max %v",
		len(samples), benchUsers, float64(len(samples))/total.Seconds(), pct(0.50), pct(0.99), samples[len(samples)-1])
}

// BenchmarkFilterUserName measures sequential GET
// /Users?filter=userName eq "…" against the scimmy test server holding
// 1000 users, over one keep-alive connection. Run with -benchtime=1000x
// for the reference figure (N=1000).
func BenchmarkFilterUserName(b *testing.B) {
	s := testenv.StartSCIMServer(b)
	client := &http.Client{Timeout: 10 * time.Second}
	seed(b, s, client)
	var samples []time.Duration
	i := 0
	start := time.Now()
	for b.Loop() {
		i++
		name := fmt.Sprintf("user%06d", i%benchUsers+1)
		q := url.Values{"filter": {`userName eq "` + name + `"`}}
		req, _ := http.NewRequest(http.MethodGet, s.URL+"/Users?"+q.Encode(), nil)
		req.Header.Set("Authorization", "Bearer "+s.Token)
		t0 := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		data, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		samples = append(samples, time.Since(t0))
		if err != nil || resp.StatusCode != http.StatusOK || !bytes.Contains(data, []byte(`"totalResults":1`)) {
			b.Fatalf("GET %s: %s %v: %s", q.Encode(), resp.Status, err, data)
		}
	}
	reportLatency(b, samples, time.Since(start))
}

// BenchmarkConnectorGet measures the connector's Get (a filter by
// externalId, then the user's groups) against the same server.
func BenchmarkConnectorGet(b *testing.B) {
	s := testenv.StartSCIMServer(b)
	seed(b, s, &http.Client{Timeout: 10 * time.Second})
	c, err := scim.FromConfig(scim.Config{BaseURL: s.URL, Token: s.Token})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	var samples []time.Duration
	i := 0
	start := time.Now()
	for b.Loop() {
		i++
		key := newAccount(i%benchUsers + 1).Key
		t0 := time.Now()
		a, err := c.Get(ctx, key)
		samples = append(samples, time.Since(t0))
		if err != nil || a.Key != key {
			b.Fatalf("Get(%s) = %+v, %v", key, a, err)
		}
	}
	reportLatency(b, samples, time.Since(start))
}
