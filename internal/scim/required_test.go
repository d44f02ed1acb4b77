package scim

import (
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// TestNewRequiresLoggerAndClock: a missing logger or clock is a
// programming error New refuses, naming the option.
func TestNewRequiresLoggerAndClock(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	for _, c := range []struct {
		opt  Options
		want string
	}{
		{Options{Now: time.Now}, "scim.New: Options.Logger is nil"},
		{Options{Logger: log}, "scim.New: Options.Now is nil"},
	} {
		func() {
			defer func() {
				if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), c.want) {
					t.Errorf("New(%+v) panicked with %v, want %q", c.opt, r, c.want)
				}
			}()
			New(c.opt)
		}()
	}
}
