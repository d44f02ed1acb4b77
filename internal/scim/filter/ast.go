// Package filter parses and evaluates SCIM 2.0 filters (RFC 7644 section
// 3.4.2.2) and PATCH paths (RFC 7644 section 3.5.2).
//
// Parse turns a filter string into an Expr tree made of Compare, Present,
// And, Or, Not and ValuePath nodes. ParsePath turns a PATCH "path" into a
// Path. Every node prints a canonical form with String, which re-parses to
// an identical tree. Match evaluates an Expr against a JSON-like resource as
// produced by encoding/json.
//
// Parse and ParsePath bound input length and nesting depth (see Limits), so
// no input can make them panic, hang or allocate without bound. All errors
// they return are *Error values carrying the SCIM "scimType" to answer with
// (invalidFilter or invalidPath).
package filter

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Comparison operators, as stored in Compare.Op (always lower case).
const (
	OpEq = "eq"
	OpNe = "ne"
	OpCo = "co"
	OpSw = "sw"
	OpEw = "ew"
	OpGt = "gt"
	OpGe = "ge"
	OpLt = "lt"
	OpLe = "le"
)

// OpPr is the presence operator; it parses into a Present node, never into
// a Compare.
const OpPr = "pr"

func isCompareOp(op string) bool {
	switch op {
	case OpEq, OpNe, OpCo, OpSw, OpEw, OpGt, OpGe, OpLt, OpLe:
		return true
	}
	return false
}

func isOrderingOp(op string) bool {
	switch op {
	case OpGt, OpGe, OpLt, OpLe:
		return true
	}
	return false
}

func isSubstringOp(op string) bool {
	switch op {
	case OpCo, OpSw, OpEw:
		return true
	}
	return false
}

// Expr is a node of a parsed filter: Compare, Present, And, Or, Not or
// ValuePath. String returns the canonical form of the filter.
type Expr interface {
	String() string
	isExpr()
}

// AttrPath names an attribute: an optional schema URN (for example
// "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"), the
// attribute name and an optional sub-attribute name. Names keep the case
// they were written in; SCIM attribute names are case-insensitive, so
// compare them with EqualFold.
//
// Syntactically a bare schema URN ("urn:...:2.0:User") cannot be told apart
// from a URN-qualified attribute: it parses as URN "urn:...:2.0" and Name
// "User". Callers that accept whole-extension PATCH paths should check
// URN+":"+Name against their known schema URNs.
type AttrPath struct {
	URN  string
	Name string
	Sub  string
}

// String returns the path as written in a filter: [URN ":"] Name ["." Sub].
func (p AttrPath) String() string {
	var b strings.Builder
	writePath(&b, p)
	return b.String()
}

// EqualFold reports whether p and q name the same attribute, ignoring case.
func (p AttrPath) EqualFold(q AttrPath) bool {
	return strings.EqualFold(p.URN, q.URN) &&
		strings.EqualFold(p.Name, q.Name) &&
		strings.EqualFold(p.Sub, q.Sub)
}

// Compare is an attribute comparison such as `userName eq "bjensen"`.
// Op is one of OpEq, OpNe, OpCo, OpSw, OpEw, OpGt, OpGe, OpLt, OpLe.
// Value is a string, a float64, a bool or nil (for the literal null).
type Compare struct {
	Path  AttrPath
	Op    string
	Value any
}

// Present is the presence test `Path pr`.
type Present struct {
	Path AttrPath
}

// And is the conjunction of two filters.
type And struct {
	Left, Right Expr
}

// Or is the disjunction of two filters.
type Or struct {
	Left, Right Expr
}

// Not negates a filter: `not (Expr)`.
type Not struct {
	Expr Expr
}

// ValuePath filters the values of a (usually multi-valued) complex
// attribute: `emails[type eq "work" and value co "@example.com"]`. The
// attribute paths inside Filter are plain sub-attribute names of Attr
// (no URN, no sub-attribute). Attr.Sub is always empty.
type ValuePath struct {
	Attr   AttrPath
	Filter Expr
}

func (Compare) isExpr()   {}
func (Present) isExpr()   {}
func (And) isExpr()       {}
func (Or) isExpr()        {}
func (Not) isExpr()       {}
func (ValuePath) isExpr() {}

func (e Compare) String() string   { return exprString(e) }
func (e Present) String() string   { return exprString(e) }
func (e And) String() string       { return exprString(e) }
func (e Or) String() string        { return exprString(e) }
func (e Not) String() string       { return exprString(e) }
func (e ValuePath) String() string { return exprString(e) }

// Path is a parsed PATCH path (RFC 7644 section 3.5.2):
//
//	attr             Path{Attr: {Name: "attr"}}
//	attr.sub         Path{Attr: {Name: "attr", Sub: "sub"}}
//	urn:...:attr     Path{Attr: {URN: "urn:...", Name: "attr"}}
//	attr[f]          Path{Attr: {Name: "attr"}, Filter: f}
//	attr[f].sub      Path{Attr: {Name: "attr", Sub: "sub"}, Filter: f}
//
// When Filter is set, Attr.Sub is the sub-attribute written after the
// closing bracket.
type Path struct {
	Attr   AttrPath
	Filter Expr
}

// String returns the canonical form of the path.
func (p Path) String() string {
	if p.Filter == nil {
		return p.Attr.String()
	}
	var b strings.Builder
	writePath(&b, AttrPath{URN: p.Attr.URN, Name: p.Attr.Name})
	b.WriteByte('[')
	writeExpr(&b, p.Filter)
	b.WriteByte(']')
	if p.Attr.Sub != "" {
		b.WriteByte('.')
		b.WriteString(p.Attr.Sub)
	}
	return b.String()
}

func exprString(e Expr) string {
	var b strings.Builder
	writeExpr(&b, e)
	return b.String()
}

func writePath(b *strings.Builder, p AttrPath) {
	if p.URN != "" {
		b.WriteString(p.URN)
		b.WriteByte(':')
	}
	b.WriteString(p.Name)
	if p.Sub != "" {
		b.WriteByte('.')
		b.WriteString(p.Sub)
	}
}

// writeExpr prints the canonical form: single spaces, lower-case keywords,
// and parentheses only where the tree needs them (and binds tighter than
// or; both associate to the left). Chains of and/or are walked along their
// left spine iteratively, so long chains do not recurse deeply.
func writeExpr(b *strings.Builder, e Expr) {
	switch x := e.(type) {
	case Compare:
		writePath(b, x.Path)
		b.WriteByte(' ')
		b.WriteString(x.Op)
		b.WriteByte(' ')
		writeValue(b, x.Value)
	case Present:
		writePath(b, x.Path)
		b.WriteString(" pr")
	case And:
		first, rest := spine(x)
		writeOperand(b, first, isOr(first))
		for i := len(rest) - 1; i >= 0; i-- {
			b.WriteString(" and ")
			writeOperand(b, rest[i], isOr(rest[i]) || isAnd(rest[i]))
		}
	case Or:
		first, rest := spine(x)
		writeExpr(b, first)
		for i := len(rest) - 1; i >= 0; i-- {
			b.WriteString(" or ")
			writeOperand(b, rest[i], isOr(rest[i]))
		}
	case Not:
		b.WriteString("not (")
		writeExpr(b, x.Expr)
		b.WriteByte(')')
	case ValuePath:
		writePath(b, x.Attr)
		b.WriteByte('[')
		writeExpr(b, x.Filter)
		b.WriteByte(']')
	case nil:
		b.WriteString("<nil>")
	default:
		fmt.Fprintf(b, "<%T>", e)
	}
}

func writeOperand(b *strings.Builder, e Expr, paren bool) {
	if paren {
		b.WriteByte('(')
	}
	writeExpr(b, e)
	if paren {
		b.WriteByte(')')
	}
}

func isAnd(e Expr) bool { _, ok := e.(And); return ok }
func isOr(e Expr) bool  { _, ok := e.(Or); return ok }

// spine flattens a left-deep chain of the same binary operator as e (And
// or Or). It returns the leftmost operand that is not of that kind and the
// right operands from the top of the chain down (so rest[len-1] comes
// first in reading order).
func spine(e Expr) (first Expr, rest []Expr) {
	switch {
	case isAnd(e):
		for a, ok := e.(And); ok; a, ok = e.(And) {
			rest = append(rest, a.Right)
			e = a.Left
		}
	case isOr(e):
		for o, ok := e.(Or); ok; o, ok = e.(Or) {
			rest = append(rest, o.Right)
			e = o.Left
		}
	}
	return e, rest
}

func writeValue(b *strings.Builder, v any) {
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		b.WriteString(strconv.FormatBool(x))
	case string:
		writeQuoted(b, x)
	case float64:
		b.WriteString(formatNumber(x))
	case float32:
		b.WriteString(formatNumber(float64(x)))
	case int:
		b.WriteString(strconv.Itoa(x))
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
	case int32:
		b.WriteString(strconv.FormatInt(int64(x), 10))
	default:
		// Not produced by Parse; Validate rejects it. Print something
		// recognisable rather than panic.
		fmt.Fprintf(b, "<%T>", v)
	}
}

// formatNumber prints a float64 as a JSON number: integers without an
// exponent while that is exact and short, the shortest round-tripping
// representation otherwise.
func formatNumber(f float64) string {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return "null" // not representable in JSON; never produced by Parse
	}
	if f == math.Trunc(f) && math.Abs(f) < 1e21 {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// writeQuoted writes s as a JSON string. Only '"', '\\' and control
// characters are escaped; everything else is written as UTF-8.
func writeQuoted(b *strings.Builder, s string) {
	const hex = "0123456789abcdef"
	b.WriteByte('"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, n := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && n == 1 {
				b.WriteString(`\ufffd`) // invalid UTF-8; never produced by Parse
			} else {
				b.WriteString(s[i : i+n])
			}
			i += n
			continue
		}
		switch c {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			if c < 0x20 {
				b.WriteString(`\u00`)
				b.WriteByte(hex[c>>4])
				b.WriteByte(hex[c&0xf])
			} else {
				b.WriteByte(c)
			}
		}
		i++
	}
	b.WriteByte('"')
}
