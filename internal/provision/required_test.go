package provision_test

import (
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/tango-iga/tango/internal/provision"
)

// TestNewRequiresLogAndClock: a missing logger or clock is a programming
// error New refuses, naming the option.
func TestNewRequiresLogAndClock(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	for _, c := range []struct {
		opt  provision.Options
		want string
	}{
		{provision.Options{Now: time.Now}, "provision.New: Options.Log is nil"},
		{provision.Options{Log: log}, "provision.New: Options.Now is nil"},
	} {
		func() {
			defer func() {
				if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), c.want) {
					t.Errorf("New(%+v) panicked with %v, want %q", c.opt, r, c.want)
				}
			}()
			provision.New(nil, nil, nil, c.opt)
		}()
	}
}
