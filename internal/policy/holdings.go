package policy

import (
	"context"
	"slices"
	"time"

	"github.com/tango-iga/tango/internal/store"
)

// HoldingsReader is what Holdings reads: a person's grant rows, their
// approved requests and their manager.
type HoldingsReader interface {
	PersonGrants(ctx context.Context, source, employeeID string) ([]store.GrantRow, error)
	Requests(ctx context.Context, f store.RequestFilter) ([]store.Request, error)
	Person(ctx context.Context, source, id string) (store.Person, error)
}

// Holdings is what a person holds (their active grant rows) and should
// hold at now (their roles and approved requests, but the request skip):
// what a separation-of-duties check weighs a new grant against.
func (pol *Policy) Holdings(ctx context.Context, r HoldingsReader, p store.Person, skip int64, now time.Time) ([]Grant, error) {
	var held []Grant
	rows, err := r.PersonGrants(ctx, p.Source, p.EmployeeID)
	if err != nil {
		return nil, err
	}
	for _, g := range rows {
		if g.State == "active" {
			held = append(held, Grant{App: g.App, Entitlement: g.Entitlement})
		}
	}
	approved, err := r.Requests(ctx, store.RequestFilter{Source: p.Source, Beneficiary: p.EmployeeID, State: store.RequestApproved})
	if err != nil {
		return nil, err
	}
	approved = slices.DeleteFunc(approved, func(q store.Request) bool { return skip != 0 && q.ID == skip })
	var mgr *store.Person
	if p.ManagerID != "" {
		if m, err := r.Person(ctx, p.Source, p.ManagerID); err == nil {
			mgr = &m
		}
	}
	want, _, err := pol.Desired(Input{Person: FirstDay(&p), Manager: mgr, Requests: FromRequests(approved)}, now)
	if err != nil {
		return nil, err
	}
	for _, w := range want {
		if !slices.Contains(held, w.Grant) {
			held = append(held, w.Grant)
		}
	}
	return held, nil
}
