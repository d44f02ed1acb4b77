package connector

import (
	"net/http"
	"testing"
	"time"
)

func TestRetryAfter(t *testing.T) {
	for h, want := range map[string]int{"": 0, "7": 7, " 3 ": 3, "-2": 0, "soon": 0,
		time.Now().Add(-time.Hour).UTC().Format(http.TimeFormat): 0} {
		if got := RetryAfter(h); got != want {
			t.Errorf("RetryAfter(%q) = %d, want %d", h, got, want)
		}
	}
	if got := RetryAfter(time.Now().Add(90 * time.Second).UTC().Format(http.TimeFormat)); got < 89 || got > 91 {
		t.Errorf("an HTTP date 90 s ahead gave %d", got)
	}
}

func TestBackoff(t *testing.T) {
	for attempt := range 30 {
		d := Backoff(100*time.Millisecond, 5*time.Second, attempt)
		full := min(100*time.Millisecond<<min(attempt, 20), 5*time.Second)
		if d < full/2 || d > full {
			t.Fatalf("attempt %d: %s, want between %s and %s", attempt, d, full/2, full)
		}
	}
}
