package config_test

import (
	"strings"
	"testing"
	"time"

	"github.com/tango-iga/tango/internal/config"
)

func TestReviewsPace(t *testing.T) {
	c, err := config.Parse([]byte("reviews: {pace_decisions: 20, pace_window: 30s}\n"), "t.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if n, w := c.Reviews.Pace(); n != 20 || w != 30*time.Second {
		t.Fatalf("pace %d in %s, want 20 in 30s", n, w)
	}
	c, _ = config.Parse([]byte("org: {name: x}\n"), "t.yaml")
	if n, w := c.Reviews.Pace(); n != 50 || w != time.Minute {
		t.Fatalf("default pace %d in %s, want 50 in 1m", n, w)
	}
	_, err = config.Parse([]byte("reviews: {pace_decisions: -1, pace_window: soon}\n"), "t.yaml")
	if err == nil || !strings.Contains(err.Error(), "reviews.pace_decisions") || !strings.Contains(err.Error(), "reviews.pace_window") {
		t.Fatalf("bad pace: %v, want both keys named", err)
	}
}
