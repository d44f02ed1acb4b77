package workflow

import (
	"log/slog"
	"strings"
	"testing"
	"time"
)

// TestNewRequiresLogAndClock: New refuses a missing logger or clock,
// naming the option.
func TestNewRequiresLogAndClock(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	for _, c := range []struct {
		opt  Options
		want string
	}{
		{Options{Now: time.Now}, "workflow.New: Options.Log is nil"},
		{Options{Log: log}, "workflow.New: Options.Now is nil"},
	} {
		if _, err := New(nil, nil, c.opt); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("New(%+v) = %v, want %q", c.opt, err, c.want)
		}
	}
}
