package api_test

import (
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/tango-iga/tango/internal/api"
)

// TestNewRequiresLoggerAndClock: a missing logger or clock is a
// programming error New refuses, naming the option.
func TestNewRequiresLoggerAndClock(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	for _, c := range []struct {
		opt  api.Options
		want string
	}{
		{api.Options{Now: time.Now}, "api.New: Options.Logger is nil"},
		{api.Options{Logger: log}, "api.New: Options.Now is nil"},
	} {
		func() {
			defer func() {
				if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), c.want) {
					t.Errorf("New(%+v) panicked with %v, want %q", c.opt, r, c.want)
				}
			}()
			api.New(c.opt)
		}()
	}
}
