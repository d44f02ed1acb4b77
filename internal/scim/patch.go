package scim

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/tango-iga/tango/internal/scim/filter"
)

// PatchOp is one operation of a PATCH request.
type PatchOp struct {
	Op    string          `json:"op"`
	Path  string          `json:"path,omitempty"`
	Value json.RawMessage `json:"value,omitempty"`
}

// PatchRequest is the body of a PATCH request.
type PatchRequest struct {
	Schemas    []string  `json:"schemas"`
	Operations []PatchOp `json:"Operations"`
}

// MaxPatchOps bounds the operations of one PATCH request.
const MaxPatchOps = 1000

// ParsePatch reads a PATCH body: ops are case-insensitive (Entra sends
// "Replace"), paths are parsed, values decoded. It never panics.
func ParsePatch(body []byte) ([]parsedOp, *Error) {
	var req PatchRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&req); err != nil {
		return nil, errSyntax("PATCH body: %v", err)
	}
	if len(req.Operations) == 0 {
		return nil, errSyntax("PATCH body: Operations is empty")
	}
	if len(req.Operations) > MaxPatchOps {
		return nil, errSyntax("PATCH body: more than %d operations", MaxPatchOps)
	}
	ok := false
	for _, s := range req.Schemas {
		ok = ok || strings.EqualFold(s, URNPatch)
	}
	if !ok && len(req.Schemas) > 0 {
		return nil, errSyntax("PATCH body: schemas must be [%q]", URNPatch)
	}
	out := make([]parsedOp, 0, len(req.Operations))
	for _, o := range req.Operations {
		p := parsedOp{op: strings.ToLower(strings.TrimSpace(o.Op))}
		switch p.op {
		case "add", "replace", "remove":
		default:
			return nil, errSyntax("PATCH op %q: want add, replace or remove", o.Op)
		}
		if strings.TrimSpace(o.Path) != "" {
			path, err := filter.ParsePathTolerant(strings.TrimSpace(o.Path))
			if err != nil {
				fe, _ := err.(*filter.Error)
				st := "invalidPath"
				if fe != nil && fe.ScimType != "" {
					st = fe.ScimType
				}
				return nil, &Error{Status: 400, ScimType: st, Detail: err.Error()}
			}
			p.path = &path
		}
		if len(o.Value) > 0 {
			d := json.NewDecoder(bytes.NewReader(o.Value))
			d.UseNumber()
			if err := d.Decode(&p.value); err != nil {
				return nil, errSyntax("PATCH value: %v", err)
			}
			p.value = numbersToFloat(p.value)
			p.hasValue = true
		}
		if p.op != "remove" && !p.hasValue {
			return nil, errValue("PATCH %s needs a value", p.op)
		}
		if p.op == "remove" && p.path == nil {
			return nil, errNoTarget("PATCH remove needs a path")
		}
		out = append(out, p)
	}
	return out, nil
}

func numbersToFloat(v any) any {
	switch x := v.(type) {
	case json.Number:
		// Keep the text: attributes are strings or booleans.
		return x
	case map[string]any:
		for k, e := range x {
			x[k] = numbersToFloat(e)
		}
	case []any:
		for i, e := range x {
			x[i] = numbersToFloat(e)
		}
	}
	return v
}

type parsedOp struct {
	op       string
	path     *filter.Path
	value    any
	hasValue bool
}

// applyPatch applies ops to a normalized document (changing it) and
// returns the normalized result.
func applyPatch(rt *resourceType, doc map[string]any, ops []parsedOp) (map[string]any, *Error) {
	for _, o := range ops {
		if o.path == nil {
			m, ok := o.value.(map[string]any)
			if !ok {
				return nil, errValue("PATCH %s without a path needs an object value", o.op)
			}
			for k, v := range m {
				if strings.EqualFold(k, "schemas") {
					continue
				}
				if e := rt.extension(k); e != nil {
					sm, ok := v.(map[string]any)
					if !ok {
						return nil, errValue("%s: want an object", e.ID)
					}
					for sk, sv := range sm {
						if e.attr(sk) == nil {
							continue
						}
						if err := applyOne(rt, doc, o.op, filter.Path{Attr: attrPath{URN: e.ID, Name: sk}}, sv, true); err != nil {
							return nil, err
						}
					}
					continue
				}
				p, err := filter.ParsePath(k)
				if err != nil {
					continue // not an attribute path: ignored like any unknown attribute
				}
				if err := applyOne(rt, doc, o.op, p, v, true); err != nil {
					if err.ScimType == "invalidPath" {
						continue
					}
					return nil, err
				}
			}
			continue
		}
		if err := applyOne(rt, doc, o.op, *o.path, o.value, false); err != nil {
			return nil, err
		}
	}
	return normalize(rt, doc)
}

// applyOne applies one operation at a path.
func applyOne(rt *resourceType, doc map[string]any, op string, p filter.Path, value any, pathless bool) *Error {
	ext, a := rt.lookupAttr(p.Attr.URN, p.Attr.Name)
	if a == nil {
		// A whole extension: "urn:...:enterprise:2.0:User".
		if e := rt.extension(p.Attr.URN + ":" + p.Attr.Name); e != nil && p.Attr.Sub == "" && p.Filter == nil {
			if op == "remove" {
				delete(doc, e.ID)
				return nil
			}
			m, ok := value.(map[string]any)
			if !ok {
				return errValue("%s: want an object", e.ID)
			}
			for k, v := range m {
				if e.attr(k) == nil {
					continue
				}
				if err := applyOne(rt, doc, op, filter.Path{Attr: attrPath{URN: e.ID, Name: k}}, v, pathless); err != nil {
					return err
				}
			}
			return nil
		}
		return errPath("no attribute %q in %s", p.String(), rt.Name)
	}
	if a.Mutability == mReadOnly {
		if strings.EqualFold(a.Name, "id") || strings.EqualFold(a.Name, "meta") || strings.EqualFold(a.Name, "groups") {
			if pathless {
				return nil // clients echo read-only attributes back; ignore them
			}
		}
		return errMutability("%s is read-only", a.Name)
	}
	var s *Attr
	if p.Attr.Sub != "" {
		if a.Type != tComplex {
			return errPath("%s has no sub-attributes", a.Name)
		}
		if s = findAttr(a.Sub, p.Attr.Sub); s == nil {
			return errPath("no attribute %q in %s", p.Attr.Sub, a.Name)
		}
		if s.Mutability == mReadOnly {
			return errMutability("%s.%s is read-only", a.Name, s.Name)
		}
	}
	if p.Filter != nil && !a.Multi {
		return errPath("%s is not multi-valued: no value filter", a.Name)
	}
	container := doc
	if ext != nil {
		m, _ := doc[ext.ID].(map[string]any)
		if m == nil {
			if op == "remove" {
				return nil
			}
			m = map[string]any{}
			doc[ext.ID] = m
		}
		container = m
	}
	cur, has := container[a.Name]
	// Coerce the value to the target's type now, for precise errors.
	var val any
	if op != "remove" || value != nil {
		target := a
		if s != nil {
			target = s
		} else if p.Filter != nil {
			one := *a
			one.Multi = false
			target = &one
		}
		v, err := coerce(target, value)
		if err != nil {
			return err
		}
		val = v
	}

	// attr[filter] and attr[filter].sub
	if p.Filter != nil {
		elems, _ := cur.([]any)
		matched := 0
		var kept []any
		for _, e := range elems {
			m, ok := e.(map[string]any)
			hit := false
			if ok {
				var err error
				hit, err = filter.Match(p.Filter, m, func(q attrPath) bool {
					sa := findAttr(a.Sub, q.Name)
					return sa != nil && sa.CaseExact
				})
				if err != nil {
					return &Error{Status: 400, ScimType: "invalidFilter", Detail: err.Error()}
				}
			}
			if !hit {
				kept = append(kept, e)
				continue
			}
			matched++
			switch {
			case op == "remove" && s == nil:
				continue // drop the value
			case op == "remove":
				delete(m, s.Name)
			case s != nil:
				if val == nil {
					delete(m, s.Name)
				} else {
					m[s.Name] = val
				}
			case op == "replace":
				if nm, ok := val.(map[string]any); ok {
					e = nm
				}
			default: // add: merge
				if nm, ok := val.(map[string]any); ok {
					for k, v := range nm {
						m[k] = v
					}
				}
			}
			kept = append(kept, e)
		}
		if matched == 0 && op != "remove" {
			// Entra adds emails[type eq "work"].value to a user without a
			// work email: create the value the equality filter describes.
			seed, ok := equalities(p.Filter)
			if !ok {
				return errNoTarget("no value of %s matches %s", a.Name, p.Filter)
			}
			if s != nil {
				if val != nil {
					seed[s.Name] = val
				}
			} else if nm, ok := val.(map[string]any); ok {
				for k, v := range nm {
					seed[k] = v
				}
			}
			kept = append(kept, seed)
		}
		if len(kept) == 0 {
			delete(container, a.Name)
		} else {
			container[a.Name] = kept
		}
		return nil
	}

	switch op {
	case "remove":
		if !has {
			return nil
		}
		if s != nil {
			for _, m := range complexValues(cur) {
				delete(m, s.Name)
			}
			return nil
		}
		if a.Multi && value != nil {
			// Entra: remove members listed in value.
			drop := complexValues(val)
			elems, _ := cur.([]any)
			var kept []any
			for _, e := range elems {
				m, _ := e.(map[string]any)
				gone := false
				for _, d := range drop {
					if m != nil && getStr(m, "value") != "" && getStr(m, "value") == getStr(d, "value") {
						gone = true
					}
				}
				if !gone {
					kept = append(kept, e)
				}
			}
			if len(kept) == 0 {
				delete(container, a.Name)
			} else {
				container[a.Name] = kept
			}
			return nil
		}
		delete(container, a.Name)
		return nil
	case "add", "replace":
		if s != nil {
			if a.Multi {
				elems := complexValues(cur)
				if len(elems) == 0 {
					if val != nil {
						container[a.Name] = []any{map[string]any{s.Name: val}}
					}
					return nil
				}
				for _, m := range elems {
					setOrDelete(m, s.Name, val)
				}
				return nil
			}
			m, _ := cur.(map[string]any)
			if m == nil {
				m = map[string]any{}
				container[a.Name] = m
			}
			setOrDelete(m, s.Name, val)
			return nil
		}
		if val == nil {
			if op == "replace" {
				delete(container, a.Name)
			}
			return nil
		}
		if a.Multi {
			if op == "replace" {
				container[a.Name] = val
				return nil
			}
			list, _ := cur.([]any)
			newVals := val.([]any)
			for _, nv := range newVals {
				if nm, ok := nv.(map[string]any); ok && nm["primary"] == true {
					for _, m := range complexValues(list) {
						delete(m, "primary")
					}
				}
				if !containsValue(list, nv) {
					list = append(list, nv)
				}
			}
			container[a.Name] = list
			return nil
		}
		if a.Type == tComplex {
			// Sub-attributes given replace or add; others stay.
			m, _ := cur.(map[string]any)
			if m == nil {
				m = map[string]any{}
			}
			for k, v := range val.(map[string]any) {
				m[k] = v
			}
			container[a.Name] = m
			return nil
		}
		container[a.Name] = val
		return nil
	}
	return errSyntax("PATCH op %q", op)
}

func setOrDelete(m map[string]any, k string, v any) {
	if v == nil {
		delete(m, k)
	} else {
		m[k] = v
	}
}

// equalities returns the sub-attribute values an equality filter (eq,
// possibly joined with and) fixes.
func equalities(e filter.Expr) (map[string]any, bool) {
	switch x := e.(type) {
	case filter.Compare:
		if x.Op != filter.OpEq || x.Path.Sub != "" || x.Path.URN != "" || x.Value == nil {
			return nil, false
		}
		return map[string]any{x.Path.Name: x.Value}, true
	case filter.And:
		l, ok := equalities(x.Left)
		if !ok {
			return nil, false
		}
		r, ok := equalities(x.Right)
		if !ok {
			return nil, false
		}
		for k, v := range r {
			l[k] = v
		}
		return l, true
	}
	return nil, false
}
