package api_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/tango-iga/tango/internal/api"
	"github.com/tango-iga/tango/internal/audit"
	"github.com/tango-iga/tango/internal/auth"
	"github.com/tango-iga/tango/internal/store"
)

type auditPage struct {
	Items []audit.Entry `json:"items"`
	Next  string        `json:"next"`
}

// Every read of a person's data through /api/v1 is in the audit trail as
// person.read: who read (the caller) and whose data (the subject), and
// GET /api/v1/audit?subject= finds it.
func TestPersonReadsAreAudited(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	f.seed()
	ctx := context.Background()
	// E002 manages E003 and E005.
	mgr, _, err := auth.CreateFor(ctx, f.st, "e002", "api", "E002", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if r := f.get("/api/v1/persons/E003", mgr); r.status != 200 {
		t.Fatalf("the manager reads a report: %d %s", r.status, r.body)
	}
	f.srv.Flush()
	var p auditPage
	f.getJSON("/api/v1/audit?subject=E003&action=person.read", f.token, 200, &p)
	if len(p.Items) != 1 || p.Items[0].Actor != "person:E002 via token:e002" || p.Items[0].Subject != "E003" {
		t.Fatalf("reads of E003: %+v", p.Items)
	}
	// A list: one entry per person read.
	if r := f.get("/api/v1/persons?department=Eng", f.token); r.status != 200 {
		t.Fatalf("list: %d %s", r.status, r.body)
	}
	if r := f.get("/api/v1/events?person=E004", f.token); r.status != 200 {
		t.Fatalf("events: %d %s", r.status, r.body)
	}
	f.srv.Flush()
	f.getJSON("/api/v1/audit?actor=token:reader&action=person.read&limit=100", f.token, 200, &p)
	var got []string
	for _, e := range p.Items {
		got = append(got, e.Subject)
	}
	sort.Strings(got)
	if want := []string{"E002", "E003", "E004", "E005"}; !slices.Equal(got, want) {
		t.Fatalf("subjects read by the service token: %v, want %v", got, want)
	}
	// Reading one's own data is not recorded as someone reading it.
	self, _, err := auth.CreateFor(ctx, f.st, "e003", "api", "E003", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if r := f.get("/api/v1/persons/E003", self); r.status != 200 {
		t.Fatalf("a person reads themself: %d %s", r.status, r.body)
	}
	f.srv.Flush()
	f.getJSON("/api/v1/audit?subject=E003&action=person.read", f.token, 200, &p)
	if len(p.Items) != 2 {
		t.Fatalf("reads of E003 after their own: %+v", p.Items)
	}
}

// failingAudit is a store whose audit trail cannot be written.
type failingAudit struct{ store.Store }

func (failingAudit) AppendAudit(context.Context, ...audit.Entry) error {
	return errors.New("audit disk full")
}

// A read whose audit entry cannot be written is still answered; the
// failure is logged.
func TestPersonReadAnsweredWhenItsAuditFails(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	f.seed()
	logs := &syncBuffer{}
	srv := api.New(api.Options{Store: failingAudit{f.st}, Config: f.cfg, Now: time.Now, Logger: slog.New(slog.NewTextHandler(logs, nil))})
	req := httptest.NewRequest("GET", "/api/v1/persons/E003", nil)
	req.Header.Set("Authorization", "Bearer "+f.token)
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "E003") {
		t.Fatalf("read with a failing audit trail: %d %s", rec.Code, rec.Body)
	}
	srv.Flush()
	if !strings.Contains(logs.String(), "audit disk full") {
		t.Fatalf("the failed audit write is not logged: %s", logs)
	}
}
