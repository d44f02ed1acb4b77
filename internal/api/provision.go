package api

import (
	"net/http"
	"strconv"

	"github.com/tango-iga/tango/internal/provision"
)

// retryOperation makes a failed or retrying operation pending again, due
// now (provision.Retry), and wakes the engine.
func (s *Server) retryOperation(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		writeError(w, http.StatusBadRequest, "operation id "+strconv.Quote(r.PathValue("id"))+": want a number")
		return
	}
	op, err := provision.Retry(r.Context(), s.st, id, principalOf(r).Actor(), s.now())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if s.engine != nil {
		s.engine.Wake()
	}
	s.readPersons(r, op.EmployeeID)
	writeJSON(w, http.StatusOK, op)
}

// releaseApp ends an app's quarantine now (provision.Release) and wakes
// the engine.
func (s *Server) releaseApp(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	configured := false
	for _, a := range s.cfg.Apps {
		configured = configured || a.Name == name
	}
	h, err := provision.Release(r.Context(), s.st, name, configured, principalOf(r).Actor(), s.now())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if s.engine != nil {
		s.engine.Wake()
	}
	writeJSON(w, http.StatusOK, h)
}
