package filter

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

type tokKind int

const (
	tEOF tokKind = iota
	tWord
	tString
	tNumber
	tLParen
	tRParen
	tLBrack
	tRBrack
)

// token is one lexical token. pos and end are byte offsets into the input;
// text is the raw source text. str holds the decoded value of a string
// literal and num the value of a number literal.
type token struct {
	kind     tokKind
	pos, end int
	text     string
	str      string
	num      float64
}

func isSpace(c byte) bool    { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
func isDigit(c byte) bool    { return c >= '0' && c <= '9' }
func isAlpha(c byte) bool    { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isNameChar(c byte) bool { return isAlpha(c) || isDigit(c) || c == '-' || c == '_' }

// isWordChar reports whether c can appear in a word token: attribute
// names, sub-attributes, schema URNs, operators and keywords.
func isWordChar(c byte) bool {
	return isNameChar(c) || c == '.' || c == ':' || c == '$'
}

// isDelim reports whether c ends a bare value: white space, a bracket,
// a parenthesis or a quote.
func isDelim(c byte) bool {
	return isSpace(c) || c == '(' || c == ')' || c == '[' || c == ']' || c == '"'
}

// bareEnd is the end of the bare run of non-delimiters starting at s[i];
// control characters end it too.
func bareEnd(s string, i int) int {
	for i < len(s) && !isDelim(s[i]) && s[i] >= 0x20 && s[i] != 0x7f {
		i++
	}
	return i
}

// lex splits s into tokens, ending with a tEOF token. The caller has
// already bounded len(s), so the token slice is bounded too.
//
// tolerant lexes what real clients send unquoted: a run of characters up
// to white space, a bracket, a parenthesis or a quote that is neither a
// valid number nor a word (2015-10-10T14:38:21Z, bjensen@example.com,
// O'Malley) is one word token, which the parser accepts as a string
// comparison value; as an attribute path or operator it is invalid.
func lex(s, scimType string, tolerant bool) ([]token, *Error) {
	if !utf8.ValidString(s) {
		for i := 0; i < len(s); {
			r, n := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && n == 1 {
				return nil, &Error{ScimType: scimType, Pos: i, Msg: "invalid UTF-8 in input"}
			}
			i += n
		}
	}
	var toks []token
	i := 0
	for {
		for i < len(s) && isSpace(s[i]) {
			i++
		}
		if i == len(s) {
			return append(toks, token{kind: tEOF, pos: i, end: i}), nil
		}
		c := s[i]
		switch {
		case c == '(' || c == ')' || c == '[' || c == ']':
			k := tLParen
			switch c {
			case ')':
				k = tRParen
			case '[':
				k = tLBrack
			case ']':
				k = tRBrack
			}
			toks = append(toks, token{kind: k, pos: i, end: i + 1, text: s[i : i+1]})
			i++
		case c == '"':
			t, err := lexString(s, i, scimType)
			if err != nil {
				return nil, err
			}
			toks = append(toks, t)
			i = t.end
		case c == '-' || isDigit(c):
			t, err := lexNumber(s, i, scimType)
			if err != nil {
				if !tolerant {
					return nil, err
				}
				j := bareEnd(s, i)
				t = token{kind: tWord, pos: i, end: j, text: s[i:j]}
			}
			toks = append(toks, t)
			i = t.end
		case isWordChar(c):
			j := i
			for j < len(s) && isWordChar(s[j]) {
				j++
			}
			if tolerant {
				j = bareEnd(s, j)
			}
			toks = append(toks, token{kind: tWord, pos: i, end: j, text: s[i:j]})
			i = j
		case tolerant && c != '\'' && c != '\\' && bareEnd(s, i) > i:
			j := bareEnd(s, i)
			toks = append(toks, token{kind: tWord, pos: i, end: j, text: s[i:j]})
			i = j
		default:
			r, n := utf8.DecodeRuneInString(s[i:])
			return nil, &Error{ScimType: scimType, Pos: i, Token: s[i : i+n],
				Msg: fmt.Sprintf("unexpected character %q", r)}
		}
	}
}

// lexNumber scans a JSON number starting at s[i].
func lexNumber(s string, i int, scimType string) (token, *Error) {
	bad := func(j int, msg string) (token, *Error) {
		for j < len(s) && (isWordChar(s[j]) || s[j] == '+') {
			j++
		}
		return token{}, &Error{ScimType: scimType, Pos: i, Token: s[i:j], Msg: msg}
	}
	j := i
	if s[j] == '-' {
		j++
	}
	if j >= len(s) || !isDigit(s[j]) {
		return bad(j, "invalid number")
	}
	if s[j] == '0' {
		j++
	} else {
		for j < len(s) && isDigit(s[j]) {
			j++
		}
	}
	if j < len(s) && s[j] == '.' {
		j++
		if j >= len(s) || !isDigit(s[j]) {
			return bad(j, "invalid number: digits expected after decimal point")
		}
		for j < len(s) && isDigit(s[j]) {
			j++
		}
	}
	if j < len(s) && (s[j] == 'e' || s[j] == 'E') {
		j++
		if j < len(s) && (s[j] == '+' || s[j] == '-') {
			j++
		}
		if j >= len(s) || !isDigit(s[j]) {
			return bad(j, "invalid number: digits expected in exponent")
		}
		for j < len(s) && isDigit(s[j]) {
			j++
		}
	}
	if j < len(s) && isWordChar(s[j]) {
		return bad(j, "invalid number")
	}
	f, err := strconv.ParseFloat(s[i:j], 64)
	if err != nil {
		return token{}, &Error{ScimType: scimType, Pos: i, Token: s[i:j], Msg: "number out of range"}
	}
	return token{kind: tNumber, pos: i, end: j, text: s[i:j], num: f}, nil
}

// lexString scans a JSON string literal starting at the quote s[i].
func lexString(s string, i int, scimType string) (token, *Error) {
	var b strings.Builder
	j := i + 1
	for {
		start := j
		for j < len(s) && s[j] != '"' && s[j] != '\\' && s[j] >= 0x20 {
			j++
		}
		b.WriteString(s[start:j])
		if j >= len(s) {
			return token{}, &Error{ScimType: scimType, Pos: i, Token: s[i:j], Msg: "unterminated string"}
		}
		switch c := s[j]; {
		case c == '"':
			j++
			return token{kind: tString, pos: i, end: j, text: s[i:j], str: b.String()}, nil
		case c < 0x20:
			return token{}, &Error{ScimType: scimType, Pos: j, Token: s[j : j+1],
				Msg: "control character in string must be escaped"}
		}
		// backslash escape
		if j+1 >= len(s) {
			return token{}, &Error{ScimType: scimType, Pos: i, Token: s[i:], Msg: "unterminated string"}
		}
		switch e := s[j+1]; e {
		case '"', '\\', '/':
			b.WriteByte(e)
			j += 2
		case 'b':
			b.WriteByte('\b')
			j += 2
		case 'f':
			b.WriteByte('\f')
			j += 2
		case 'n':
			b.WriteByte('\n')
			j += 2
		case 'r':
			b.WriteByte('\r')
			j += 2
		case 't':
			b.WriteByte('\t')
			j += 2
		case 'u':
			r, ok := hex4(s, j+2)
			if !ok {
				return token{}, &Error{ScimType: scimType, Pos: j, Token: escapeText(s, j),
					Msg: `invalid \u escape in string`}
			}
			j += 6
			if utf16.IsSurrogate(r) {
				r2, ok := rune(-1), false
				if j+1 < len(s) && s[j] == '\\' && s[j+1] == 'u' {
					r2, ok = hex4(s, j+2)
				}
				if dec := utf16.DecodeRune(r, r2); ok && dec != utf8.RuneError {
					r = dec
					j += 6
				} else {
					r = utf8.RuneError // lone surrogate, as encoding/json does
				}
			}
			b.WriteRune(r)
		default:
			return token{}, &Error{ScimType: scimType, Pos: j, Token: escapeText(s, j),
				Msg: "invalid escape in string"}
		}
	}
}

func escapeText(s string, j int) string {
	end := j + 6
	if end > len(s) {
		end = len(s)
	}
	for end > j+1 && !utf8.ValidString(s[j:end]) {
		end--
	}
	return s[j:end]
}

func hex4(s string, i int) (rune, bool) {
	if i+4 > len(s) {
		return 0, false
	}
	var r rune
	for _, c := range []byte(s[i : i+4]) {
		var d byte
		switch {
		case c >= '0' && c <= '9':
			d = c - '0'
		case c >= 'a' && c <= 'f':
			d = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			d = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(d)
	}
	return r, true
}
