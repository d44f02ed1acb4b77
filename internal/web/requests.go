package web

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/tango-iga/tango/internal/config"
	"github.com/tango-iga/tango/internal/request"
	"github.com/tango-iga/tango/internal/store"
)

type requestsData struct {
	Mine      []store.Request
	Approvals []requestRow
	Pager     pager
}

// service is the access-request service, or a 503 page when the policy
// does not compile.
func (pg *Pages) service(w http.ResponseWriter) (*request.Service, bool) {
	if pg.o.Requests == nil {
		ErrorPage(w, http.StatusServiceUnavailable, "access requests are unavailable: the config's policy does not compile (see the server log)")
		return nil, false
	}
	return pg.o.Requests, true
}

// requests shows the approvals waiting for the caller, each with approve
// and reject (and a comment), and the newest of the requests they asked
// for or are the beneficiary of, a page at a time (?page=).
func (pg *Pages) requests(w http.ResponseWriter, r *http.Request) {
	svc, ok := pg.service(w)
	if !ok {
		return
	}
	c, ok := pg.caller(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	me := c.Person.EmployeeID
	n, err := pageParam(r)
	if err != nil {
		pg.fail(w, r, err)
		return
	}
	var d requestsData
	mine, err := pg.o.Store.Requests(ctx, store.RequestFilter{Involving: me, Newest: true, Offset: (n - 1) * PageSize, Limit: PageSize + 1})
	if err != nil {
		pg.fail(w, r, err)
		return
	}
	d.Mine, d.Pager = window(r, mine, n)
	pending, err := pg.o.Store.Requests(ctx, store.RequestFilter{State: store.RequestPending})
	if err == nil {
		pending, err = svc.AwaitingApprover(ctx, pending, me)
	}
	if err != nil {
		pg.fail(w, r, err)
		return
	}
	now := pg.o.Now()
	for _, rq := range pending {
		d.Approvals = append(d.Approvals, requestRow{Request: rq, Overdue: !rq.Due.IsZero() && rq.Due.Before(now)})
	}
	pg.render(w, r, http.StatusOK, "requests", "Access requests", d)
}

type catalogueItem struct {
	App string
	config.Requestable
}

type newRequestData struct {
	Catalogue []catalogueItem
}

// newRequest is the catalogue: what may be asked for, with its risk and
// longest duration, and the form to ask.
func (pg *Pages) newRequest(w http.ResponseWriter, r *http.Request) {
	var d newRequestData
	for _, a := range pg.o.Config.Apps {
		for _, rq := range a.Requestable {
			d.Catalogue = append(d.Catalogue, catalogueItem{App: a.Name, Requestable: rq})
		}
	}
	pg.render(w, r, http.StatusOK, "request_new", "Ask for access", d)
}

// createRequest asks for an entitlement of the catalogue (the form value
// "item" is "APP/ENTITLEMENT") for the caller or, as their manager, a
// report.
func (pg *Pages) createRequest(w http.ResponseWriter, r *http.Request) {
	svc, ok := pg.service(w)
	if !ok {
		return
	}
	c, ok := pg.caller(w, r)
	if !ok {
		return
	}
	if err := r.ParseForm(); err != nil {
		pg.fail(w, r, invalid("reading the form: %v", err))
		return
	}
	app, ent, found := strings.Cut(r.PostFormValue("item"), "/")
	if !found {
		pg.fail(w, r, invalid("item %q: choose an entitlement of the catalogue", r.PostFormValue("item")))
		return
	}
	in := request.New{App: app, Entitlement: ent, Justification: strings.TrimSpace(r.PostFormValue("justification")),
		Beneficiary: strings.TrimSpace(r.PostFormValue("beneficiary"))}
	if v := strings.TrimSpace(r.PostFormValue("duration")); v != "" {
		dur, err := config.ParseDuration(v)
		if err != nil {
			pg.fail(w, r, invalid("duration: %v", err))
			return
		}
		in.Duration = dur
	}
	rq, err := svc.Create(r.Context(), c, in)
	if err != nil {
		pg.fail(w, r, err)
		return
	}
	seeOther(w, r, "/requests", fmt.Sprintf("Request #%d for %s / %s is %s.", rq.ID, rq.App, rq.Entitlement, rq.State))
}

func (pg *Pages) approveRequest(w http.ResponseWriter, r *http.Request) { pg.decideRequest(w, r, true) }
func (pg *Pages) rejectRequest(w http.ResponseWriter, r *http.Request)  { pg.decideRequest(w, r, false) }

// decideRequest approves or rejects a request with a comment; the
// request service applies the approval chain's rules as for the API.
func (pg *Pages) decideRequest(w http.ResponseWriter, r *http.Request, approve bool) {
	svc, ok := pg.service(w)
	if !ok {
		return
	}
	id, err := idParam(r, "request")
	if err != nil {
		pg.fail(w, r, err)
		return
	}
	c, ok := pg.caller(w, r)
	if !ok {
		return
	}
	if err := r.ParseForm(); err != nil {
		pg.fail(w, r, invalid("reading the form: %v", err))
		return
	}
	note := strings.TrimSpace(r.PostFormValue("comment"))
	var rq store.Request
	if approve {
		rq, err = svc.Approve(r.Context(), c, id, note)
	} else {
		rq, err = svc.Reject(r.Context(), c, id, note)
	}
	if err != nil {
		pg.fail(w, r, err)
		return
	}
	if rq.State == store.RequestApproved {
		pg.o.Host.RequestsDecided(r.Context())
	}
	seeOther(w, r, "/requests", fmt.Sprintf("Request #%d is %s.", rq.ID, rq.State))
}
