package request_test

import (
	"strings"
	"testing"

	"github.com/tango-iga/tango/internal/config"
	"github.com/tango-iga/tango/internal/request"
)

// TestNewServiceRequiresClock: NewService refuses a missing clock.
func TestNewServiceRequiresClock(t *testing.T) {
	_, err := request.NewService(nil, config.Default(), nil)
	if want := "request.NewService: now is nil"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("NewService(now nil) = %v, want %q", err, want)
	}
}
