package api_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tango-iga/tango/internal/api"
	"github.com/tango-iga/tango/internal/store"
)

// A step past requests.approval_deadline (72h by default) is overdue in
// the lists, the scheduler escalates it to the approver's manager, who
// approves it through the API; approval times and pending/overdue counts
// come from the store, so another server on the same database reports
// the same.
func TestRequestClocksAPI(t *testing.T) {
	f := newReqFixture(t)
	ctx := context.Background()
	f.want("POST", "/api/v1/requests", "A1", `{"app":"erp","entitlement":"payments-create","justification":"close"}`, 201, `"due":`)
	f.want("GET", "/api/v1/requests?state=pending&overdue=true", "", "", 200, `"items":[]`)
	f.want("GET", "/api/v1/requests?overdue=maybe", "", "", 400, "overdue")
	f.mu.Lock()
	f.now = f.now.Add(73 * time.Hour)
	f.mu.Unlock()
	f.want("GET", "/api/v1/requests?state=pending&overdue=true", "S1", "", 200, `"id":1`)
	f.want("GET", "/api/v1/requests?escalated=true", "S1", "", 200, `"items":[]`)
	var m api.LifecycleMetrics
	if err := json.Unmarshal([]byte(f.want("GET", "/api/v1/metrics/lifecycle", "S1", "", 200, `"approvals"`)), &m); err != nil {
		t.Fatal(err)
	}
	if a := m.Approvals; a.Pending != 1 || a.Overdue != 1 || a.Escalated != 0 || a.Count != 0 || a.OldestPendingSeconds < 73*3600 {
		t.Fatalf("approvals before escalation: %+v", a)
	}
	f.want("POST", "/api/v1/requests/1/approve", "E0", "", 403, "waits for the manager approval of M1")
	if err := f.sched.RequestClocks(ctx); err != nil {
		t.Fatal(err)
	}
	f.want("GET", "/api/v1/requests?escalated=true", "S1", "", 200, `"escalated_to":"E0"`)
	f.want("GET", "/api/v1/requests?state=pending&approver=E0", "S1", "", 200, `"id":1`)
	f.want("POST", "/api/v1/requests/1/approve", "E0", "", 200, `"escalated":true`)
	f.mu.Lock()
	f.now = f.now.Add(time.Hour)
	f.mu.Unlock()
	f.want("POST", "/api/v1/requests/1/approve", "O1", "", 200, `"state":"approved"`)

	// Another process on the same database, which approved nothing itself.
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	other := httptest.NewServer(api.New(api.Options{Store: f.st, Config: nil, Logger: log, Now: f.clock}))
	defer other.Close()
	for _, url := range []string{f.url, other.URL} {
		body := get(t, url+"/metrics", f.tokens[""])
		for _, want := range []string{
			"tango_request_approval_seconds_count 1",
			"tango_request_approval_seconds_sum 266400", // 74h from the request to the owner's approval
			`tango_request_approval_seconds{quantile="0.5"} 266400`,
			`tango_requests_pending{state="pending"} 0`,
			`tango_requests_pending{state="overdue"} 0`,
		} {
			if !strings.Contains(body, want) {
				t.Errorf("%s/metrics lacks %q:\n%s", url, want, grep([]byte(body), "tango_request"))
			}
		}
	}
	if err := json.Unmarshal([]byte(f.want("GET", "/api/v1/metrics/lifecycle", "S1", "", 200, `"approvals"`)), &m); err != nil {
		t.Fatal(err)
	}
	if a := m.Approvals; a.Count != 1 || a.P50Seconds != 74*3600 || a.MaxSeconds != 74*3600 || a.Pending != 0 {
		t.Fatalf("approvals after the decision: %+v", a)
	}
	got, _ := f.st.Request(ctx, 1)
	if got.State != store.RequestApproved || !got.Approvals[0].Escalated || got.Approvals[0].By != "E0" || got.Approvals[0].InsteadOf != "M1" {
		t.Fatalf("request after the escalated approval: %+v", got)
	}
}

func get(t *testing.T, url, token string) string {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	return string(b)
}
