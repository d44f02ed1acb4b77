package api_test

import (
	"context"
	"strings"
	"testing"

	"github.com/tango-iga/tango/internal/store"
)

// IT retries a failed operation and releases a quarantined app; a second
// time each is a 409 naming why, an unknown operation or app a 404, and
// each change is audited with the caller.
func TestRetryAndReleaseAnswers(t *testing.T) {
	f := newPermFixture(t, "I1")
	id := f.ids["POST /api/v1/operations/{id}/retry"]
	for _, c := range []struct {
		path, want string
		status     int
	}{
		{"/api/v1/operations/" + id + "/retry", `"state": "pending"`, 200},
		{"/api/v1/operations/" + id + "/retry", "is pending: only a failed or retrying operation can be retried", 409},
		{"/api/v1/operations/9999/retry", "operation 9999: not found", 404},
		{"/api/v1/operations/x/retry", `operation id \"x\": want a number`, 400},
		{"/api/v1/apps/erp/release", `"app": "erp"`, 200},
		{"/api/v1/apps/erp/release", `app \"erp\" is not quarantined`, 409},
		{"/api/v1/apps/nowhere/release", `app \"nowhere\" is not in the config`, 404},
	} {
		status, body := f.call("POST", c.path, f.token, "")
		if status != c.status || !strings.Contains(body, c.want) {
			t.Errorf("POST %s: %d %s, want %d with %s", c.path, status, body, c.status, c.want)
		}
	}
	for _, action := range []string{"provision.retry", "provision.release"} {
		es, err := f.st.AuditQuery(context.Background(), store.AuditFilter{Action: action})
		if err != nil || len(es) != 1 || !strings.HasPrefix(es[0].Actor, "person:I1") {
			t.Errorf("%s entries %+v %v: want one by person:I1", action, es, err)
		}
	}
}
