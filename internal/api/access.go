package api

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"time"

	"github.com/tango-iga/tango/internal/config"
	"github.com/tango-iga/tango/internal/store"
)

// AppStatus is an app with the health of its connector and its queue.
type AppStatus struct {
	Name        string         `json:"name"`
	Connector   string         `json:"connector"`
	Owner       string         `json:"owner,omitempty"`
	Quarantined bool           `json:"quarantined"`
	Health      store.AppState `json:"health"`
	Operations  map[string]int `json:"operations"` // by state
}

func (s *Server) listApps(w http.ResponseWriter, r *http.Request) {
	out, err := AppStatuses(r.Context(), s.st, s.cfg, s.now())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// AppStatuses is every configured app, and every app removed from the
// config that still has operations, with its health and operation counts
// (GET /api/v1/apps, `tango apps list`).
func AppStatuses(ctx context.Context, st Store, cfg *config.Config, now time.Time) ([]AppStatus, error) {
	states, err := st.AppStates(ctx)
	if err != nil {
		return nil, err
	}
	counts, err := st.OpCounts(ctx)
	if err != nil {
		return nil, err
	}
	health := map[string]store.AppState{}
	for _, st := range states {
		health[st.App] = st
	}
	out := []AppStatus{}
	seen := map[string]bool{}
	add := func(name, conn, owner string) {
		seen[name] = true
		h := health[name]
		h.App = name
		ops := counts[name]
		if ops == nil {
			ops = map[string]int{}
		}
		out = append(out, AppStatus{Name: name, Connector: conn, Owner: owner, Health: h, Operations: ops, Quarantined: h.QuarantinedUntil.After(now)})
	}
	for _, a := range cfg.Apps {
		add(a.Name, a.Connector, a.Owner)
	}
	for name := range counts { // apps removed from the config that still have operations
		if !seen[name] {
			add(name, "", "")
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func (s *Server) listOperations(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, err := limitParam(r)
	if err == nil {
		err = oneOf("state", q.Get("state"), store.OpStates...)
	}
	var after int64
	if v := q.Get("after"); v != "" && err == nil {
		after, err = strconv.ParseInt(v, 10, 64)
		if err != nil || after < 0 {
			err = badRequest(fmt.Sprintf("after %q: want an operation id (the next value of the previous page)", v))
		}
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	ops, err := s.st.Ops(r.Context(), store.OpFilter{App: q.Get("app"), State: q.Get("state"), EmployeeID: q.Get("person"), AfterID: after, Limit: limit + 1})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	page := Page[store.Operation]{Items: ops}
	if len(ops) > limit {
		page.Items = ops[:limit]
		page.Next = strconv.FormatInt(ops[limit-1].ID, 10)
	}
	ids := make([]string, len(page.Items))
	for i, o := range page.Items {
		ids[i] = o.EmployeeID
	}
	s.readPersons(r, ids...)
	writeJSON(w, http.StatusOK, page)
}

func (s *Server) listFindings(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if err := oneOf("status", q.Get("status"), "open", "resolved"); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	fs, err := s.st.Findings(r.Context(), q.Get("kind"), q.Get("app"), q.Get("status"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, Page[store.Finding]{Items: fs})
}
