package config

import (
	"strings"
	"time"
)

// Reviews configures access reviews (tango reviews).
type Reviews struct {
	// PaceDecisions and PaceWindow: a reviewer who decides more than
	// PaceDecisions items within PaceWindow is rubber-stamping, a finding
	// for Security. Defaults: 50 within 1m.
	PaceDecisions int    `yaml:"pace_decisions"`
	PaceWindow    string `yaml:"pace_window"`
}

// Default pace of review decisions.
const (
	DefaultReviewPaceDecisions = 50
	DefaultReviewPaceWindow    = time.Minute
)

// Pace is reviews.pace_decisions and reviews.pace_window with their
// defaults; finish has checked them.
func (r Reviews) Pace() (int, time.Duration) {
	n, w := r.PaceDecisions, DefaultReviewPaceWindow
	if n == 0 {
		n = DefaultReviewPaceDecisions
	}
	if s := strings.TrimSpace(r.PaceWindow); s != "" {
		if d, err := ParseDuration(s); err == nil {
			w = d
		}
	}
	return n, w
}

func (r Reviews) check(bad func(string, ...any)) {
	if r.PaceDecisions < 0 {
		bad("reviews.pace_decisions %d: want a positive number (default %d)", r.PaceDecisions, DefaultReviewPaceDecisions)
	}
	if s := strings.TrimSpace(r.PaceWindow); s != "" {
		if d, err := ParseDuration(s); err != nil || d <= 0 {
			bad("reviews.pace_window %q: want a positive length of time such as 1m", s)
		}
	}
}
