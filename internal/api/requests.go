package api

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tango-iga/tango/internal/authz"
	"github.com/tango-iga/tango/internal/config"
	"github.com/tango-iga/tango/internal/request"
	"github.com/tango-iga/tango/internal/store"
)

// caller is the person the request's token acts for; the API never takes
// an identity from the client. Without one it answers 403 and returns false.
func (s *Server) caller(w http.ResponseWriter, r *http.Request) (request.Caller, bool) {
	pr := principalOf(r)
	if pr.Person == "" {
		s.check(w, r, authz.Forbidden("%s acts for no person; access requests and approvals are a person's: sign in, or use a token made with `tango token create --scope api --name NAME --person EMPLOYEE_ID`", pr.Via))
		return request.Caller{}, false
	}
	p, err := request.FindPerson(r.Context(), s.st, s.cfg, pr.Person)
	if err != nil {
		s.fail(w, r, err)
		return request.Caller{}, false
	}
	return request.Caller{Person: p, Via: pr.Via}, true
}

func (s *Server) requests(w http.ResponseWriter) (*request.Service, bool) {
	if s.req == nil {
		writeError(w, http.StatusServiceUnavailable, "access requests are unavailable: the config's policy does not compile (see the server log)")
		return nil, false
	}
	return s.req, true
}

// requestFail answers for an access-request error by its kind: 403 not
// allowed, 422 a wrong request, 409 a separation-of-duties rule (named) or
// a decision someone made first.
func (s *Server) requestFail(w http.ResponseWriter, r *http.Request, err error) {
	s.fail(w, r, err)
}

func (s *Server) listRequests(w http.ResponseWriter, r *http.Request) {
	svc, ok := s.requests(w)
	if !ok {
		return
	}
	q := r.URL.Query()
	limit, err := limitParam(r)
	if err == nil {
		err = oneOf("state", q.Get("state"), store.RequestPending, store.RequestApproved, store.RequestRejected, store.RequestExpired)
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	f := store.RequestFilter{State: q.Get("state"), Requester: q.Get("requester"), Beneficiary: q.Get("beneficiary")}
	for name, set := range map[string]func(){
		"overdue":   func() { f.DueBefore = s.now() },
		"escalated": func() { f.Escalated = true },
	} {
		switch v := q.Get(name); v {
		case "", "false":
		case "true":
			set()
		default:
			writeError(w, http.StatusBadRequest, name+" "+strconv.Quote(v)+": want true or false")
			return
		}
	}
	approver := q.Get("approver")
	if p := principalOf(r); !p.Can(authz.RequestsRead) {
		me := p.Person
		if me == "" || (f.Requester != me && f.Beneficiary != me && approver != me) {
			s.check(w, r, authz.Forbidden("%s may list only their own requests and approvals (?requester=, ?beneficiary= or ?approver= themself); every request needs %s", p.Describe(), authz.RequestsRead))
			return
		}
	}
	if approver == "" {
		f.Limit = limit
	}
	rs, err := s.st.Requests(r.Context(), f)
	if err == nil && approver != "" {
		rs, err = svc.AwaitingApprover(r.Context(), rs, approver)
		if limit > 0 && len(rs) > limit {
			rs = rs[:limit]
		}
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ids := make([]string, 0, 2*len(rs))
	for _, x := range rs {
		ids = append(ids, x.Requester, x.Beneficiary)
	}
	s.readPersons(r, ids...)
	writeJSON(w, http.StatusOK, Page[store.Request]{Items: rs})
}

func (s *Server) createRequest(w http.ResponseWriter, r *http.Request) {
	svc, ok := s.requests(w)
	if !ok {
		return
	}
	c, ok := s.caller(w, r)
	if !ok {
		return
	}
	var body struct {
		request.New
		Duration string `json:"duration"`
	}
	if !decodeBody(w, r, &body) {
		return
	}
	in := body.New
	if body.Duration != "" {
		d, err := config.ParseDuration(body.Duration)
		if err != nil {
			writeError(w, http.StatusBadRequest, "duration: "+err.Error())
			return
		}
		in.Duration = d
	}
	req, err := svc.Create(r.Context(), c, in)
	if err != nil {
		s.requestFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, req)
}

func requestID(w http.ResponseWriter, r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		writeError(w, http.StatusBadRequest, "request id "+strconv.Quote(r.PathValue("id"))+": want a number")
		return 0, false
	}
	return id, true
}

func (s *Server) approveRequest(w http.ResponseWriter, r *http.Request) { s.decideRequest(w, r, true) }
func (s *Server) rejectRequest(w http.ResponseWriter, r *http.Request)  { s.decideRequest(w, r, false) }

func (s *Server) decideRequest(w http.ResponseWriter, r *http.Request, approve bool) {
	svc, ok := s.requests(w)
	if !ok {
		return
	}
	id, ok := requestID(w, r)
	if !ok {
		return
	}
	c, ok := s.caller(w, r)
	if !ok {
		return
	}
	var body struct {
		Note string `json:"note"`
	}
	if r.ContentLength != 0 && !decodeBody(w, r, &body) {
		return
	}
	var req store.Request
	var err error
	if approve {
		req, err = svc.Approve(r.Context(), c, id, body.Note)
	} else {
		req, err = svc.Reject(r.Context(), c, id, strings.TrimSpace(body.Note))
	}
	if err != nil {
		s.requestFail(w, r, err)
		return
	}
	if req.State == store.RequestApproved {
		s.planRequests(r.Context())
	}
	writeJSON(w, http.StatusOK, req)
}

// planRequests queues the grants and revokes of requests decided or expired
// since the engine last looked (it also does so on its own loop).
func (s *Server) planRequests(ctx context.Context) {
	if s.engine == nil {
		return
	}
	if _, err := s.engine.PlanRequests(ctx); err != nil {
		s.log.Warn("requests: planning provisioning failed; the engine retries", "err", err)
	}
}

// setAway marks a person away until a day (their manager approves in
// their place) or back ({"until": ""}). The person themselves, their
// manager, or an admin token may set it.
func (s *Server) setAway(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Until string `json:"until"`
	}
	if !decodeBody(w, r, &body) {
		return
	}
	p, err := request.FindPerson(r.Context(), s.st, s.cfg, r.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, "person "+strconv.Quote(r.PathValue("id"))+" not found")
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	pr := principalOf(r)
	actor := pr.Actor()
	if me := pr.Person; !pr.Can(authz.AwayAny) && (me == "" || (me != p.EmployeeID && me != p.ManagerID)) {
		s.check(w, r, authz.Forbidden("%s may not mark %s away: only the person, their manager, or a role with %s may", pr.Describe(), p.EmployeeID, authz.AwayAny))
		return
	}
	var until time.Time
	if body.Until != "" {
		if until, err = time.ParseInLocation("2006-01-02", body.Until, s.cfg.Location()); err != nil {
			writeError(w, http.StatusBadRequest, "until "+strconv.Quote(body.Until)+": want a date such as 2026-04-01, or \"\" for back")
			return
		}
	}
	if err := request.SetAway(r.Context(), s.st, p.EmployeeID, until, actor, s.now()); err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"employee_id": p.EmployeeID, "away_until": body.Until})
}
