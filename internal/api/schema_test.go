package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
)

// oasDoc is openapi.json decoded for the tests: every number a json.Number.
type oasDoc map[string]any

func parseDoc(t *testing.T, b []byte) oasDoc {
	t.Helper()
	v, err := decodeJSON(b)
	if err != nil {
		t.Fatalf("openapi.json does not parse: %v", err)
	}
	d, ok := v.(map[string]any)
	if !ok {
		t.Fatal("openapi.json is not an object")
	}
	return d
}

func decodeJSON(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, fmt.Errorf("more than one JSON value")
	}
	return v, nil
}

// resolve follows a local "$ref" ("#/components/…") to its target; other
// objects are returned as they are.
func (d oasDoc) resolve(v any) (map[string]any, error) {
	for range 10 {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("not an object: %v", v)
		}
		ref, ok := m["$ref"].(string)
		if !ok {
			return m, nil
		}
		var cur any = map[string]any(d)
		for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
			next, ok := cur.(map[string]any)[part]
			if !ok {
				return nil, fmt.Errorf("dangling $ref %s", ref)
			}
			cur = next
		}
		v = cur
	}
	return nil, fmt.Errorf("$ref chain too long")
}

// The schema keywords the validator checks, and those it reads as notes.
var (
	checkedKeywords = []string{"$ref", "type", "nullable", "enum", "format", "properties", "required",
		"additionalProperties", "items", "allOf", "oneOf", "pattern", "minimum", "maximum"}
	noteKeywords = []string{"description", "example", "title", "default", "readOnly", "deprecated"}
)

// validate checks a JSON value (decoded with UseNumber) against an OpenAPI
// 3.0 schema, and returns every mismatch, each naming where it is.
//
// It is stricter than OpenAPI in one way, on purpose: an object schema
// without additionalProperties is closed. A response field the document
// does not describe is an error, so the document cannot fall behind the
// code. Say "additionalProperties": true (or a schema) for open maps.
//
// It supports the keywords in checkedKeywords; any other keyword (except
// the notes in noteKeywords) is reported, so that nothing is silently
// unchecked: extend the validator when the document needs one.
func (d oasDoc) validate(v any, schema any, at string) []string {
	return d.check(v, schema, at, false)
}

func (d oasDoc) check(v any, schema any, at string, open bool) (errs []string) {
	fail := func(format string, args ...any) {
		errs = append(errs, at+": "+fmt.Sprintf(format, args...))
	}
	s, err := d.resolve(schema)
	if err != nil {
		fail("%v", err)
		return errs
	}
	for k := range s {
		if !slices.Contains(checkedKeywords, k) && !slices.Contains(noteKeywords, k) {
			fail("schema keyword %q is not supported by the test's validator (schema_test.go): extend it or use another keyword", k)
		}
	}
	if v == nil {
		if s["nullable"] != true {
			fail("null, but the schema is not nullable")
		}
		return errs
	}
	if all, ok := s["allOf"].([]any); ok {
		for _, sub := range all {
			errs = append(errs, d.check(v, sub, at, true)...)
		}
	}
	if one, ok := s["oneOf"].([]any); ok {
		n := 0
		for _, sub := range one {
			if len(d.check(v, sub, at, open)) == 0 {
				n++
			}
		}
		if n != 1 {
			fail("matches %d of the %d oneOf schemas, want exactly 1", n, len(one))
		}
	}
	if typ, ok := s["type"].(string); ok {
		if !hasType(v, typ) {
			fail("%s, want %s", describe(v), typ)
			return errs
		}
	}
	if enum, ok := s["enum"].([]any); ok {
		found := false
		for _, e := range enum {
			if fmt.Sprint(e) == fmt.Sprint(v) {
				found = true
			}
		}
		if !found {
			fail("%s is not one of %v", describe(v), enum)
		}
	}
	if str, ok := v.(string); ok {
		switch s["format"] {
		case "date-time":
			if _, err := time.Parse(time.RFC3339Nano, str); err != nil {
				fail("%q is not a date-time (RFC 3339)", str)
			} else if strings.HasPrefix(str, "0001-01-01") {
				fail("%q is the zero time: leave the field out instead", str)
			}
		case "date":
			if _, err := time.Parse(time.DateOnly, str); err != nil {
				fail("%q is not a date (YYYY-MM-DD)", str)
			}
		}
		if p, ok := s["pattern"].(string); ok {
			re, err := regexp.Compile(p)
			if err != nil {
				fail("pattern %q: %v", p, err)
			} else if !re.MatchString(str) {
				fail("%q does not match %s", str, p)
			}
		}
	}
	if n, ok := v.(json.Number); ok {
		f, _ := n.Float64()
		if m, ok := s["minimum"].(json.Number); ok {
			if lo, _ := m.Float64(); f < lo {
				fail("%s is below the minimum %s", n, m)
			}
		}
		if m, ok := s["maximum"].(json.Number); ok {
			if hi, _ := m.Float64(); f > hi {
				fail("%s is above the maximum %s", n, m)
			}
		}
	}
	if arr, ok := v.([]any); ok {
		if items, ok := s["items"]; ok {
			for i, e := range arr {
				errs = append(errs, d.check(e, items, fmt.Sprintf("%s[%d]", at, i), false)...)
			}
		}
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return errs
	}
	props, _ := s["properties"].(map[string]any)
	if req, ok := s["required"].([]any); ok {
		for _, r := range req {
			if _, ok := obj[r.(string)]; !ok {
				fail("required field %q is missing", r)
			}
		}
	}
	names := make([]string, 0, len(obj))
	for k := range obj {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if p, ok := props[k]; ok {
			errs = append(errs, d.check(obj[k], p, at+"."+k, false)...)
			continue
		}
		switch ap := s["additionalProperties"].(type) {
		case bool:
			if !ap {
				fail("field %q is not in the schema", k)
			}
		case map[string]any:
			errs = append(errs, d.check(obj[k], ap, at+"."+k, false)...)
		case nil:
			if !open && !d.declares(s, k) {
				fail("field %q is not in the schema (add it to the schema's properties in openapi.json)", k)
			}
		}
	}
	return errs
}

// declares reports whether an object schema, with its allOf parts, names
// a property or allows any.
func (d oasDoc) declares(schema any, name string) bool {
	s, err := d.resolve(schema)
	if err != nil {
		return false
	}
	if props, ok := s["properties"].(map[string]any); ok {
		if _, ok := props[name]; ok {
			return true
		}
	}
	if ap, ok := s["additionalProperties"]; ok && ap != false {
		return true
	}
	if all, ok := s["allOf"].([]any); ok {
		for _, sub := range all {
			if d.declares(sub, name) {
				return true
			}
		}
	}
	return false
}

func hasType(v any, typ string) bool {
	switch typ {
	case "object":
		_, ok := v.(map[string]any)
		return ok
	case "array":
		_, ok := v.([]any)
		return ok
	case "string":
		_, ok := v.(string)
		return ok
	case "boolean":
		_, ok := v.(bool)
		return ok
	case "number":
		_, ok := v.(json.Number)
		return ok
	case "integer":
		n, ok := v.(json.Number)
		if !ok {
			return false
		}
		_, err := n.Int64()
		return err == nil
	}
	return false
}

func describe(v any) string {
	switch x := v.(type) {
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	case string:
		if len(x) > 60 {
			x = x[:60] + "…"
		}
		return fmt.Sprintf("the string %q", x)
	case json.Number:
		return "the number " + x.String()
	case bool:
		return fmt.Sprintf("the boolean %v", x)
	}
	return fmt.Sprintf("%v", v)
}

// TestSchemaValidator shows that the validator catches what the route test
// relies on it to catch.
func TestSchemaValidator(t *testing.T) {
	doc := parseDoc(t, []byte(`{"components": {"schemas": {
	  "Thing": {"type": "object", "required": ["id", "at"], "properties": {
	    "id": {"type": "integer"}, "at": {"type": "string", "format": "date-time"},
	    "state": {"type": "string", "enum": ["open", "closed"]}, "closed_at": {"type": "string", "format": "date-time", "nullable": true},
	    "tags": {"type": "array", "items": {"type": "string"}}, "attrs": {"type": "object", "additionalProperties": {"type": "string"}}}},
	  "Detail": {"allOf": [{"$ref": "#/components/schemas/Thing"}, {"type": "object", "properties": {"more": {"type": "boolean"}}}]},
	  "Odd": {"type": "string", "anyOf": []}
	}}}`))
	thing := map[string]any{"$ref": "#/components/schemas/Thing"}
	detail := map[string]any{"$ref": "#/components/schemas/Detail"}
	for _, c := range []struct {
		body   string
		schema any
		want   string // "" = valid
	}{
		{`{"id": 1, "at": "2026-01-02T03:04:05Z", "state": "open", "closed_at": null, "tags": ["a"], "attrs": {"k": "v"}}`, thing, ""},
		{`{"id": 1, "at": "2026-01-02T03:04:05Z", "more": true}`, detail, ""},
		{`{"id": 1, "at": "2026-01-02T03:04:05Z", "extra": 1}`, thing, `field "extra" is not in the schema`},
		{`{"id": 1, "at": "2026-01-02T03:04:05Z", "extra": 1}`, detail, `field "extra" is not in the schema`},
		{`{"id": "1", "at": "2026-01-02T03:04:05Z"}`, thing, `$.id: the string "1", want integer`},
		{`{"id": 1.5, "at": "2026-01-02T03:04:05Z"}`, thing, `want integer`},
		{`{"id": 1}`, thing, `required field "at" is missing`},
		{`{"id": 1, "at": "0001-01-01T00:00:00Z"}`, thing, `zero time`},
		{`{"id": 1, "at": "yesterday"}`, thing, `not a date-time`},
		{`{"id": 1, "at": "2026-01-02T03:04:05Z", "state": "lost"}`, thing, `is not one of`},
		{`{"id": 1, "at": "2026-01-02T03:04:05Z", "tags": null}`, thing, `$.tags: null, but the schema is not nullable`},
		{`{"id": 1, "at": "2026-01-02T03:04:05Z", "tags": [1]}`, thing, `$.tags[0]: the number 1, want string`},
		{`{"id": 1, "at": "2026-01-02T03:04:05Z", "attrs": {"k": 2}}`, thing, `$.attrs.k`},
		{`"x"`, map[string]any{"$ref": "#/components/schemas/Odd"}, `"anyOf" is not supported`},
		{`{}`, map[string]any{"$ref": "#/components/schemas/Nope"}, `dangling $ref`},
	} {
		v, err := decodeJSON([]byte(c.body))
		if err != nil {
			t.Fatal(err)
		}
		errs := strings.Join(doc.validate(v, c.schema, "$"), "\n")
		switch {
		case c.want == "" && errs != "":
			t.Errorf("%s: %s", c.body, errs)
		case c.want != "" && !strings.Contains(errs, c.want):
			t.Errorf("%s: errors %q, want one with %q", c.body, errs, c.want)
		}
	}
}
