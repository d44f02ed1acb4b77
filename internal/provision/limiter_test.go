package provision

import (
	"testing"
	"time"
)

func TestLimiterSpacesCalls(t *testing.T) {
	l := newLimiter(10) // 10 per second
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var last time.Duration
	for range 11 {
		last = l.reserve(now)
	}
	if last != time.Second {
		t.Fatalf("the 11th call at 10/s waits %s, want 1s", last)
	}
	if w := l.reserve(now.Add(5 * time.Second)); w != 0 {
		t.Fatalf("after an idle spell the next call waits %s, want 0", w)
	}
	if w := newLimiter(0).reserve(now); w != 0 {
		t.Fatalf("no limit waits %s", w)
	}
}
