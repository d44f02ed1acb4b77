package notify

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/tango-iga/tango/internal/config"
)

// TestNewWorkerRequiresLogAndClock: NewWorker refuses a missing logger or
// clock, naming the option.
func TestNewWorkerRequiresLogAndClock(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	for _, c := range []struct {
		opt  Options
		want string
	}{
		{Options{Now: time.Now}, "notify.NewWorker: Options.Log is nil"},
		{Options{Log: log}, "notify.NewWorker: Options.Now is nil"},
	} {
		if _, err := NewWorker(nil, config.Notifications{}, c.opt); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("NewWorker(%+v) = %v, want %q", c.opt, err, c.want)
		}
	}
}
