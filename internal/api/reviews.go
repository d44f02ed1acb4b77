package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/tango-iga/tango/internal/authz"
	"github.com/tango-iga/tango/internal/config"
	"github.com/tango-iga/tango/internal/domain"
	"github.com/tango-iga/tango/internal/review"
	"github.com/tango-iga/tango/internal/store"
)

// reviewRoutes are the access-review endpoints (internal/review), kept
// apart from Routes' other entries and appended to it.
var reviewRoutes = []Route{
	{"GET", "/api/v1/reviews", authz.ReviewsRead, (*Server).listCampaigns},
	{"POST", "/api/v1/reviews", authz.ReviewsManage, (*Server).startCampaign},
	{"GET", "/api/v1/reviews/{id}", authz.ReviewsRead, (*Server).getCampaign},
	{"GET", "/api/v1/reviews/{id}/items", authz.SignedIn, (*Server).listReviewItems},
	{"POST", "/api/v1/reviews/items/{id}/decide", authz.SignedIn, (*Server).decideReviewItem},
	{"POST", "/api/v1/reviews/{id}/close", authz.ReviewsManage, (*Server).closeCampaign},
}

func init() { Routes = append(Routes, reviewRoutes...) }

func (s *Server) reviews(w http.ResponseWriter) (*review.Service, bool) {
	svc, err := review.New(s.st, s.cfg, review.Options{Now: s.now})
	if err != nil {
		writeError(w, http.StatusServiceUnavailable, "access reviews are unavailable: the config's policy does not compile (see the server log)")
		s.log.Error("access reviews unavailable", "err", err)
		return nil, false
	}
	return svc, true
}

func pathID(w http.ResponseWriter, r *http.Request, what string) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		writeError(w, http.StatusBadRequest, what+" id "+strconv.Quote(r.PathValue("id"))+": want a number")
		return 0, false
	}
	return id, true
}

func (s *Server) listCampaigns(w http.ResponseWriter, r *http.Request) {
	state := r.URL.Query().Get("state")
	if err := oneOf("state", state, store.CampaignOpen, store.CampaignClosed, store.CampaignComplete); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	cs, err := s.st.Campaigns(r.Context(), state)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if cs == nil {
		cs = []store.Campaign{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": cs})
}

func (s *Server) startCampaign(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Kind        string `json:"kind"`
		App         string `json:"app"`
		Entitlement string `json:"entitlement"`
		Team        string `json:"team"`
		Undecided   string `json:"undecided"`
		Due         string `json:"due"`
	}
	if !decodeBody(w, r, &body) {
		return
	}
	var due time.Duration
	if body.Due != "" {
		d, err := config.ParseDuration(body.Due)
		if err != nil || d <= 0 {
			writeError(w, http.StatusBadRequest, "due "+strconv.Quote(body.Due)+": want a length of time such as 14d")
			return
		}
		due = d
	}
	svc, ok := s.reviews(w)
	if !ok {
		return
	}
	c, items, err := svc.Start(r.Context(), review.StartOptions{Kind: body.Kind, App: body.App, Entitlement: body.Entitlement,
		Team: body.Team, Undecided: body.Undecided, Due: due, Actor: principalOf(r).Actor()})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if items == nil {
		items = []store.ReviewItem{}
	}
	writeJSON(w, http.StatusCreated, map[string]any{"campaign": c, "items": items})
}

func (s *Server) getCampaign(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r, "campaign")
	if !ok {
		return
	}
	c, err := s.st.Campaign(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, c)
}

// listReviewItems: every item with reviews.read; a reviewer their own
// (?reviewer= themself), or those escalated to them (?escalated_to=
// themself).
func (s *Server) listReviewItems(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r, "campaign")
	if !ok {
		return
	}
	q := r.URL.Query()
	f := store.ReviewItemFilter{Campaign: id, Reviewer: q.Get("reviewer"), EscalatedTo: q.Get("escalated_to"), State: q.Get("state")}
	if err := oneOf("state", f.State, store.ItemPending, store.ItemKept, store.ItemRevoking, store.ItemWaiting, store.ItemVerified); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if p := principalOf(r); !p.Can(authz.ReviewsRead) && (p.Person == "" || (f.Reviewer != p.Person && f.EscalatedTo != p.Person)) {
		s.check(w, r, authz.Forbidden("%s may list only the items they review (?reviewer= themself) or that were escalated to them (?escalated_to= themself); every item needs %s",
			p.Describe(), authz.ReviewsRead))
		return
	}
	if _, err := s.st.Campaign(r.Context(), id); err != nil {
		s.fail(w, r, err)
		return
	}
	items, err := s.st.ReviewItems(r.Context(), f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if items == nil {
		items = []store.ReviewItem{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items})
}

// decideReviewItem: the item's reviewer (a stand-in, a member of its
// team) keeps, revokes or modifies it (to the narrower entitlement
// named); a revocation, and a modify's grant, are planned at once when
// the server runs the provisioning engine.
func (s *Server) decideReviewItem(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r, "item")
	if !ok {
		return
	}
	var body review.Decision
	if !decodeBody(w, r, &body) {
		return
	}
	svc, ok := s.reviews(w)
	if !ok {
		return
	}
	it, err := svc.DecideItem(r.Context(), principalOf(r), id, body)
	if domain.KindOf(err) == domain.KindForbidden {
		s.check(w, r, err)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if it.Removes() && s.engine != nil {
		if _, err := s.engine.PlanRevocations(r.Context()); err != nil {
			// Decided and recorded; the next provisioning pass plans it.
			s.log.Error("planning a review revocation", "item", it.ID, "err", err)
		}
		if it.Decision == store.DecisionModify {
			if _, err := s.engine.PlanRequests(r.Context()); err != nil {
				s.log.Error("planning a review modify's grant", "item", it.ID, "request", it.Request, "err", err)
			}
		}
	}
	writeJSON(w, http.StatusOK, it)
}

// closeCampaign closes an open campaign (undecided items follow its
// policy) and reports how far its revocations are verified; with the
// provisioning engine it reads them back now.
func (s *Server) closeCampaign(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r, "campaign")
	if !ok {
		return
	}
	svc, ok := s.reviews(w)
	if !ok {
		return
	}
	c, err := svc.Close(r.Context(), id, principalOf(r).Actor())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	pr := review.Progress{Campaign: c}
	if s.engine != nil {
		if _, err := s.engine.PlanRevocations(r.Context()); err != nil {
			s.log.Error("planning review revocations", "campaign", id, "err", err)
		}
		prs, err := svc.Verify(r.Context(), s.engine, id, principalOf(r).Actor())
		if err != nil {
			s.fail(w, r, err)
			return
		}
		pr = prs[0]
	} else {
		items, err := s.st.ReviewItems(r.Context(), store.ReviewItemFilter{Campaign: id})
		if err != nil {
			s.fail(w, r, err)
			return
		}
		for _, it := range items {
			if it.Removes() {
				pr.Revoked++
				pr.Pending++
			}
		}
	}
	writeJSON(w, http.StatusOK, pr)
}
