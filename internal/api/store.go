package api

import (
	"context"
	"time"

	"github.com/tango-iga/tango/internal/audit"
	"github.com/tango-iga/tango/internal/auth"
	"github.com/tango-iga/tango/internal/hr"
	"github.com/tango-iga/tango/internal/request"
	"github.com/tango-iga/tango/internal/review"
	"github.com/tango-iga/tango/internal/scim"
	"github.com/tango-iga/tango/internal/store"
	"github.com/tango-iga/tango/internal/workflow"
)

// Store is what the HTTP API needs of the store: what its handlers read
// and what they hand on to imports, access requests, the workflow,
// provisioning, tokens and SCIM. The SQL store (sqlstore.DB) satisfies it.
type Store interface {
	hr.Store
	request.Store
	workflow.Store
	auth.Store
	scim.Store
	review.Store
	AppStates(ctx context.Context) ([]store.AppState, error)
	// AuditQuery returns the entries f selects, in order, at most f.Limit.
	AuditQuery(ctx context.Context, f store.AuditFilter) ([]audit.Entry, error)
	// AuditEntries returns entries with Seq > after, in order, at most
	// limit; AuditHead the recorded last entry (the web page verifies the
	// chain).
	AuditEntries(ctx context.Context, after int64, limit int) ([]audit.Entry, error)
	AuditHead(ctx context.Context) (int64, string, error)
	Cases(ctx context.Context, f store.CaseFilter) ([]store.Case, error)
	Events(ctx context.Context, f store.EventFilter) ([]store.Event, error)
	Findings(ctx context.Context, kind, app, status string) ([]store.Finding, error)
	FindingsAbout(ctx context.Context, subject, status string) ([]store.Finding, error)
	ImportsBy(ctx context.Context, f store.ImportFilter) ([]store.Import, error)
	// OpCounts counts operations by app and state.
	OpCounts(ctx context.Context) (map[string]map[string]int, error)
	// FindingCounts counts findings of a status by app (the /apps page).
	FindingCounts(ctx context.Context, status string) (map[string]int, error)
	Persons(ctx context.Context, f store.PersonFilter) ([]store.Person, error)
	// ApprovalClocks returns the access requests approved (their last
	// approval) at or after since, whether expired since or not, oldest
	// decision first.
	ApprovalClocks(ctx context.Context, since time.Time) ([]store.ApprovalClock, error)
	Counts(ctx context.Context) (store.Counts, error)
	// LifecycleClocks returns the clock of every applied leaver, joiner and
	// rehire event whose clock started at or after since and that has
	// account operations, oldest first.
	LifecycleClocks(ctx context.Context, since time.Time) ([]store.Clock, error)
	// NotificationCounts counts notifications by channel and state.
	NotificationCounts(ctx context.Context) (map[string]map[string]int, error)
	Ping(ctx context.Context) error
	// store.RequestLoad counts pending access requests at now.
	RequestLoad(ctx context.Context, now time.Time) (store.RequestLoad, error)
	// TaskLoad counts open tasks by team at now, by team name.
	TaskLoad(ctx context.Context, now time.Time) ([]store.TeamTasks, error)
	Imports(ctx context.Context, source string, limit int) ([]store.Import, error)
}
