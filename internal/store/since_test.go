package store

import (
	"strings"
	"testing"
	"time"
)

// TestParseSinceBounded: a window back from now is at most 100 years;
// 213504d (which wraps an int64 of nanoseconds to 25 minutes) is refused
// with the input named.
func TestParseSinceBounded(t *testing.T) {
	now := time.Date(2026, 6, 15, 12, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Time{
		"7d": now.AddDate(0, 0, -7), "24h": now.Add(-24 * time.Hour), "0s": now,
		"2026-03-02": time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC), "36525d": now.Add(-36525 * 24 * time.Hour),
	} {
		if got, err := ParseSince(in, now); err != nil || !got.Equal(want) {
			t.Errorf("ParseSince(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"213504d", "36526d", "-1d", "-2h", "x", "99999999999999999999d"} {
		got, err := ParseSince(bad, now)
		if err == nil || !strings.Contains(err.Error(), `"`+bad+`"`) {
			t.Errorf("ParseSince(%q) = %v, %v; want an error naming it", bad, got, err)
		}
	}
}
