package filter

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// SCIM error types (RFC 7644 section 3.12) carried by *Error.
const (
	ScimTypeInvalidFilter = "invalidFilter"
	ScimTypeInvalidPath   = "invalidPath"
)

// Default limits used by Parse and ParsePath.
const (
	DefaultMaxLength = 4096
	DefaultMaxDepth  = 64
)

// Error is the error returned by Parse, ParsePath, Match and Validate.
// ScimType is the SCIM error type to answer with (HTTP 400): invalidFilter,
// or invalidPath for a malformed PATCH path outside its value filter.
type Error struct {
	ScimType string
	// Pos is the byte offset of the offending token in the input, or -1
	// when the error does not come from parsing (Match, Validate).
	Pos int
	// Token is the offending source text (truncated to 32 bytes); empty at
	// the end of input.
	Token string
	Msg   string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.ScimType)
	b.WriteString(": ")
	b.WriteString(e.Msg)
	if e.Pos >= 0 {
		fmt.Fprintf(&b, " at position %d", e.Pos)
	}
	if e.Token != "" {
		fmt.Fprintf(&b, " near %q", e.Token)
	}
	return b.String()
}

// Limits bounds the work done by the parser. A zero or negative field
// means its default (DefaultMaxLength bytes, DefaultMaxDepth levels).
// Nesting depth counts parentheses, "not (...)" and value filters
// "attr[...]"; chains of and/or do not count.
type Limits struct {
	MaxLength int
	MaxDepth  int
}

func (l Limits) withDefaults() Limits {
	if l.MaxLength <= 0 {
		l.MaxLength = DefaultMaxLength
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = DefaultMaxDepth
	}
	return l
}

// Parse parses a SCIM filter with the default limits.
func Parse(s string) (Expr, error) { return Limits{}.Parse(s) }

// ParsePath parses a SCIM PATCH path with the default limits.
func ParsePath(s string) (Path, error) { return Limits{}.ParsePath(s) }

// ParseTolerant parses a SCIM filter with the default limits, accepting
// unquoted comparison values (see Limits.ParseTolerant).
func ParseTolerant(s string) (Expr, error) { return Limits{}.ParseTolerant(s) }

// ParsePathTolerant parses a SCIM PATCH path with the default limits,
// accepting unquoted comparison values in its value filter.
func ParsePathTolerant(s string) (Path, error) { return Limits{}.ParsePathTolerant(s) }

// ParseTolerant parses s strictly (Parse) and, when that fails, again
// accepting what real SCIM clients send although the RFC grammar does not
// allow it: a comparison value without quotes, taken as a string up to the
// next white space, parenthesis, bracket or quote (userName sw O,
// meta.created gt 2015-10-10T14:38:21Z, emails[type eq work]). The words
// true, false and null stay literals; and, or and not are never values; a
// bare value may not start with a single quote or a backslash. A filter
// that parses strictly gives the same tree as Parse; one that parses in
// neither way gets Parse's error. The canonical form (String) of the
// result always parses strictly.
func (l Limits) ParseTolerant(s string) (Expr, error) {
	e, err := l.Parse(s)
	if err == nil {
		return e, nil
	}
	if e2, err2 := l.parse(s, true); err2 == nil {
		return e2, nil
	}
	return nil, err
}

// ParsePathTolerant is ParsePath with ParseTolerant's fallback.
func (l Limits) ParsePathTolerant(s string) (Path, error) {
	p, err := l.ParsePath(s)
	if err == nil {
		return p, nil
	}
	if p2, err2 := l.parsePath(s, true); err2 == nil {
		return p2, nil
	}
	return Path{}, err
}

// Parse parses a SCIM filter (RFC 7644 section 3.4.2.2). Operators,
// "and", "or", "not", "true", "false" and "null" are case-insensitive.
// "not" must be followed by a parenthesised filter, as in the RFC grammar;
// elsewhere and/or/not are ordinary attribute names. Errors are *Error with
// ScimType invalidFilter.
func (l Limits) Parse(s string) (Expr, error) {
	e, err := l.parse(s, false)
	if err != nil {
		return nil, err
	}
	return e, nil
}

func (l Limits) parse(s string, tolerant bool) (Expr, *Error) {
	l = l.withDefaults()
	if len(s) > l.MaxLength {
		return nil, &Error{ScimType: ScimTypeInvalidFilter, Pos: l.MaxLength,
			Msg: fmt.Sprintf("filter longer than %d bytes", l.MaxLength)}
	}
	toks, lerr := lex(s, ScimTypeInvalidFilter, tolerant)
	if lerr != nil {
		return nil, lerr
	}
	p := &parser{toks: toks, maxDepth: l.MaxDepth, scimType: ScimTypeInvalidFilter, tolerant: tolerant}
	if p.peek().kind == tEOF {
		return nil, p.errAt(p.peek(), "empty filter")
	}
	e, err := p.parseOr()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tEOF {
		return nil, p.errAt(t, `expected "and", "or" or end of filter`)
	}
	return e, nil
}

// ParsePath parses a SCIM PATCH path (RFC 7644 section 3.5.2). Errors are
// *Error with ScimType invalidPath, except for errors inside the value
// filter, which are invalidFilter.
func (l Limits) ParsePath(s string) (Path, error) {
	p, err := l.parsePath(s, false)
	if err != nil {
		return Path{}, err
	}
	return p, nil
}

func (l Limits) parsePath(s string, tolerant bool) (Path, *Error) {
	l = l.withDefaults()
	if len(s) > l.MaxLength {
		return Path{}, &Error{ScimType: ScimTypeInvalidPath, Pos: l.MaxLength,
			Msg: fmt.Sprintf("path longer than %d bytes", l.MaxLength)}
	}
	toks, lerr := lex(s, ScimTypeInvalidPath, tolerant)
	if lerr != nil {
		return Path{}, lerr
	}
	p := &parser{toks: toks, maxDepth: l.MaxDepth, scimType: ScimTypeInvalidPath, tolerant: tolerant}
	t := p.next()
	switch t.kind {
	case tEOF:
		return Path{}, p.errAt(t, "empty path")
	case tWord:
	default:
		return Path{}, p.errAt(t, "expected attribute path")
	}
	ap, err := p.attrPath(t)
	if err != nil {
		return Path{}, err
	}
	var f Expr
	if lb := p.peek(); lb.kind == tLBrack {
		if f, err = p.valueFilter(t, ap); err != nil {
			return Path{}, err
		}
		rb := p.toks[p.i-1]
		if st := p.peek(); st.kind == tWord && st.pos == rb.end && strings.HasPrefix(st.text, ".") {
			p.next()
			if !isAttrName(st.text[1:]) {
				return Path{}, p.errAt(st, "invalid sub-attribute name")
			}
			ap.Sub = st.text[1:]
		}
	}
	if t := p.peek(); t.kind != tEOF {
		return Path{}, p.errAt(t, "unexpected text after path")
	}
	return Path{Attr: ap, Filter: f}, nil
}

type parser struct {
	toks      []token
	i         int
	depth     int
	maxDepth  int
	scimType  string
	inBracket bool
	tolerant  bool // unquoted comparison values (ParseTolerant)
}

func (p *parser) peek() token { return p.toks[p.i] }

func (p *parser) peekAt(n int) token {
	if p.i+n >= len(p.toks) {
		return p.toks[len(p.toks)-1]
	}
	return p.toks[p.i+n]
}

func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

func (p *parser) errAt(t token, msg string) *Error {
	if t.kind == tEOF {
		msg += " (unexpected end of input)"
	}
	return &Error{ScimType: p.scimType, Pos: t.pos, Token: truncate(t.text, 32), Msg: msg}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "..."
}

func (p *parser) enter(t token) *Error {
	p.depth++
	if p.depth > p.maxDepth {
		return p.errAt(t, fmt.Sprintf("nesting deeper than %d levels", p.maxDepth))
	}
	return nil
}

func (p *parser) isKeyword(t token, kw string) bool {
	return t.kind == tWord && strings.EqualFold(t.text, kw)
}

// parseOr parses: andExpr *("or" andExpr)
func (p *parser) parseOr() (Expr, *Error) {
	left, err := p.parseAnd()
	if err != nil {
		return nil, err
	}
	for p.isKeyword(p.peek(), "or") {
		p.next()
		right, err := p.parseAnd()
		if err != nil {
			return nil, err
		}
		left = Or{Left: left, Right: right}
	}
	return left, nil
}

// parseAnd parses: unary *("and" unary)
func (p *parser) parseAnd() (Expr, *Error) {
	left, err := p.parseUnary()
	if err != nil {
		return nil, err
	}
	for p.isKeyword(p.peek(), "and") {
		p.next()
		right, err := p.parseUnary()
		if err != nil {
			return nil, err
		}
		left = And{Left: left, Right: right}
	}
	return left, nil
}

// parseUnary parses: "(" filter ")" / "not" "(" filter ")" / attrExp / valuePath
func (p *parser) parseUnary() (Expr, *Error) {
	t := p.peek()
	switch {
	case t.kind == tLParen:
		e, err := p.parenthesised()
		return e, err
	case p.isKeyword(t, "not") && p.peekAt(1).kind == tLParen:
		p.next()
		e, err := p.parenthesised()
		if err != nil {
			return nil, err
		}
		return Not{Expr: e}, nil
	case t.kind == tWord:
		return p.parseAttrExpr()
	default:
		return nil, p.errAt(t, `expected attribute path, "not" or "("`)
	}
}

func (p *parser) parenthesised() (Expr, *Error) {
	lp := p.next()
	if err := p.enter(lp); err != nil {
		return nil, err
	}
	e, err := p.parseOr()
	if err != nil {
		return nil, err
	}
	if t := p.next(); t.kind != tRParen {
		return nil, p.errAt(t, `expected ")"`)
	}
	p.depth--
	return e, nil
}

func (p *parser) parseAttrExpr() (Expr, *Error) {
	t := p.next()
	ap, err := p.attrPath(t)
	if err != nil {
		return nil, err
	}
	if p.peek().kind == tLBrack {
		f, err := p.valueFilter(t, ap)
		if err != nil {
			return nil, err
		}
		return ValuePath{Attr: ap, Filter: f}, nil
	}
	opTok := p.next()
	if opTok.kind != tWord {
		return nil, p.errAt(opTok, "expected operator after attribute path")
	}
	op := strings.ToLower(opTok.text)
	if op == OpPr {
		return Present{Path: ap}, nil
	}
	if !isCompareOp(op) {
		return nil, p.errAt(opTok, "unknown operator")
	}
	vt := p.next()
	var v any
	switch {
	case vt.kind == tString:
		v = vt.str
	case vt.kind == tNumber:
		v = vt.num
	case p.isKeyword(vt, "true"):
		v = true
	case p.isKeyword(vt, "false"):
		v = false
	case p.isKeyword(vt, "null"):
		v = nil
	case vt.kind == tWord && p.tolerant &&
		!p.isKeyword(vt, "and") && !p.isKeyword(vt, "or") && !p.isKeyword(vt, "not"):
		v = vt.text
	case vt.kind == tWord:
		return nil, p.errAt(vt, "invalid comparison value (strings must be quoted)")
	default:
		return nil, p.errAt(vt, "expected comparison value")
	}
	if msg := checkOpValue(op, v); msg != "" {
		return nil, p.errAt(opTok, msg)
	}
	return Compare{Path: ap, Op: op, Value: v}, nil
}

// valueFilter parses "[" valFilter "]" after the attribute token t. The
// current token is the "[".
func (p *parser) valueFilter(t token, ap AttrPath) (Expr, *Error) {
	lb := p.next()
	switch {
	case p.inBracket:
		return nil, p.errAt(lb, "value filters cannot be nested")
	case lb.pos != t.end:
		return nil, p.errAt(lb, `no space allowed before "["`)
	case ap.Sub != "":
		return nil, p.errAt(t, "value filter cannot follow a sub-attribute")
	}
	if err := p.enter(lb); err != nil {
		return nil, err
	}
	outer := p.scimType
	p.scimType = ScimTypeInvalidFilter
	p.inBracket = true
	var f Expr
	var err *Error
	if p.peek().kind == tRBrack {
		err = p.errAt(p.peek(), "empty value filter")
	} else {
		f, err = p.parseOr()
	}
	p.inBracket = false
	p.scimType = outer
	if err != nil {
		return nil, err
	}
	if rb := p.next(); rb.kind != tRBrack {
		return nil, p.errAt(rb, `expected "]"`)
	}
	p.depth--
	return f, nil
}

// checkOpValue reports why op cannot be applied to a comparison value of
// v's type, or "" if it can.
func checkOpValue(op string, v any) string {
	switch v.(type) {
	case string:
		return ""
	case nil:
		if op != OpEq && op != OpNe {
			return fmt.Sprintf("operator %q cannot be used with null", op)
		}
	case bool:
		if op != OpEq && op != OpNe {
			return fmt.Sprintf("operator %q cannot be used with a boolean", op)
		}
	default: // numbers
		if isSubstringOp(op) {
			return fmt.Sprintf("operator %q cannot be used with a number", op)
		}
	}
	return ""
}

// attrPath validates the word token t as an attribute path:
// [URN ":"] ATTRNAME ["." ATTRNAME]. Inside a value filter only a plain
// ATTRNAME is allowed.
func (p *parser) attrPath(t token) (AttrPath, *Error) {
	if t.kind != tWord {
		return AttrPath{}, p.errAt(t, "expected attribute path")
	}
	for i := 0; i < len(t.text); i++ {
		if !isWordChar(t.text[i]) {
			// A bare run of ParseTolerant: a comparison value only.
			return AttrPath{}, p.errAt(t, "invalid attribute path")
		}
	}
	var ap AttrPath
	rest := t.text
	if len(rest) >= 4 && strings.EqualFold(rest[:4], "urn:") {
		if p.inBracket {
			return AttrPath{}, p.errAt(t, "schema URN not allowed inside a value filter")
		}
		k := strings.LastIndexByte(rest, ':')
		ap.URN, rest = rest[:k], rest[k+1:]
		if !isURN(ap.URN) {
			return AttrPath{}, p.errAt(t, "invalid schema URN")
		}
	}
	name, sub, hasSub := strings.Cut(rest, ".")
	if !isAttrName(name) {
		return AttrPath{}, p.errAt(t, "invalid attribute name")
	}
	ap.Name = name
	if hasSub {
		if p.inBracket {
			return AttrPath{}, p.errAt(t, "sub-attribute not allowed inside a value filter")
		}
		if !isAttrName(sub) {
			return AttrPath{}, p.errAt(t, "invalid sub-attribute name")
		}
		ap.Sub = sub
	}
	return ap, nil
}

// isAttrName reports whether s is an ATTRNAME: ALPHA *(ALPHA / DIGIT /
// "-" / "_"), optionally preceded by "$" (as in "$ref").
func isAttrName(s string) bool {
	s = strings.TrimPrefix(s, "$")
	if s == "" || !isAlpha(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if !isNameChar(s[i]) {
			return false
		}
	}
	return true
}

// isURN reports whether s looks like "urn:NID:NSS..." built from the
// characters the lexer accepts, with no empty segment.
func isURN(s string) bool {
	segs := strings.Split(s, ":")
	if len(segs) < 3 {
		return false
	}
	for _, seg := range segs {
		if seg == "" {
			return false
		}
	}
	return true
}
