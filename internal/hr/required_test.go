package hr_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/tango-iga/tango/internal/hr"
)

// TestNewServiceRequiresClock: a missing clock is a programming error
// NewService refuses, naming the option.
func TestNewServiceRequiresClock(t *testing.T) {
	want := "hr.NewService: ServiceOptions.Now is nil"
	defer func() {
		if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), want) {
			t.Errorf("NewService(Now nil) panicked with %v, want %q", r, want)
		}
	}()
	hr.NewService(nil, nil, hr.ServiceOptions{})
}
