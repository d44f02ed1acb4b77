package scim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/tango-iga/tango/internal/scim/filter"
	"github.com/tango-iga/tango/internal/store"
)

type attrPath = filter.AttrPath

// normalize checks a resource document against its schemas and returns
// it in canonical form: attribute names as the schema spells them,
// values of the schema's type (Entra's "True" becomes true), extension
// attributes under their URN, a "schemas" list naming the schemas used.
// Read-only attributes (id, meta, groups), write-only ones (password) and
// attributes no schema defines are dropped: never stored.
func normalize(rt *resourceType, in map[string]any) (map[string]any, *Error) {
	out := map[string]any{}
	for k, v := range in {
		if strings.EqualFold(k, "schemas") {
			continue
		}
		if e := rt.extension(k); e != nil {
			m, ok := v.(map[string]any)
			if v == nil {
				continue
			}
			if !ok {
				return nil, errValue("%s: want an object", e.ID)
			}
			ext := map[string]any{}
			for sk, sv := range m {
				a := e.attr(sk)
				if a == nil {
					continue
				}
				if err := setNorm(ext, a, sv); err != nil {
					return nil, err
				}
			}
			if len(ext) > 0 {
				out[e.ID] = ext
			}
			continue
		}
		_, a := rt.lookupAttr("", k)
		if a == nil {
			// "urn:...:User:attr" keys name an attribute with its schema.
			if i := strings.LastIndexByte(k, ':'); i > 0 && strings.HasPrefix(strings.ToLower(k), "urn:") {
				ext, ea := rt.lookupAttr(k[:i], k[i+1:])
				if ea != nil {
					dst := out
					if ext != nil {
						m, _ := out[ext.ID].(map[string]any)
						if m == nil {
							m = map[string]any{}
							out[ext.ID] = m
						}
						dst = m
					}
					if err := setNorm(dst, ea, v); err != nil {
						return nil, err
					}
				}
			}
			continue
		}
		if err := setNorm(out, a, v); err != nil {
			return nil, err
		}
	}
	for _, e := range rt.Extensions {
		if m, ok := out[e.ID].(map[string]any); ok && len(m) == 0 {
			delete(out, e.ID)
		}
	}
	for _, a := range rt.Schema.Attrs {
		if a.Required {
			if s, _ := out[a.Name].(string); strings.TrimSpace(s) == "" {
				return nil, errValue("%s is required", a.Name)
			}
		}
	}
	schemas := []any{rt.Schema.ID}
	for _, e := range rt.Extensions {
		if _, ok := out[e.ID]; ok {
			schemas = append(schemas, e.ID)
		}
	}
	out["schemas"] = schemas
	return out, nil
}

// setNorm stores the coerced value of a under its canonical name, or
// removes it for null/empty values; read-only and write-only attributes
// are dropped.
func setNorm(dst map[string]any, a *Attr, v any) *Error {
	if a.Mutability == mReadOnly || a.Mutability == mWriteOnly {
		return nil
	}
	cv, err := coerce(a, v)
	if err != nil {
		return err
	}
	if cv == nil {
		delete(dst, a.Name)
		return nil
	}
	dst[a.Name] = cv
	return nil
}

// coerce converts a JSON value to the attribute's type; nil means absent.
func coerce(a *Attr, v any) (any, *Error) {
	if v == nil {
		return nil, nil
	}
	if a.Multi {
		arr, ok := v.([]any)
		if !ok {
			arr = []any{v}
		}
		one := *a
		one.Multi = false
		var out []any
		primary := -1
		for _, e := range arr {
			cv, err := coerce(&one, e)
			if err != nil {
				return nil, err
			}
			if cv == nil {
				continue
			}
			if m, ok := cv.(map[string]any); ok && m["primary"] == true {
				if primary >= 0 {
					// At most one primary value: the last one given wins.
					delete(out[primary].(map[string]any), "primary")
				}
				primary = len(out)
			}
			if !containsValue(out, cv) {
				out = append(out, cv)
			}
		}
		if len(out) == 0 {
			return nil, nil
		}
		return out, nil
	}
	switch a.Type {
	case tComplex:
		m, ok := v.(map[string]any)
		if !ok {
			// manager: "id" as sent by Entra, for {"value": "id"}
			if s, isStr := v.(string); isStr && findAttr(a.Sub, "value") != nil {
				if s == "" {
					return nil, nil
				}
				return map[string]any{"value": s}, nil
			}
			return nil, errValue("%s: want an object", a.Name)
		}
		out := map[string]any{}
		for k, sv := range m {
			s := findAttr(a.Sub, k)
			if s == nil {
				continue
			}
			if err := setNorm(out, s, sv); err != nil {
				return nil, errValue("%s.%s", a.Name, err.Detail)
			}
		}
		if len(out) == 0 {
			return nil, nil
		}
		return out, nil
	case tBool:
		switch x := v.(type) {
		case bool:
			return x, nil
		case string:
			b, err := strconv.ParseBool(strings.ToLower(strings.TrimSpace(x)))
			if err != nil {
				return nil, errValue("%s: %q is not a boolean", a.Name, x)
			}
			return b, nil
		}
		return nil, errValue("%s: want a boolean", a.Name)
	default:
		switch x := v.(type) {
		case string:
			if x == "" {
				return nil, nil
			}
			if a.Type == tDateTime {
				if _, err := time.Parse(time.RFC3339, x); err != nil {
					return nil, errValue("%s: %q is not an RFC 3339 date-time", a.Name, x)
				}
			}
			return x, nil
		case float64, json.Number, bool:
			// Numbers and booleans sent for strings (employeeNumber: 1234).
			return fmt.Sprint(x), nil
		}
		return nil, errValue("%s: want a string", a.Name)
	}
}

func containsValue(list []any, v any) bool {
	b, _ := json.Marshal(v)
	for _, e := range list {
		if eb, _ := json.Marshal(e); string(eb) == string(b) {
			return true
		}
	}
	return false
}

// render is the resource as served: the stored document with id, meta
// and, for a User, the groups it is a direct member of (read-only
// "groups", RFC 7643 section 4.1.2; kept by the store from the Groups'
// members, never stored in the User).
func render(rt *resourceType, x *store.SCIMResource, base string, groups []store.SCIMGroupRef) (map[string]any, error) {
	var doc map[string]any
	if err := json.Unmarshal(x.Doc, &doc); err != nil {
		return nil, fmt.Errorf("scim: resource %s: %w", x.ID, err)
	}
	if rt == userType && len(groups) > 0 {
		gs := make([]any, len(groups))
		for i, g := range groups {
			m := map[string]any{"value": g.ID, "$ref": base + groupType.Endpoint + "/" + g.ID, "type": "direct"}
			if g.Display != "" {
				m["display"] = g.Display
			}
			gs[i] = m
		}
		doc["groups"] = gs
	}
	doc["id"] = x.ID
	doc["meta"] = map[string]any{
		"resourceType": rt.Name,
		"created":      x.Created.UTC().Format(time.RFC3339Nano),
		"lastModified": x.Modified.UTC().Format(time.RFC3339Nano),
		"location":     base + rt.Endpoint + "/" + x.ID,
		"version":      etag(x.Version),
	}
	return doc, nil
}

// renderJSON is the JSON of render(rt, x, base, groups) without projection,
// made without decoding the stored document: the stored object (written
// by normalize, so it has neither id nor meta) with id and meta appended.
// It reports false for a stored document that is not a JSON object.
func renderJSON(rt *resourceType, x *store.SCIMResource, base string, groups []store.SCIMGroupRef) ([]byte, bool) {
	doc := bytes.TrimSpace(x.Doc)
	if len(doc) < 2 || doc[0] != '{' || doc[len(doc)-1] != '}' {
		return nil, false
	}
	b := make([]byte, 0, len(doc)+256+len(base))
	b = append(b, doc[:len(doc)-1]...)
	if len(bytes.TrimSpace(doc[1:len(doc)-1])) > 0 {
		b = append(b, ',')
	}
	if rt == userType && len(groups) > 0 {
		b = append(b, `"groups":[`...)
		for i, g := range groups {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"$ref":`...)
			b = appendJSONString(b, base+groupType.Endpoint+"/"+g.ID)
			if g.Display != "" {
				b = append(b, `,"display":`...)
				b = appendJSONString(b, g.Display)
			}
			b = append(b, `,"type":"direct","value":`...)
			b = appendJSONString(b, g.ID)
			b = append(b, '}')
		}
		b = append(b, "],"...)
	}
	b = append(b, `"id":`...)
	b = appendJSONString(b, x.ID)
	b = append(b, `,"meta":{"created":`...)
	b = appendJSONString(b, x.Created.UTC().Format(time.RFC3339Nano))
	b = append(b, `,"lastModified":`...)
	b = appendJSONString(b, x.Modified.UTC().Format(time.RFC3339Nano))
	b = append(b, `,"location":`...)
	b = appendJSONString(b, base+rt.Endpoint+"/"+x.ID)
	b = append(b, `,"resourceType":`...)
	b = appendJSONString(b, rt.Name)
	b = append(b, `,"version":`...)
	b = appendJSONString(b, etag(x.Version))
	return append(b, "}}"...), true
}

// appendJSONString appends s as a JSON string.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s)
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

func etag(v int64) string { return `W/"` + strconv.FormatInt(v, 10) + `"` }

// project applies attributes / excludedAttributes (RFC 7644 section
// 3.4.2.5): id and schemas are always returned. A path with a value filter
// (emails[type eq "work"], emails[type eq "work"].value) names the values
// of a complex attribute that match it: attributes returns only those,
// excludedAttributes leaves them (or their sub-attribute) out.
func project(rt *resourceType, doc map[string]any, attrs, excluded []filter.Path) map[string]any {
	if len(attrs) > 0 {
		out := map[string]any{"id": doc["id"], "schemas": doc["schemas"]}
		for _, p := range attrs {
			copyPath(rt, doc, out, p)
		}
		return out
	}
	for _, fp := range excluded {
		p := fp.Attr
		ext, a := rt.lookupAttr(p.URN, p.Name)
		if a == nil {
			if e := rt.extension(p.URN + ":" + p.Name); e != nil && p.Sub == "" && fp.Filter == nil {
				delete(doc, e.ID)
			}
			continue
		}
		if a.Returned == rAlways {
			continue
		}
		src := doc
		if ext != nil {
			src, _ = doc[ext.ID].(map[string]any)
			if src == nil {
				continue
			}
		}
		if fp.Filter != nil {
			excludeValues(src, a, fp)
			continue
		}
		if p.Sub == "" {
			delete(src, a.Name)
			continue
		}
		for _, m := range complexValues(src[a.Name]) {
			for k := range m {
				if strings.EqualFold(k, p.Sub) {
					delete(m, k)
				}
			}
		}
	}
	return doc
}

// matchValue reports whether one value of the complex attribute a
// matches the value filter f.
func matchValue(a *Attr, f filter.Expr, v map[string]any) bool {
	ok, err := filter.Match(filter.ValuePath{Attr: attrPath{Name: a.Name}, Filter: f},
		map[string]any{a.Name: v}, func(p attrPath) bool {
			if s := findAttr(a.Sub, p.Sub); s != nil {
				return s.CaseExact
			}
			return false
		})
	return err == nil && ok
}

// excludeValues drops from src the values of a that match fp's filter
// (or, with a sub-attribute, that sub-attribute of them).
func excludeValues(src map[string]any, a *Attr, fp filter.Path) {
	if a.Type != tComplex {
		return
	}
	var kept []any
	for _, m := range complexValues(src[a.Name]) {
		if !matchValue(a, fp.Filter, m) {
			kept = append(kept, m)
			continue
		}
		if fp.Attr.Sub != "" {
			for k := range m {
				if strings.EqualFold(k, fp.Attr.Sub) {
					delete(m, k)
				}
			}
			if len(m) > 0 {
				kept = append(kept, m)
			}
		}
	}
	switch {
	case len(kept) == 0:
		delete(src, a.Name)
	case a.Multi:
		src[a.Name] = kept
	default:
		src[a.Name] = kept[0]
	}
}

// copyValues copies to dst the values of a in v that match fp's filter
// (or, with a sub-attribute, that sub-attribute of them).
func copyValues(dst map[string]any, a *Attr, v any, fp filter.Path) {
	if a.Type != tComplex {
		return
	}
	var s *Attr
	if fp.Attr.Sub != "" {
		if s = findAttr(a.Sub, fp.Attr.Sub); s == nil {
			return
		}
	}
	have, _ := dst[a.Name].([]any)
	for _, m := range complexValues(v) {
		if !matchValue(a, fp.Filter, m) {
			continue
		}
		var pick any = m
		if s != nil {
			sv, ok := m[s.Name]
			if !ok {
				continue
			}
			pick = map[string]any{s.Name: sv}
		}
		if !containsValue(have, pick) {
			have = append(have, pick)
		}
	}
	switch {
	case len(have) == 0:
	case a.Multi:
		dst[a.Name] = have
	default:
		dst[a.Name] = have[0]
	}
}

func copyPath(rt *resourceType, doc, out map[string]any, fp filter.Path) {
	p := fp.Attr
	ext, a := rt.lookupAttr(p.URN, p.Name)
	if a == nil {
		if e := rt.extension(p.URN + ":" + p.Name); e != nil && p.Sub == "" && fp.Filter == nil && doc[e.ID] != nil {
			out[e.ID] = doc[e.ID]
		}
		return
	}
	src, dst := doc, out
	if ext != nil {
		src, _ = doc[ext.ID].(map[string]any)
		if src == nil {
			return
		}
		d, _ := out[ext.ID].(map[string]any)
		if d == nil {
			d = map[string]any{}
			out[ext.ID] = d
		}
		dst = d
	}
	v, ok := src[a.Name]
	if !ok {
		return
	}
	if fp.Filter != nil {
		copyValues(dst, a, v, fp)
		return
	}
	if p.Sub == "" {
		dst[a.Name] = v
		return
	}
	s := findAttr(a.Sub, p.Sub)
	if s == nil {
		return
	}
	if a.Multi {
		var have []any
		if cur, ok := dst[a.Name].([]any); ok {
			have = cur
		}
		for i, m := range complexValues(v) {
			if i >= len(have) {
				have = append(have, map[string]any{})
			}
			if sv, ok := m[s.Name]; ok {
				have[i].(map[string]any)[s.Name] = sv
			}
		}
		dst[a.Name] = have
		return
	}
	m, _ := v.(map[string]any)
	if sv, ok := m[s.Name]; ok {
		d, _ := dst[a.Name].(map[string]any)
		if d == nil {
			d = map[string]any{}
			dst[a.Name] = d
		}
		d[s.Name] = sv
	}
}

func complexValues(v any) []map[string]any {
	switch x := v.(type) {
	case map[string]any:
		return []map[string]any{x}
	case []any:
		out := make([]map[string]any, 0, len(x))
		for _, e := range x {
			if m, ok := e.(map[string]any); ok {
				out = append(out, m)
			}
		}
		return out
	}
	return nil
}

// parseAttrList reads an attributes / excludedAttributes parameter: a
// comma-separated list of attribute paths, each optionally with a value
// filter (emails[type eq "work"].value; commas inside its brackets or
// quotes do not separate), parsed as ParsePathTolerant does.
func parseAttrList(s string) ([]filter.Path, *Error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var out []filter.Path
	for _, part := range splitAttrList(s) {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		p, err := filter.ParsePathTolerant(part)
		if err != nil {
			return nil, &Error{Status: 400, ScimType: "invalidValue", Detail: fmt.Sprintf("attribute list: %q is not an attribute path", part)}
		}
		out = append(out, p)
	}
	return out, nil
}

// splitAttrList splits at the commas outside brackets and quoted strings.
func splitAttrList(s string) []string {
	var parts []string
	depth, quoted, start := 0, false, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case quoted && c == '\\':
			i++
		case c == '"':
			quoted = !quoted
		case quoted:
		case c == '[':
			depth++
		case c == ']':
			depth--
		case c == ',' && depth <= 0:
			parts = append(parts, s[start:i])
			start = i + 1
		}
	}
	return append(parts, s[start:])
}

func getStr(m map[string]any, k string) string {
	s, _ := m[k].(string)
	return s
}

func getMap(m map[string]any, k string) map[string]any {
	x, _ := m[k].(map[string]any)
	return x
}

// userActive is the user's "active" (true when absent).
func userActive(doc map[string]any) bool {
	b, ok := doc["active"].(bool)
	return !ok || b
}

// toPerson maps a normalized User document to the person it feeds; the
// manager reference is left for the caller to resolve.
func toPerson(doc map[string]any) (p store.Person, managerRef string) {
	name := getMap(doc, "name")
	ent := getMap(doc, URNEnterprise)
	p.DisplayName = getStr(doc, "displayName")
	if p.DisplayName == "" {
		p.DisplayName = getStr(name, "formatted")
	}
	if p.DisplayName == "" {
		p.DisplayName = strings.TrimSpace(getStr(name, "givenName") + " " + getStr(name, "familyName"))
	}
	userName := getStr(doc, "userName")
	if p.DisplayName == "" {
		p.DisplayName = userName
	}
	emails := complexValues(doc["emails"])
	for _, e := range emails {
		if e["primary"] == true {
			p.Email = getStr(e, "value")
		}
	}
	if p.Email == "" {
		for _, e := range emails {
			if getStr(e, "type") == "work" || p.Email == "" {
				p.Email = getStr(e, "value")
			}
		}
	}
	if p.Email == "" && strings.Contains(userName, "@") {
		p.Email = userName
	}
	p.Title = getStr(doc, "title")
	p.EmploymentType = getStr(doc, "userType")
	p.Department = getStr(ent, "department")
	p.BusinessUnit = getStr(ent, "division")
	managerRef = getStr(getMap(ent, "manager"), "value")
	attrs := map[string]string{"user_name": userName}
	for k, v := range map[string]string{
		"given_name": getStr(name, "givenName"), "family_name": getStr(name, "familyName"),
		"external_id": getStr(doc, "externalId"), "employee_number": getStr(ent, "employeeNumber"),
		"cost_center": getStr(ent, "costCenter"), "organization": getStr(ent, "organization"),
	} {
		if v != "" {
			attrs[k] = v
		}
	}
	p.Attributes = attrs
	return p, managerRef
}
