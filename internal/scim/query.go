package scim

import (
	"encoding/json"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/tango-iga/tango/internal/scim/filter"
	"github.com/tango-iga/tango/internal/store"
)

// query is a parsed list request.
type query struct {
	filter     filter.Expr
	sortBy     *attrPath
	descending bool
	start      int // 1-based
	count      int
	attrs      []attrPath
	excluded   []attrPath
}

func parseQuery(v url.Values) (query, *Error) {
	q := query{start: 1, count: DefaultCount}
	if f := v.Get("filter"); f != "" {
		e, err := filter.Parse(f)
		if err != nil {
			return q, &Error{Status: 400, ScimType: "invalidFilter", Detail: err.Error()}
		}
		q.filter = e
	}
	if s := v.Get("sortBy"); s != "" {
		p, err := filter.ParsePath(s)
		if err != nil || p.Filter != nil {
			return q, errValue("sortBy %q is not an attribute path", s)
		}
		q.sortBy = &p.Attr
	}
	switch strings.ToLower(v.Get("sortOrder")) {
	case "", "ascending":
	case "descending":
		q.descending = true
	default:
		return q, errValue("sortOrder: want ascending or descending")
	}
	if s := v.Get("startIndex"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			return q, errValue("startIndex %q is not a number", s)
		}
		q.start = max(n, 1)
	}
	if s := v.Get("count"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			return q, errValue("count %q is not a number", s)
		}
		q.count = min(max(n, 0), MaxCount)
	}
	var e *Error
	if q.attrs, e = parseAttrList(v.Get("attributes")); e != nil {
		return q, e
	}
	if q.excluded, e = parseAttrList(v.Get("excludedAttributes")); e != nil {
		return q, e
	}
	return q, nil
}

func (h *Handler) list(w http.ResponseWriter, r *http.Request, rt *resourceType) {
	q, e := parseQuery(r.URL.Query())
	if e != nil {
		writeErr(w, e)
		return
	}
	h.runQuery(w, r, rt, q)
}

// search is POST /.search (RFC 7644 section 3.4.3).
func (h *Handler) search(w http.ResponseWriter, r *http.Request, rt *resourceType) {
	body, _, e := readBody(r)
	if e != nil {
		writeErr(w, e)
		return
	}
	v := url.Values{}
	for k, x := range body {
		switch t := x.(type) {
		case string:
			v.Set(k, t)
		case float64:
			v.Set(k, strconv.FormatFloat(t, 'f', -1, 64))
		case []any:
			var parts []string
			for _, p := range t {
				if s, ok := p.(string); ok {
					parts = append(parts, s)
				}
			}
			v.Set(k, strings.Join(parts, ","))
		}
	}
	q, e := parseQuery(v)
	if e != nil {
		writeErr(w, e)
		return
	}
	h.runQuery(w, r, rt, q)
}

// indexed picks the equality tests of a filter an index serves: a
// comparison "userName eq", "externalId eq" or "id eq", alone or in a
// conjunction. The whole filter is still evaluated on what SQL returns.
func indexed(rt *resourceType, e filter.Expr, sq *store.SCIMQuery) bool {
	switch x := e.(type) {
	case filter.And:
		return indexed(rt, x.Left, sq) || indexed(rt, x.Right, sq)
	case filter.Compare:
		s, ok := x.Value.(string)
		if x.Op != filter.OpEq || !ok || x.Path.Sub != "" || (x.Path.URN != "" && !strings.EqualFold(x.Path.URN, rt.Schema.ID)) {
			return false
		}
		switch {
		case strings.EqualFold(x.Path.Name, "id"):
			sq.IDs = []string{s}
		case strings.EqualFold(x.Path.Name, "externalId"):
			sq.ExternalID = s
			if s == "" {
				return false
			}
		case rt == userType && strings.EqualFold(x.Path.Name, "userName"),
			rt == groupType && strings.EqualFold(x.Path.Name, "displayName"):
			sq.NameKey = strings.ToLower(s)
			if s == "" {
				return false
			}
		default:
			return false
		}
		return true
	}
	return false
}

func (h *Handler) runQuery(w http.ResponseWriter, r *http.Request, rt *resourceType, q query) {
	ctx := r.Context()
	base := h.base(r)
	sq := store.SCIMQuery{Type: rt.Name}
	byName := q.sortBy != nil && !q.descending && q.sortBy.Sub == "" &&
		((rt == userType && strings.EqualFold(q.sortBy.Name, "userName")) || (rt == groupType && strings.EqualFold(q.sortBy.Name, "displayName")))
	var docs []map[string]any
	total := 0
	if q.filter == nil && (q.sortBy == nil || byName) {
		// Paged in SQL.
		sq.Offset, sq.Limit, sq.Count, sq.OrderByName = q.start-1, q.count, true, byName
		if q.count == 0 {
			sq.Limit = 1 // only totalResults is wanted
		}
		xs, n, err := h.st.SCIMResources(ctx, sq)
		if err != nil {
			h.internal(w, r, err)
			return
		}
		total = n
		if q.count > 0 {
			for i := range xs {
				d, err := render(rt, &xs[i], base)
				if err != nil {
					h.internal(w, r, err)
					return
				}
				docs = append(docs, d)
			}
		}
	} else {
		if q.filter != nil {
			indexed(rt, q.filter, &sq)
		}
		sq.OrderByName = byName
		xs, _, err := h.st.SCIMResources(ctx, sq)
		if err != nil {
			h.internal(w, r, err)
			return
		}
		if len(xs) > MaxFilterResults {
			writeErr(w, &Error{Status: 400, ScimType: "tooMany", Detail: "the filter selects too many resources; narrow it"})
			return
		}
		for i := range xs {
			d, err := render(rt, &xs[i], base)
			if err != nil {
				h.internal(w, r, err)
				return
			}
			if q.filter != nil {
				ok, err := filter.Match(q.filter, d, rt.caseExact)
				if err != nil {
					writeErr(w, &Error{Status: 400, ScimType: "invalidFilter", Detail: err.Error()})
					return
				}
				if !ok {
					continue
				}
			}
			docs = append(docs, d)
		}
		if q.sortBy != nil && !byName {
			sortDocs(rt, docs, *q.sortBy, q.descending)
		}
		total = len(docs)
		from := min(q.start-1, len(docs))
		docs = docs[from:min(from+q.count, len(docs))]
	}
	res := make([]any, 0, len(docs))
	for _, d := range docs {
		res = append(res, project(rt, d, q.attrs, q.excluded))
	}
	out := map[string]any{"schemas": []string{URNList}, "totalResults": total, "itemsPerPage": len(res),
		"startIndex": q.start, "Resources": res}
	writeJSON(w, http.StatusOK, out)
}

// sortDocs sorts by an attribute (RFC 7644 section 3.4.2.3): strings by
// the schema's case sensitivity, multi-valued by the primary value or the
// first; resources without the attribute last.
func sortDocs(rt *resourceType, docs []map[string]any, p attrPath, desc bool) {
	exact := rt.caseExact(p)
	key := func(d map[string]any) (string, bool) {
		m := d
		if p.URN != "" && !strings.EqualFold(p.URN, rt.Schema.ID) {
			m, _ = d[p.URN].(map[string]any)
		}
		var v any
		for k, x := range m {
			if strings.EqualFold(k, p.Name) {
				v = x
			}
		}
		if vs := complexValues(v); len(vs) > 0 {
			pick := vs[0]
			for _, e := range vs {
				if e["primary"] == true {
					pick = e
				}
			}
			sub := p.Sub
			if sub == "" {
				sub = "value"
			}
			v = pick[sub]
		}
		if v == nil {
			return "", false
		}
		var s string
		switch x := v.(type) {
		case string:
			s = x
		default:
			b, _ := json.Marshal(x)
			s = string(b)
		}
		if !exact {
			s = strings.ToLower(s)
		}
		return s, true
	}
	sort.SliceStable(docs, func(i, j int) bool {
		a, aok := key(docs[i])
		b, bok := key(docs[j])
		if aok != bok {
			return aok
		}
		if desc {
			return a > b
		}
		return a < b
	})
}
