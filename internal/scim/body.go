package scim

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
)

// MaxDepth bounds how deeply the objects and arrays of a SCIM body nest:
// no SCIM resource, PATCH or Bulk request needs more, and a deeper body
// costs memory to decode for nothing.
const MaxDepth = 32

// checkBody scans the JSON token stream of a body before anything decodes
// it: it refuses nesting deeper than MaxDepth (400 invalidSyntax) and an
// object holding one attribute twice under names equal but for case
// (400 invalidValue): SCIM attribute names are case-insensitive (RFC 7643
// section 2.1), so "userName" and "USERNAME" are the same attribute and
// keeping either would be a guess. Memory is bounded by the depth and by
// the keys of the objects open at once.
func checkBody(b []byte) *Error {
	type frame struct {
		obj     bool
		keyNext bool
		name    string // the key this value sits under ("" at the top)
		keys    map[string]struct{}
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	var stack []frame
	lastKey := ""
	path := func(k string) string {
		var parts []string
		for _, f := range stack[1:] {
			if f.name != "" {
				parts = append(parts, f.name)
			}
		}
		return strings.Join(append(parts, k), ".")
	}
	valueDone := func() {
		if n := len(stack); n > 0 && stack[n-1].obj {
			stack[n-1].keyNext = true
		}
	}
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			if len(stack) > 0 {
				return errSyntax("the body is not valid JSON: it ends inside an object or array")
			}
			break
		}
		if err != nil {
			return errSyntax("the body is not valid JSON: %v", err)
		}
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{', '[':
				if len(stack) >= MaxDepth {
					return errSyntax("the body nests objects and arrays more than %d deep", MaxDepth)
				}
				f := frame{obj: t == '{', keyNext: t == '{', name: lastKey}
				lastKey = ""
				stack = append(stack, f)
			default:
				stack = stack[:len(stack)-1]
				valueDone()
			}
		case string:
			if n := len(stack); n > 0 && stack[n-1].obj && stack[n-1].keyNext {
				top := &stack[n-1]
				k := strings.ToLower(t)
				if top.keys == nil {
					top.keys = map[string]struct{}{}
				}
				if _, dup := top.keys[k]; dup {
					return errValue("attribute %q appears twice in one object (attribute names are case-insensitive)", path(t))
				}
				top.keys[k] = struct{}{}
				top.keyNext = false
				lastKey = t
				continue
			}
			valueDone()
		default:
			valueDone()
		}
		lastKey = ""
		if len(stack) == 0 {
			// One top-level value; anything after it is not JSON the
			// decoder below accepts either.
			if dec.More() {
				return errSyntax("the body holds more than one JSON value")
			}
		}
	}
	return nil
}
