package api

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/tango-iga/tango/internal/store"
	"github.com/tango-iga/tango/internal/workflow"
)

func (s *Server) listCases(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, err := limitParam(r)
	if err == nil {
		err = oneOf("status", q.Get("status"), "open", "closed")
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	cs, err := s.st.Cases(r.Context(), store.CaseFilter{Kind: q.Get("kind"), Person: q.Get("person"), Status: q.Get("status"), Limit: limit})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, Page[store.Case]{Items: cs})
}

func (s *Server) listTasks(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, err := limitParam(r)
	if err == nil {
		err = oneOf("status", q.Get("status"), store.TaskOpen, store.TaskDone, store.TaskSkipped)
	}
	var caseID int64
	if v := q.Get("case"); v != "" && err == nil {
		if caseID, err = strconv.ParseInt(v, 10, 64); err != nil {
			err = badRequest("case " + strconv.Quote(v) + ": want a case id")
		}
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	ts, err := s.st.CaseTasks(r.Context(), store.CaseTaskFilter{Team: q.Get("team"), Person: q.Get("person"),
		Status: q.Get("status"), Assignee: q.Get("assignee"), Case: caseID, Limit: limit})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, Page[store.CaseTask]{Items: ts})
}

func taskID(w http.ResponseWriter, r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		writeError(w, http.StatusBadRequest, "task id "+strconv.Quote(r.PathValue("id"))+": want a number")
		return 0, false
	}
	return id, true
}

func decodeBody(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		writeError(w, http.StatusBadRequest, "request body: "+err.Error())
		return false
	}
	return true
}

// completeTask closes a human task with its evidence (checked against the
// kind the step needs); the last task closes its case.
func (s *Server) completeTask(w http.ResponseWriter, r *http.Request) {
	id, ok := taskID(w, r)
	if !ok {
		return
	}
	var body struct {
		Evidence string `json:"evidence"`
	}
	if !decodeBody(w, r, &body) {
		return
	}
	t, err := workflow.Complete(r.Context(), s.st, id, body.Evidence, "token:"+tokenOf(r).Name, s.now())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, t)
}

func (s *Server) reassignTask(w http.ResponseWriter, r *http.Request) {
	id, ok := taskID(w, r)
	if !ok {
		return
	}
	var body struct {
		Team     string `json:"team"`
		Assignee string `json:"assignee"`
	}
	if !decodeBody(w, r, &body) {
		return
	}
	if strings.TrimSpace(body.Team) == "" {
		writeError(w, http.StatusBadRequest, "team is empty: name the team that takes the task over")
		return
	}
	t, err := workflow.Reassign(r.Context(), s.st, s.cfg, id, strings.TrimSpace(body.Team), strings.TrimSpace(body.Assignee), "token:"+tokenOf(r).Name, s.now())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, t)
}
