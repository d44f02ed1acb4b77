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
	filterText string
	sortBy     *attrPath
	descending bool
	start      int // 1-based
	count      int
	attrs      []filter.Path
	excluded   []filter.Path
}

func parseQuery(v url.Values) (query, *Error) {
	q := query{start: 1, count: DefaultCount}
	if f := v.Get("filter"); f != "" {
		e, err := filter.ParseTolerant(f)
		if err != nil {
			return q, &Error{Status: 400, ScimType: "invalidFilter", Detail: err.Error()}
		}
		q.filter, q.filterText = e, f
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
	base := h.baseURL
	sq := store.SCIMQuery{Type: rt.Name}
	byName := q.sortBy != nil && !q.descending && q.sortBy.Sub == "" &&
		((rt == userType && strings.EqualFold(q.sortBy.Name, "userName")) || (rt == groupType && strings.EqualFold(q.sortBy.Name, "displayName")))
	plain := len(q.attrs) == 0 && len(q.excluded) == 0 // served as stored, without projection
	var items [][]byte
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
		if q.count == 0 {
			xs = nil
		}
		noteRead(ctx, rt)
		for i := range xs {
			noteRead(ctx, rt, &xs[i])
		}
		groups, err := h.groupsOf(ctx, rt, xs)
		if err != nil {
			h.internal(w, r, err)
			return
		}
		items = make([][]byte, 0, len(xs))
		for i := range xs {
			b, err := h.renderItem(rt, &xs[i], nil, base, q, plain, groups[xs[i].ID])
			if err != nil {
				h.internal(w, r, err)
				return
			}
			items = append(items, b)
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
		type hit struct {
			x   *store.SCIMResource
			doc map[string]any
		}
		var hits []hit
		// A filter on groups needs every candidate's groups; otherwise
		// only the page's are read, below.
		var groups map[string][]store.SCIMGroupRef
		if rt == userType && strings.Contains(strings.ToLower(q.filterText), "groups") {
			if groups, err = h.groupsOf(ctx, rt, xs); err != nil {
				h.internal(w, r, err)
				return
			}
		}
		for i := range xs {
			d, err := render(rt, &xs[i], base, groups[xs[i].ID])
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
			hits = append(hits, hit{&xs[i], d})
		}
		if q.sortBy != nil && !byName {
			sort.SliceStable(hits, sortLess(rt, *q.sortBy, q.descending, func(i int) map[string]any { return hits[i].doc }))
		}
		total = len(hits)
		from := min(q.start-1, len(hits))
		hits = hits[from:min(from+q.count, len(hits))]
		if groups == nil {
			page := make([]store.SCIMResource, len(hits))
			for i, x := range hits {
				page[i] = *x.x
			}
			if groups, err = h.groupsOf(ctx, rt, page); err != nil {
				h.internal(w, r, err)
				return
			}
			for i := range hits {
				if gs := groups[hits[i].x.ID]; len(gs) > 0 {
					if hits[i].doc, err = render(rt, hits[i].x, base, gs); err != nil {
						h.internal(w, r, err)
						return
					}
				}
			}
		}
		noteRead(ctx, rt)
		for _, x := range hits {
			noteRead(ctx, rt, x.x)
		}
		items = make([][]byte, 0, len(hits))
		for _, x := range hits {
			b, err := h.renderItem(rt, x.x, x.doc, base, q, plain, groups[x.x.ID])
			if err != nil {
				h.internal(w, r, err)
				return
			}
			items = append(items, b)
		}
	}
	writeList(w, total, q.start, items)
}

// renderItem is one resource of a list response as JSON: straight from
// the stored document when nothing is projected, else through project.
// doc, when not nil, is render's result already at hand.
func (h *Handler) renderItem(rt *resourceType, x *store.SCIMResource, doc map[string]any, base string, q query, plain bool, groups []store.SCIMGroupRef) ([]byte, error) {
	if plain {
		if b, ok := renderJSON(rt, x, base, groups); ok {
			return b, nil
		}
	}
	if doc == nil {
		var err error
		if doc, err = render(rt, x, base, groups); err != nil {
			return nil, err
		}
	}
	return json.Marshal(project(rt, doc, q.attrs, q.excluded))
}

// writeList writes a ListResponse of JSON resources.
func writeList(w http.ResponseWriter, total, start int, items [][]byte) {
	n := 160
	for _, b := range items {
		n += len(b) + 1
	}
	b := make([]byte, 0, n)
	b = append(b, `{"schemas":["`+URNList+`"],"totalResults":`...)
	b = strconv.AppendInt(b, int64(total), 10)
	b = append(b, `,"itemsPerPage":`...)
	b = strconv.AppendInt(b, int64(len(items)), 10)
	b = append(b, `,"startIndex":`...)
	b = strconv.AppendInt(b, int64(start), 10)
	b = append(b, `,"Resources":[`...)
	for i, it := range items {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, it...)
	}
	b = append(b, "]}"...)
	w.Header().Set("Content-Type", ContentType)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}

// sortLess orders by an attribute (RFC 7644 section 3.4.2.3): strings by
// the schema's case sensitivity, multi-valued by the primary value or the
// first; resources without the attribute last.
func sortLess(rt *resourceType, p attrPath, desc bool, doc func(i int) map[string]any) func(i, j int) bool {
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
	return func(i, j int) bool {
		a, aok := key(doc(i))
		b, bok := key(doc(j))
		if aok != bok {
			return aok
		}
		if desc {
			return a > b
		}
		return a < b
	}
}
