package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/tango-iga/tango/internal/authz"
	"github.com/tango-iga/tango/internal/request"
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
	if p := principalOf(r); !p.Can(authz.CasesRead) && !s.check(w, r, s.aboutSomeoneSeen(r, q.Get("person"), "cases")) {
		return
	}
	cs, err := s.st.Cases(r.Context(), store.CaseFilter{Kind: q.Get("kind"), Person: q.Get("person"), Status: q.Get("status"), Limit: limit})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ids := make([]string, len(cs))
	for i, c := range cs {
		ids[i] = c.Person
	}
	s.readPersons(r, ids...)
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
	if p := principalOf(r); !p.Can(authz.TasksRead) {
		mine := p.Person != "" && q.Get("assignee") == p.Person
		team := q.Get("team") != "" && (slices.Contains(p.Teams, q.Get("team")) || slices.Contains(p.Leads, q.Get("team")))
		if !mine && !team && !s.check(w, r, s.aboutSomeoneSeen(r, q.Get("person"), "tasks")) {
			return
		}
	}
	ts, err := s.st.CaseTasks(r.Context(), store.CaseTaskFilter{Team: q.Get("team"), Person: q.Get("person"),
		Status: q.Get("status"), Assignee: q.Get("assignee"), Case: caseID, Limit: limit})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ids := make([]string, len(ts))
	for i, t := range ts {
		ids[i] = t.Person
	}
	s.readPersons(r, ids...)
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
	if !s.mayActOnTask(w, r, id) {
		return
	}
	t, err := workflow.Complete(r.Context(), s.st, id, body.Evidence, principalOf(r).Actor(), s.now())
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
	if !s.mayActOnTask(w, r, id) {
		return
	}
	t, err := workflow.Reassign(r.Context(), s.st, s.cfg, id, strings.TrimSpace(body.Team), strings.TrimSpace(body.Assignee), principalOf(r).Actor(), s.now())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, t)
}

// aboutSomeoneSeen is the record rule of lists a caller without the
// read-all permission may still ask for: about a person they may see
// (themself, a report), named with ?person=.
func (s *Server) aboutSomeoneSeen(r *http.Request, id, what string) error {
	p := principalOf(r)
	if id == "" || p.Person == "" {
		return authz.Forbidden("%s may list only the %s of a person they may see: give ?person= (themself or a report)", p.Describe(), what)
	}
	target, err := request.FindPerson(r.Context(), s.st, s.cfg, id)
	if errors.Is(err, store.ErrNotFound) {
		target = store.Person{EmployeeID: id}
	} else if err != nil {
		return err
	}
	return p.SeePerson(target)
}

// mayActOnTask applies the task rule (authz.Principal.ActOnTask): it
// answers 404 for a task that does not exist and 403 for one of another
// team or manager, and returns false then.
func (s *Server) mayActOnTask(w http.ResponseWriter, r *http.Request, id int64) bool {
	t, err := s.st.CaseTask(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return false
	}
	var standIns []string
	if t.Team == workflow.TeamManager && t.Assignee != "" {
		m, err := request.FindPerson(r.Context(), s.st, s.cfg, t.Assignee)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			s.fail(w, r, err)
			return false
		}
		away, err := s.st.AwayUntil(r.Context(), t.Assignee)
		if err != nil {
			s.fail(w, r, err)
			return false
		}
		if m.ManagerID != "" && (m.Status == store.StatusLeft || away.After(s.now())) {
			standIns = append(standIns, m.ManagerID)
		}
	}
	return s.check(w, r, principalOf(r).ActOnTask(t, standIns))
}
