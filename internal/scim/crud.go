package scim

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/tango-iga/tango/internal/audit"
	"github.com/tango-iga/tango/internal/config"
	"github.com/tango-iga/tango/internal/domain"
	"github.com/tango-iga/tango/internal/hr"
	"github.com/tango-iga/tango/internal/scim/filter"
	"github.com/tango-iga/tango/internal/store"
)

func (h *Handler) resource(w http.ResponseWriter, r *http.Request, rt *resourceType, id string) {
	switch {
	case r.Method == http.MethodGet && id == "":
		h.list(w, r, rt)
	case r.Method == http.MethodGet:
		h.getOne(w, r, rt, id)
	case r.Method == http.MethodPost && id == "":
		h.write(w, r, rt, "", "create")
	case r.Method == http.MethodPost && strings.EqualFold(id, ".search"):
		h.search(w, r, rt)
	case r.Method == http.MethodPut && id != "":
		h.write(w, r, rt, id, "replace")
	case r.Method == http.MethodPatch && id != "":
		h.write(w, r, rt, id, "patch")
	case r.Method == http.MethodDelete && id != "":
		h.write(w, r, rt, id, "delete")
	default:
		writeErr(w, &Error{Status: http.StatusMethodNotAllowed, Detail: r.Method + " is not allowed on " + r.URL.Path})
	}
}

func (h *Handler) getOne(w http.ResponseWriter, r *http.Request, rt *resourceType, id string) {
	q := r.URL.Query()
	attrs, e1 := parseAttrList(q.Get("attributes"))
	excl, e2 := parseAttrList(q.Get("excludedAttributes"))
	if e1 != nil || e2 != nil {
		writeErr(w, firstErr(e1, e2))
		return
	}
	x, err := h.st.SCIMResource(r.Context(), rt.Name, id)
	if errors.Is(err, store.ErrNotFound) {
		writeErr(w, errNotFound("%s %s not found", rt.Name, id))
		return
	} else if err != nil {
		h.internal(w, r, err)
		return
	}
	noteRead(r.Context(), rt, &x)
	if inm := r.Header.Get("If-None-Match"); inm != "" && matchETag(inm, x.Version) {
		w.Header().Set("ETag", etag(x.Version))
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.writeResource(w, r, rt, &x, http.StatusOK, attrs, excl)
}

// writeResource answers with one resource, its ETag and Location.
func (h *Handler) writeResource(w http.ResponseWriter, r *http.Request, rt *resourceType, x *store.SCIMResource, status int, attrs, excl []filter.Path) {
	base := h.baseURL
	groups, err := h.groupsOf(r.Context(), rt, []store.SCIMResource{*x})
	if err != nil {
		h.internal(w, r, err)
		return
	}
	w.Header().Set("ETag", etag(x.Version))
	w.Header().Set("Location", base+rt.Endpoint+"/"+x.ID)
	if len(attrs) == 0 && len(excl) == 0 {
		if b, ok := renderJSON(rt, x, base, groups[x.ID]); ok {
			w.Header().Set("Content-Type", ContentType)
			w.Header().Set("Cache-Control", "no-store")
			w.WriteHeader(status)
			_, _ = w.Write(b)
			return
		}
	}
	doc, err := render(rt, x, base, groups[x.ID])
	if err != nil {
		h.internal(w, r, err)
		return
	}
	writeJSON(w, status, project(rt, doc, attrs, excl))
}

// groupsOf returns the groups of Users (nothing for other types).
func (h *Handler) groupsOf(ctx context.Context, rt *resourceType, xs []store.SCIMResource) (map[string][]store.SCIMGroupRef, error) {
	if rt != userType || len(xs) == 0 {
		return nil, nil
	}
	ids := make([]string, len(xs))
	for i := range xs {
		ids[i] = xs[i].ID
	}
	return h.st.SCIMGroupsOf(ctx, ids)
}

func firstErr(es ...*Error) *Error {
	for _, e := range es {
		if e != nil {
			return e
		}
	}
	return nil
}

// matchETag reports whether an If-Match / If-None-Match value names the version.
func matchETag(h string, v int64) bool {
	want := etag(v)
	for _, t := range strings.Split(h, ",") {
		t = strings.TrimSpace(t)
		if t == "*" || t == want || "W/"+t == want {
			return true
		}
	}
	return false
}

// userMapper is the compiled mapping of src (once per handler).
func (h *Handler) userMapper(src *config.Source) (*userMapper, error) {
	h.mapOnce.Do(func() { h.mapper, h.mapErr = newUserMapper(src) })
	return h.mapper, h.mapErr
}

// ErrNoSourceDetail is the detail of the 404 a User push gets when the
// config has no source of kind scim: the push has nowhere to go.
const ErrNoSourceDetail = "no SCIM source is configured: pushed Users have nowhere to go; add a source with `kind: scim` to tango.yaml"

// source is the configured source SCIM users feed; without one, a User
// write is answered 404 (the Users endpoint accepts no push), not 5xx.
func (h *Handler) source() (*config.Source, *Error) {
	for i := range h.cfg.Sources {
		if h.cfg.Sources[i].Kind == "scim" {
			return &h.cfg.Sources[i], nil
		}
	}
	return nil, errNotFound(ErrNoSourceDetail)
}

func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	s := hex.EncodeToString(b[:])
	return s[:8] + "-" + s[8:12] + "-" + s[12:16] + "-" + s[16:20] + "-" + s[20:]
}

// write runs a create, replace, patch or delete, retrying when the
// resource changed concurrently (and no If-Match pinned the version).
func (h *Handler) write(w http.ResponseWriter, r *http.Request, rt *resourceType, id, kind string) {
	if rt == userType {
		if _, e := h.source(); e != nil {
			writeErr(w, e)
			return
		}
	}
	var body map[string]any
	var raw []byte
	if kind != "delete" {
		var e *Error
		if body, raw, e = readBody(r); e != nil {
			writeErr(w, e)
			return
		}
	}
	var ops []parsedOp
	if kind == "patch" {
		var e *Error
		if ops, e = ParsePatch(raw); e != nil {
			writeErr(w, e)
			return
		}
	}
	ifMatch := r.Header.Get("If-Match")
	for attempt := 0; ; attempt++ {
		x, status, e := h.writeOnce(r.Context(), r, rt, id, kind, body, ops, ifMatch)
		if e != nil && e.Status == http.StatusPreconditionFailed && ifMatch == "" && attempt < 5 {
			continue
		}
		if e != nil {
			if e.Status >= 500 {
				h.log.Error("scim write failed", "path", r.URL.Path, "err", e.Detail)
				e = &Error{Status: e.Status, Detail: "internal error; see the server log"}
			}
			writeErr(w, e)
			return
		}
		if h.engine != nil && rt == userType {
			h.engine.Wake()
		}
		if kind == "delete" {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		h.writeResource(w, r, rt, x, status, nil, nil)
		return
	}
}

var errConflictVersion = &Error{Status: http.StatusPreconditionFailed, Detail: "the resource changed concurrently"}

func (h *Handler) writeOnce(ctx context.Context, r *http.Request, rt *resourceType, id, kind string, body map[string]any, ops []parsedOp, ifMatch string) (*store.SCIMResource, int, *Error) {
	at := h.now().UTC().Truncate(time.Microsecond)
	var old *store.SCIMResource
	var oldDoc map[string]any
	if id != "" {
		x, err := h.st.SCIMResource(ctx, rt.Name, id)
		if errors.Is(err, store.ErrNotFound) {
			return nil, 0, errNotFound("%s %s not found", rt.Name, id)
		} else if err != nil {
			return nil, 0, &Error{Status: 500, Detail: err.Error()}
		}
		if ifMatch != "" && !matchETag(ifMatch, x.Version) {
			return nil, 0, errPrecondition()
		}
		old = &x
		if err := json.Unmarshal(x.Doc, &oldDoc); err != nil {
			return nil, 0, &Error{Status: 500, Detail: err.Error()}
		}
	}
	var doc map[string]any
	var e *Error
	switch kind {
	case "create", "replace":
		if v, ok := body["id"].(string); ok && kind == "replace" && v != "" && v != id {
			return nil, 0, errMutability("id %q does not match the resource %q", v, id)
		}
		doc, e = normalize(rt, body)
	case "patch":
		doc, e = applyPatch(rt, oldDoc, ops)
	}
	if e != nil {
		return nil, 0, e
	}
	if rt == groupType && doc != nil {
		if err := h.fillMemberDisplay(ctx, doc); err != nil {
			return nil, 0, &Error{Status: 500, Detail: err.Error()}
		}
	}
	x := store.SCIMResource{Type: rt.Name, Created: at, Modified: at}
	if old != nil {
		x = *old
		x.Modified = at
	} else {
		x.ID = newID()
	}
	if doc != nil {
		b, err := json.Marshal(doc)
		if err != nil {
			return nil, 0, &Error{Status: 500, Detail: err.Error()}
		}
		if old != nil && string(b) == string(old.Doc) {
			return old, http.StatusOK, nil // nothing changed: no new version
		}
		x.Doc = b
		x.ExternalID = getStr(doc, "externalId")
		if rt == userType {
			x.NameKey = strings.ToLower(getStr(doc, "userName"))
		} else {
			x.NameKey = strings.ToLower(getStr(doc, "displayName"))
		}
	}
	action := "scim." + strings.ToLower(rt.Name) + "." + kind
	entry := audit.New(at, h.actor(ctx), action, "", "", x.ID, nil, map[string]any{"method": r.Method, "path": r.URL.Path})
	write := store.SCIMWrite{Resource: x, Delete: kind == "delete"}

	if rt == groupType {
		x.Source = ""
		x.Display = getStr(doc, "displayName")
		x.Members = nil
		for _, m := range complexValues(doc["members"]) {
			if v := getStr(m, "value"); v != "" {
				x.Members = append(x.Members, v)
			}
		}
		write.Resource = x
		err := h.st.WriteSCIM(ctx, []store.SCIMWrite{write}, []audit.Entry{entry})
		if e := storeErr(err); e != nil {
			return nil, 0, e
		}
		return h.after(x, kind)
	}

	src, se := h.source()
	if se != nil {
		return nil, 0, se
	}
	x.Source = src.Name
	var person store.Person
	var mref, keyed string
	if doc != nil {
		um, err := h.userMapper(src)
		if err != nil {
			return nil, 0, &Error{Status: 500, Detail: err.Error()}
		}
		if person, mref, keyed, err = um.person(doc, x.ID); err != nil {
			return nil, 0, errValue("source %q mapping: %v", src.Name, err)
		}
	}
	if old == nil {
		ent := getMap(doc, URNEnterprise)
		x.EmployeeID = keyed
		if x.EmployeeID == "" {
			x.EmployeeID = getStr(ent, "employeeNumber")
		}
		if x.EmployeeID == "" {
			x.EmployeeID = getStr(doc, "externalId")
		}
		if x.EmployeeID == "" {
			x.EmployeeID = x.ID
		}
	}
	write.Resource = x
	ch := hr.PushChange{EmployeeID: x.EmployeeID, Writes: []store.SCIMWrite{write}, Entries: []audit.Entry{entry}}
	if doc != nil {
		p := person
		p.Attributes["scim_id"] = x.ID
		mgr, err := h.resolveManager(ctx, mref)
		if err != nil {
			return nil, 0, &Error{Status: 500, Detail: err.Error()}
		}
		p.ManagerID = mgr
		ch.Person = &p
		ch.Active = userActive(doc)
	}
	_, err := h.imports.Push(ctx, src, ch, h.actor(ctx), at)
	if e := storeErr(err); e != nil {
		return nil, 0, e
	}
	return h.after(x, kind)
}

// fillMemberDisplay gives each member of a Group document that has no
// display the displayName of the User it names (else its userName), or of
// the Group: clients expect members to carry it (RFC 7643 section 4.2).
func (h *Handler) fillMemberDisplay(ctx context.Context, doc map[string]any) error {
	members := complexValues(doc["members"])
	var need []string
	for _, m := range members {
		if v := getStr(m, "value"); v != "" && getStr(m, "display") == "" {
			need = append(need, v)
		}
	}
	names := map[string]string{}
	for _, typ := range []string{store.SCIMUser, store.SCIMGroup} {
		var rest []string
		for _, id := range need {
			if _, ok := names[id]; !ok {
				rest = append(rest, id)
			}
		}
		for start := 0; start < len(rest); start += 500 {
			xs, _, err := h.st.SCIMResources(ctx, store.SCIMQuery{Type: typ, IDs: rest[start:min(start+500, len(rest))]})
			if err != nil {
				return fmt.Errorf("scim: members' display: %w", err)
			}
			for _, x := range xs {
				var d map[string]any
				if json.Unmarshal(x.Doc, &d) != nil {
					continue
				}
				name := getStr(d, "displayName")
				if name == "" {
					name = getStr(d, "userName")
				}
				names[x.ID] = name
			}
		}
	}
	for _, m := range members {
		if n := names[getStr(m, "value")]; n != "" && getStr(m, "display") == "" {
			m["display"] = n
		}
	}
	return nil
}

func (h *Handler) after(x store.SCIMResource, kind string) (*store.SCIMResource, int, *Error) {
	if kind == "create" {
		x.Version = 1
		return &x, http.StatusCreated, nil
	}
	x.Version++
	return &x, http.StatusOK, nil
}

// storeErr answers for a store error. A uniqueness clash (409) and a
// version mismatch (412, RFC 7644 section 3.14) carry SCIM's own detail.
func storeErr(err error) *Error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, store.ErrUniqueness):
		return errUniqueness("%v", err)
	case errors.Is(err, store.ErrVersion):
		return errConflictVersion
	case errors.Is(err, store.ErrConflict):
		return &Error{Status: domain.HTTPStatus(err), Detail: "the person changed concurrently; retry"}
	}
	// Any other error answers with the status of its kind (404 not found,
	// 500 for one of no kind), as /api/v1 does.
	return &Error{Status: domain.HTTPStatus(err), Detail: err.Error()}
}

// resolveManager turns manager.value (a SCIM id or an employee ID) into
// the manager's employee ID.
func (h *Handler) resolveManager(ctx context.Context, ref string) (string, error) {
	if ref == "" {
		return "", nil
	}
	x, err := h.st.SCIMResource(ctx, store.SCIMUser, ref)
	if err == nil {
		return x.EmployeeID, nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return "", fmt.Errorf("manager %s: %w", ref, err)
	}
	return ref, nil
}
