package manual_test

import (
	"strings"
	"testing"

	"github.com/tango-iga/tango/internal/connector/manual"
)

// TestFromConfigRequiresClock: FromConfig refuses a missing clock.
func TestFromConfigRequiresClock(t *testing.T) {
	type tasks struct{ manual.TaskStore }
	_, err := manual.FromConfig(manual.Config{App: "badge-system", Tasks: tasks{}})
	if want := "manual.FromConfig: Config.Now is nil"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("FromConfig(Now nil) = %v, want %q", err, want)
	}
}
