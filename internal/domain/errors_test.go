package domain_test

import (
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/tango-iga/tango/internal/domain"
)

func TestHTTPStatus(t *testing.T) {
	errHeld := domain.E(domain.KindConflict, "an import of this source is held")
	for _, c := range []struct {
		err  error
		want int
	}{
		{domain.ErrNotFound, http.StatusNotFound},
		{fmt.Errorf("task 7: %w", domain.ErrNotFound), http.StatusNotFound},
		{fmt.Errorf("import: %w", errHeld), http.StatusConflict},
		{domain.E(domain.KindInvalid, "evidence refused"), http.StatusUnprocessableEntity},
		{domain.ErrForbidden, http.StatusForbidden},
		{domain.ErrUnauthorized, http.StatusUnauthorized},
		{errors.New("disk full"), http.StatusInternalServerError},
		{nil, http.StatusInternalServerError},
	} {
		if got := domain.HTTPStatus(c.err); got != c.want {
			t.Errorf("HTTPStatus(%v) = %d, want %d", c.err, got, c.want)
		}
	}
	// A package's own sentinel stays itself for errors.Is.
	if errors.Is(errHeld, domain.ErrConflict) || !errors.Is(fmt.Errorf("x: %w", errHeld), errHeld) {
		t.Error("sentinels of one kind must stay distinct for errors.Is")
	}
}
