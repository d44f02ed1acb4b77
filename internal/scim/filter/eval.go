package filter

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"
)

// CaseExactFunc reports whether string values of the attribute at path are
// compared case-sensitively (the schema's "caseExact"). For comparisons
// inside a value filter such as emails[value eq "x"], path is the full
// path {URN: outer URN, Name: "emails", Sub: "value"}. URN and names are
// passed as written in the filter (URN may be empty or the core schema
// URN); implementations should compare them case-insensitively. A nil
// CaseExactFunc makes every comparison case-insensitive.
type CaseExactFunc func(path AttrPath) bool

const coreSchemaPrefix = "urn:ietf:params:scim:schemas:core:"

// Match reports whether resource satisfies e.
//
// resource is a decoded JSON object (map[string]any, []any, string,
// float64, bool, nil); int, int64 and json.Number are accepted as numbers.
// Attributes of a schema extension live under their URN key, e.g.
// resource["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"].
// A path qualified with a URN is looked up under that key; if there is no
// such key and the URN is a core schema URN
// (urn:ietf:params:scim:schemas:core:...), it is looked up at the top
// level. A bare extension URN addresses the whole extension object, so
// "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User pr" tests
// whether the resource has enterprise data. Attribute names match
// case-insensitively.
//
// Semantics (RFC 7644 section 3.4.2.2):
//   - A multi-valued attribute matches if any of its values matches; this
//     holds for "ne" too, so an absent attribute never matches "ne".
//     JSON null values count as absent.
//   - "attr eq null" matches when attr is not present, "attr ne null" when
//     it is.
//   - "pr" is false for null, "", [] and objects with no present value.
//   - A complex attribute compared without a sub-attribute ("emails co
//     x") compares its "value" sub-attribute.
//   - Strings compare case-insensitively unless schema says caseExact. If
//     both sides of eq/ne/gt/ge/lt/le parse as RFC 3339 date-times they
//     compare as instants; otherwise gt/ge/lt/le are lexicographic.
//   - Numbers compare numerically; booleans support only eq and ne.
//   - Values of a different JSON type than the comparison value never
//     match.
//
// Unsupported comparisons (gt on a boolean, co with a number, ...) return
// an *Error with ScimType invalidFilter and Pos -1.
func Match(e Expr, resource map[string]any, schema CaseExactFunc) (bool, error) {
	if err := validate(e); err != nil {
		return false, err
	}
	ev := evaluator{caseExact: schema}
	ok, err := ev.eval(e, resource, nil)
	if err != nil {
		return false, err
	}
	return ok, nil
}

// Validate checks that a (possibly hand-built) Expr is well formed: known
// operators, supported value types for each operator, non-empty names, and
// value filters that are not nested and use plain sub-attribute names.
// Every Expr returned by Parse is valid.
func Validate(e Expr) error {
	if err := validate(e); err != nil {
		return err
	}
	return nil
}

func evalErr(format string, args ...any) *Error {
	return &Error{ScimType: ScimTypeInvalidFilter, Pos: -1, Msg: fmt.Sprintf(format, args...)}
}

func validate(root Expr) *Error {
	type item struct {
		e         Expr
		inBracket bool
	}
	stack := []item{{root, false}}
	for len(stack) > 0 {
		it := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		switch x := it.e.(type) {
		case Compare:
			if err := validatePath(x.Path, it.inBracket); err != nil {
				return err
			}
			if !isCompareOp(x.Op) {
				return evalErr("unknown operator %q", x.Op)
			}
			switch x.Value.(type) {
			case nil, string, bool, float64, float32, int, int64, int32:
			default:
				return evalErr("unsupported comparison value type %T", x.Value)
			}
			if msg := checkOpValue(x.Op, x.Value); msg != "" {
				return evalErr("%s", msg)
			}
		case Present:
			if err := validatePath(x.Path, it.inBracket); err != nil {
				return err
			}
		case And:
			stack = append(stack, item{x.Left, it.inBracket}, item{x.Right, it.inBracket})
		case Or:
			stack = append(stack, item{x.Left, it.inBracket}, item{x.Right, it.inBracket})
		case Not:
			stack = append(stack, item{x.Expr, it.inBracket})
		case ValuePath:
			if it.inBracket {
				return evalErr("value filters cannot be nested")
			}
			if err := validatePath(x.Attr, false); err != nil {
				return err
			}
			if x.Attr.Sub != "" {
				return evalErr("value filter cannot follow a sub-attribute")
			}
			stack = append(stack, item{x.Filter, true})
		case nil:
			return evalErr("missing expression")
		default:
			return evalErr("unsupported expression type %T", x)
		}
	}
	return nil
}

func validatePath(p AttrPath, inBracket bool) *Error {
	if p.Name == "" {
		return evalErr("empty attribute name")
	}
	if inBracket && (p.URN != "" || p.Sub != "") {
		return evalErr("attribute %q inside a value filter must be a plain sub-attribute name", p.String())
	}
	return nil
}

type evaluator struct {
	caseExact CaseExactFunc
}

// eval evaluates e against obj. parent is nil at the top level; inside a
// value filter it is the path of the complex attribute whose value obj is.
func (ev *evaluator) eval(e Expr, obj map[string]any, parent *AttrPath) (bool, *Error) {
	switch x := e.(type) {
	case And:
		first, rest := spine(x)
		ok, err := ev.eval(first, obj, parent)
		for i := len(rest) - 1; ok && err == nil && i >= 0; i-- {
			ok, err = ev.eval(rest[i], obj, parent)
		}
		return ok && err == nil, err
	case Or:
		first, rest := spine(x)
		ok, err := ev.eval(first, obj, parent)
		for i := len(rest) - 1; !ok && err == nil && i >= 0; i-- {
			ok, err = ev.eval(rest[i], obj, parent)
		}
		return ok && err == nil, err
	case Not:
		ok, err := ev.eval(x.Expr, obj, parent)
		return !ok && err == nil, err
	case Present:
		for _, v := range values(obj, x.Path, parent) {
			if present(v) {
				return true, nil
			}
		}
		return false, nil
	case Compare:
		return ev.compare(x, obj, parent)
	case ValuePath:
		for _, v := range values(obj, x.Attr, parent) {
			m, ok := v.(map[string]any)
			if !ok {
				continue
			}
			attr := x.Attr
			ok, err := ev.eval(x.Filter, m, &attr)
			if err != nil || ok {
				return ok, err
			}
		}
		return false, nil
	}
	return false, evalErr("unsupported expression type %T", e)
}

func (ev *evaluator) compare(c Compare, obj map[string]any, parent *AttrPath) (bool, *Error) {
	vals := values(obj, c.Path, parent)
	if c.Value == nil {
		has := false
		for _, v := range vals {
			if present(v) {
				has = true
				break
			}
		}
		return has == (c.Op == OpNe), nil
	}
	full := c.Path
	if parent != nil {
		full = AttrPath{URN: parent.URN, Name: parent.Name, Sub: c.Path.Name}
	}
	exact := false
	if _, isStr := c.Value.(string); isStr && ev.caseExact != nil {
		exact = ev.caseExact(full)
	}
	for _, v := range vals {
		ok, err := compareValue(c.Op, v, c.Value, exact, full)
		if err != nil || ok {
			return ok, err
		}
	}
	return false, nil
}

// compareValue applies "attribute value v <op> comparison value x".
func compareValue(op string, v, x any, exact bool, path AttrPath) (bool, *Error) {
	if m, ok := v.(map[string]any); ok {
		// complex attribute without sub-attribute: use its "value"
		sv, found := lookup(m, "value")
		if !found {
			return false, nil
		}
		v = sv
	}
	if _, isBool := v.(bool); isBool && isOrderingOp(op) {
		return false, evalErr("operator %q is not supported for boolean attribute %q", op, path.String())
	}
	switch xv := x.(type) {
	case string:
		s, ok := v.(string)
		if !ok {
			return false, nil
		}
		return compareStrings(op, s, xv, exact), nil
	case bool:
		b, ok := v.(bool)
		if !ok {
			return false, nil
		}
		return (b == xv) == (op == OpEq), nil
	default:
		xf, ok1 := toFloat(x)
		vf, ok2 := toFloat(v)
		if !ok1 || !ok2 {
			return false, nil
		}
		return ordered(op, cmpFloat(vf, xf)), nil
	}
}

func compareStrings(op, a, b string, exact bool) bool {
	if !isSubstringOp(op) {
		if ta, ok := parseTime(a); ok {
			if tb, ok := parseTime(b); ok {
				return ordered(op, ta.Compare(tb))
			}
		}
	}
	if !exact {
		a, b = strings.ToLower(a), strings.ToLower(b)
	}
	switch op {
	case OpCo:
		return strings.Contains(a, b)
	case OpSw:
		return strings.HasPrefix(a, b)
	case OpEw:
		return strings.HasSuffix(a, b)
	}
	return ordered(op, strings.Compare(a, b))
}

// ordered maps a three-way comparison result c (attribute vs value) to the
// outcome of op.
func ordered(op string, c int) bool {
	switch op {
	case OpEq:
		return c == 0
	case OpNe:
		return c != 0
	case OpGt:
		return c > 0
	case OpGe:
		return c >= 0
	case OpLt:
		return c < 0
	case OpLe:
		return c <= 0
	}
	return false
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	case a == b:
		return 0
	}
	return 2 // NaN: unordered, matches only ne
}

func parseTime(s string) (time.Time, bool) {
	// Cheap shape check before calling time.Parse: "YYYY-MM-DDT..."
	if len(s) < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	return t, err == nil
}

func toFloat(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case float32:
		return float64(n), true
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	case int32:
		return float64(n), true
	case json.Number:
		f, err := n.Float64()
		return f, err == nil && !math.IsInf(f, 0)
	}
	return 0, false
}

// values returns the attribute values addressed by p, flattened one level
// (a multi-valued attribute yields its elements; nil values are dropped).
func values(obj map[string]any, p AttrPath, parent *AttrPath) []any {
	if parent == nil && p.URN != "" {
		if _, ok := lookup(obj, p.URN); !ok && p.Sub == "" {
			// A bare extension URN ("urn:...:2.0:User") parses as URN
			// "urn:...:2.0" and Name "User"; address the extension object.
			if ext, ok := lookup(obj, p.URN+":"+p.Name); ok {
				return flatten(nil, ext)
			}
		}
		if ext, ok := lookup(obj, p.URN); ok {
			m, isMap := ext.(map[string]any)
			if !isMap {
				return nil
			}
			obj = m
		} else if len(p.URN) < len(coreSchemaPrefix) ||
			!strings.EqualFold(p.URN[:len(coreSchemaPrefix)], coreSchemaPrefix) {
			return nil
		}
	}
	v, ok := lookup(obj, p.Name)
	if !ok {
		return nil
	}
	top := flatten(nil, v)
	if p.Sub == "" {
		return top
	}
	var out []any
	for _, e := range top {
		if m, ok := e.(map[string]any); ok {
			if sv, ok := lookup(m, p.Sub); ok {
				out = flatten(out, sv)
			}
		}
	}
	return out
}

func flatten(out []any, v any) []any {
	switch x := v.(type) {
	case nil:
		return out
	case []any:
		for _, e := range x {
			if e != nil {
				out = append(out, e)
			}
		}
		return out
	}
	return append(out, v)
}

// lookup finds key in m, exactly or else case-insensitively. If several
// keys differ from key only in case, the smallest one wins, so the result
// does not depend on map iteration order.
func lookup(m map[string]any, key string) (any, bool) {
	if v, ok := m[key]; ok {
		return v, true
	}
	var best string
	var val any
	found := false
	for k, v := range m {
		if strings.EqualFold(k, key) && (!found || k < best) {
			best, val, found = k, v, true
		}
	}
	return val, found
}

// present implements "pr": a value is present unless it is null, "", an
// empty array or a complex value with nothing present in it.
func present(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case string:
		return x != ""
	case []any:
		for _, e := range x {
			if present(e) {
				return true
			}
		}
		return false
	case map[string]any:
		for _, e := range x {
			if present(e) {
				return true
			}
		}
		return false
	}
	return true
}
