package scim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
)

// Error is a SCIM error response (RFC 7644 section 3.12).
type Error struct {
	Status   int
	ScimType string
	Detail   string
}

func (e *Error) Error() string { return fmt.Sprintf("%d %s: %s", e.Status, e.ScimType, e.Detail) }

// MarshalJSON writes the error in SCIM's format; status is a string.
func (e *Error) MarshalJSON() ([]byte, error) {
	m := map[string]any{"schemas": []string{URNError}, "status": strconv.Itoa(e.Status), "detail": e.Detail}
	if e.ScimType != "" {
		m["scimType"] = e.ScimType
	}
	return json.Marshal(m)
}

func errValue(format string, args ...any) *Error {
	return &Error{Status: http.StatusBadRequest, ScimType: "invalidValue", Detail: fmt.Sprintf(format, args...)}
}

func errSyntax(format string, args ...any) *Error {
	return &Error{Status: http.StatusBadRequest, ScimType: "invalidSyntax", Detail: fmt.Sprintf(format, args...)}
}

func errPath(format string, args ...any) *Error {
	return &Error{Status: http.StatusBadRequest, ScimType: "invalidPath", Detail: fmt.Sprintf(format, args...)}
}

func errNoTarget(format string, args ...any) *Error {
	return &Error{Status: http.StatusBadRequest, ScimType: "noTarget", Detail: fmt.Sprintf(format, args...)}
}

func errMutability(format string, args ...any) *Error {
	return &Error{Status: http.StatusBadRequest, ScimType: "mutability", Detail: fmt.Sprintf(format, args...)}
}

func errNotFound(format string, args ...any) *Error {
	return &Error{Status: http.StatusNotFound, Detail: fmt.Sprintf(format, args...)}
}

func errUniqueness(format string, args ...any) *Error {
	return &Error{Status: http.StatusConflict, ScimType: "uniqueness", Detail: fmt.Sprintf(format, args...)}
}

func errPrecondition() *Error {
	return &Error{Status: http.StatusPreconditionFailed, Detail: "the resource version does not match If-Match"}
}
