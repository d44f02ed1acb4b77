package domain

import (
	"errors"
	"net/http"
)

// Kind is what sort of failure an error is, whatever package raised it.
// Callers at the edge (the API, SCIM, the CLI) answer by kind, not by
// each package's sentinel.
type Kind int

// Error kinds.
const (
	KindOther        Kind = iota // not one of the kinds below: an internal error
	KindNotFound                 // what was asked for does not exist
	KindConflict                 // the state changed, or forbids it now (someone decided first, a held import)
	KindInvalid                  // the input is well-formed but refused (a wrong request, missing evidence)
	KindForbidden                // the caller may not do it
	KindUnauthorized             // the caller is not authenticated
)

func (k Kind) String() string {
	switch k {
	case KindNotFound:
		return "not found"
	case KindConflict:
		return "conflict"
	case KindInvalid:
		return "invalid"
	case KindForbidden:
		return "forbidden"
	case KindUnauthorized:
		return "unauthorized"
	}
	return "internal"
}

// Error is a sentinel error of a known kind. Each package declares its
// own (store.ErrConflict, hr.ErrHeld, request.ErrSoD …) with E; errors.Is
// still tells them apart, and KindOf/HTTPStatus read their kind.
type Error struct {
	Kind Kind
	Msg  string
}

func (e *Error) Error() string { return e.Msg }

// E returns a new sentinel error of kind k.
func E(k Kind, msg string) *Error { return &Error{Kind: k, Msg: msg} }

// The generic sentinels of each kind.
var (
	ErrNotFound     = E(KindNotFound, "not found")
	ErrConflict     = E(KindConflict, "conflict")
	ErrInvalid      = E(KindInvalid, "invalid")
	ErrForbidden    = E(KindForbidden, "forbidden")
	ErrUnauthorized = E(KindUnauthorized, "unauthorized")
)

// ErrorKind is the kind of e.
func (e *Error) ErrorKind() Kind { return e.Kind }

// Kinded is an error that says its kind: *Error, or a package's own error
// type carrying details (request.SoDError).
type Kinded interface {
	error
	ErrorKind() Kind
}

// KindOf is the kind of the first Kinded error err wraps; KindOther for
// nil and for errors of no kind.
func KindOf(err error) Kind {
	var e Kinded
	if errors.As(err, &e) {
		return e.ErrorKind()
	}
	return KindOther
}

// httpStatus is the one table from error kind to HTTP status, used by
// /api/v1 and /scim/v2 alike.
var httpStatus = map[Kind]int{
	KindNotFound:     http.StatusNotFound,
	KindConflict:     http.StatusConflict,
	KindInvalid:      http.StatusUnprocessableEntity,
	KindForbidden:    http.StatusForbidden,
	KindUnauthorized: http.StatusUnauthorized,
	KindOther:        http.StatusInternalServerError,
}

// HTTPStatus is the HTTP status that answers err: by its kind, 500 for an
// error of no kind.
func HTTPStatus(err error) int { return httpStatus[KindOf(err)] }
