package domain_test

import (
	"testing"

	"github.com/tango-iga/tango/internal/domain"
)

// The events that replace a person's planned dates, whose earlier
// scheduled events their applying cancels.
func TestEventReplacesDates(t *testing.T) {
	for _, c := range []struct {
		e    domain.Event
		want bool
	}{
		{domain.Event{Type: domain.EventJoiner}, true},
		{domain.Event{Type: domain.EventLeaver}, true},
		{domain.Event{Type: domain.EventRehire}, true},
		{domain.Event{Type: domain.EventMover, Changed: []string{"title"}}, false},
		{domain.Event{Type: domain.EventChange, Changed: []string{"email", "end_date"}}, true},
		{domain.Event{Type: domain.EventChange, Changed: []string{"start_date"}}, true},
		{domain.Event{Type: domain.EventChange, Changed: []string{"display_name"}}, false},
	} {
		if got := c.e.ReplacesDates(); got != c.want {
			t.Errorf("%s changing %v: ReplacesDates = %v, want %v", c.e.Type, c.e.Changed, got, c.want)
		}
	}
}
