package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tango-iga/tango/internal/audit"
	"github.com/tango-iga/tango/internal/authz"
	"github.com/tango-iga/tango/internal/hr"
	"github.com/tango-iga/tango/internal/store"
	"github.com/tango-iga/tango/internal/web"
)

// Paging limits for list endpoints.
const (
	DefaultLimit = 100
	MaxLimit     = 1000
)

// Page is the shape of a paged list: pass Next as ?after= for the next
// page; it is empty on the last page.
type Page[T any] struct {
	Items []T    `json:"items"`
	Next  string `json:"next"`
}

// Error is the body of every error response.
type Error struct {
	Error string `json:"error"`
}

// PersonDetail is a person with its lifecycle event history.
type PersonDetail struct {
	store.Person
	Events []store.Event `json:"events"`
}

// ImportDetail is an import with the events it produced.
type ImportDetail struct {
	store.Import
	Events []store.Event `json:"events"`
}

// writeJSON is the one writer of /api/v1 JSON bodies. It does not escape
// <, > and & as \u003c…: the body is JSON for programs, never HTML.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	if pw, ok := w.(pageErrors); ok {
		web.ErrorPage(pw.ResponseWriter, status, msg)
		return
	}
	writeJSON(w, status, Error{Error: msg})
}

// bearer returns the token of an "Authorization: Bearer" header.
func bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(tok)
}

// badRequest is a client error found while reading parameters.
type badRequest string

func (e badRequest) Error() string { return string(e) }

func limitParam(r *http.Request) (int, error) {
	v := r.URL.Query().Get("limit")
	if v == "" {
		return DefaultLimit, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, badRequest(fmt.Sprintf("limit %q: want a whole number from 1 to %d", v, MaxLimit))
	}
	return min(n, MaxLimit), nil
}

func oneOf(name, v string, allowed ...string) error {
	if v == "" || slices.Contains(allowed, v) {
		return nil
	}
	return badRequest(fmt.Sprintf("%s %q: want one of %s", name, v, strings.Join(allowed, ", ")))
}

func (s *Server) listPersons(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, err := limitParam(r)
	if err == nil {
		err = oneOf("status", q.Get("status"), store.StatusPrehire, store.StatusActive, store.StatusLeft)
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if p := principalOf(r); !p.Can(authz.PersonsRead) && (p.Person == "" || q.Get("manager") != p.Person) {
		s.check(w, r, authz.Forbidden("%s may list only their own reports (?manager=%s); everyone's records need %s", p.Describe(), p.Person, authz.PersonsRead))
		return
	}
	ps, err := s.st.Persons(r.Context(), store.PersonFilter{
		Source: q.Get("source"), Status: q.Get("status"), Department: q.Get("department"),
		ManagerID: q.Get("manager"), After: q.Get("after"), Limit: limit + 1,
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	page := Page[store.Person]{Items: ps}
	if len(ps) > limit {
		page.Items = ps[:limit]
		page.Next = ps[limit-1].EmployeeID
	}
	ids := make([]string, len(page.Items))
	for i, p := range page.Items {
		ids[i] = p.EmployeeID
	}
	s.readPersons(r, ids...)
	writeJSON(w, http.StatusOK, page)
}

func (s *Server) getPerson(w http.ResponseWriter, r *http.Request) {
	p, err := s.st.Person(r.Context(), r.URL.Query().Get("source"), r.PathValue("id"))
	if err != nil {
		if errors.Is(err, store.ErrNotFound) && !principalOf(r).Can(authz.PersonsRead) {
			// Whether someone exists is itself personal data.
			s.check(w, r, principalOf(r).SeePerson(store.Person{EmployeeID: r.PathValue("id")}))
			return
		}
		s.fail(w, r, err)
		return
	}
	if !s.check(w, r, principalOf(r).SeePerson(p)) {
		return
	}
	evs, err := s.st.Events(r.Context(), store.EventFilter{Source: p.Source, EmployeeID: p.EmployeeID})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.readPersons(r, p.EmployeeID)
	writeJSON(w, http.StatusOK, PersonDetail{Person: p, Events: evs})
}

func (s *Server) listImports(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, err := limitParam(r)
	if err == nil {
		err = oneOf("status", q.Get("status"), store.ImportApplied, store.ImportHeld, store.ImportRejected)
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	is, err := s.st.ImportsBy(r.Context(), store.ImportFilter{Source: q.Get("source"), Status: q.Get("status"), Limit: limit})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, Page[store.Import]{Items: is})
}

// listAudit reads the audit trail in order, filtered by actor, action (exact
// or a dotted prefix) and time, a page at a time: next is the cursor.
func (s *Server) listAudit(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := store.AuditFilter{Actor: q.Get("actor"), Action: q.Get("action"), Subject: q.Get("subject"), Source: q.Get("source")}
	limit, err := limitParam(r)
	if v := q.Get("since"); v != "" && err == nil {
		f.Since, err = store.ParseSince(v, s.now())
		if err != nil {
			err = badRequest(err.Error())
		}
	}
	if v := q.Get("after"); v != "" && err == nil {
		f.After, err = strconv.ParseInt(v, 10, 64)
		if err != nil || f.After < 0 {
			err = badRequest(fmt.Sprintf("after %q: want an entry's seq (the next value of the previous page)", v))
		}
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	f.Limit = limit + 1
	es, err := s.st.AuditQuery(r.Context(), f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	page := Page[audit.Entry]{Items: es}
	if page.Items == nil {
		page.Items = []audit.Entry{}
	}
	if len(es) > limit {
		page.Items = es[:limit]
		page.Next = strconv.FormatInt(es[limit-1].Seq, 10)
	}
	writeJSON(w, http.StatusOK, page)
}

func (s *Server) getImport(w http.ResponseWriter, r *http.Request) {
	imp, err := s.st.Import(r.Context(), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	evs, err := s.st.Events(r.Context(), store.EventFilter{ImportID: imp.ID})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, ImportDetail{Import: imp, Events: evs})
}

func (s *Server) listEvents(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, err := limitParam(r)
	if err == nil {
		err = oneOf("type", q.Get("type"), store.EventJoiner, store.EventMover, store.EventLeaver, store.EventRehire, store.EventChange)
	}
	if err == nil {
		err = oneOf("state", q.Get("state"), store.EventApplied, store.EventScheduled, store.EventHeld, store.EventDiscarded)
	}
	var after int64
	if v := q.Get("after"); v != "" && err == nil {
		after, err = strconv.ParseInt(v, 10, 64)
		if err != nil || after < 0 {
			err = badRequest(fmt.Sprintf("after %q: want an event id (the next value of the previous page)", v))
		}
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	evs, err := s.st.Events(r.Context(), store.EventFilter{
		Source: q.Get("source"), EmployeeID: q.Get("person"), ImportID: q.Get("import"),
		Type: q.Get("type"), State: q.Get("state"), AfterID: after, Limit: limit + 1,
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	page := Page[store.Event]{Items: evs}
	if len(evs) > limit {
		page.Items = evs[:limit]
		page.Next = strconv.FormatInt(evs[limit-1].ID, 10)
	}
	ids := make([]string, len(page.Items))
	for i, e := range page.Items {
		ids[i] = e.EmployeeID
	}
	s.readPersons(r, ids...)
	writeJSON(w, http.StatusOK, page)
}

// Media types an import body may have.
var importTypes = map[string]string{
	"text/csv":         "csv",
	"application/csv":  "csv",
	"text/plain":       "csv",
	"application/json": "json",
	"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
}

func (s *Server) createImport(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	src, err := s.cfg.Source(q.Get("source"))
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if src.Kind != "file" {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("source %q is of kind %s: it is pushed over SCIM, not imported from a file", src.Name, src.Kind))
		return
	}
	format := q.Get("format")
	if err := oneOf("format", format, "csv", "json", "xlsx"); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if format == "" {
		if ct := r.Header.Get("Content-Type"); ct != "" {
			mt, _, err := mime.ParseMediaType(ct)
			f, ok := importTypes[mt]
			if err != nil || !ok {
				writeError(w, http.StatusUnsupportedMediaType, fmt.Sprintf("Content-Type %q: send text/csv, application/json or %s, or say ?format=csv|json|xlsx", ct, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))
				return
			}
			format = f
		}
	}
	if format == "" {
		format = src.Format
	}
	if format == "" {
		writeError(w, http.StatusUnsupportedMediaType, "cannot tell the format of the body: set Content-Type (text/csv, application/json or the xlsx type) or ?format=csv|json|xlsx")
		return
	}
	dryRun := false
	if v := q.Get("dry_run"); v != "" {
		if dryRun, err = strconv.ParseBool(v); err != nil {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("dry_run %q: want true or false", v))
			return
		}
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.maxImport))
	if err != nil {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("the snapshot is larger than the limit of %d bytes", s.maxImport))
			return
		}
		writeError(w, http.StatusBadRequest, "reading the request body failed")
		return
	}
	if len(data) == 0 {
		writeError(w, http.StatusBadRequest, "the request body is empty: send the whole HR snapshot file")
		return
	}
	name := "upload." + format
	if _, params, err := mime.ParseMediaType(r.Header.Get("Content-Disposition")); err == nil && params["filename"] != "" {
		name = path.Base(strings.ReplaceAll(params["filename"], `\`, "/"))
	}
	sc := *src
	sc.Format = format
	actor := principalOf(r).Actor()
	start := time.Now()
	if s.engine != nil {
		defer s.engine.Wake()
	}
	res, err := s.imports.Import(r.Context(), hr.File{Source: &sc, Name: name, Data: data, DryRun: dryRun, Actor: actor})
	switch {
	case errors.Is(err, hr.ErrHeld):
		writeError(w, http.StatusConflict, err.Error())
		return
	case err != nil:
		s.fail(w, r, err)
		return
	}
	status := http.StatusOK
	switch res.Status {
	case store.ImportApplied:
		status = http.StatusCreated
	case store.ImportHeld:
		status = http.StatusAccepted
	case store.ImportRejected:
		status = http.StatusUnprocessableEntity
	}
	if res.Status == store.ImportApplied || res.Status == store.ImportHeld {
		s.importHist.Observe(time.Since(start).Seconds())
		w.Header().Set("Location", "/api/v1/imports/"+res.ImportID)
		s.log.Info("import", "import_id", res.ImportID, "source", res.Source, "status", res.Status,
			"rows", res.Rows, "joiners", res.Joiners, "movers", res.Movers, "leavers", res.Leavers,
			"rehires", res.Rehires, "actor", actor)
	}
	writeJSON(w, status, res)
}
