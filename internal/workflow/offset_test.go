package workflow

import (
	"strings"
	"testing"
	"time"
)

// TestOffsetBounded: a step's due offset is at most 100 years either way;
// longer ones (which would overflow an int64 of nanoseconds) are refused
// naming the input.
func TestOffsetBounded(t *testing.T) {
	for in, want := range map[string]time.Duration{"3d": 72 * time.Hour, "-1d": -24 * time.Hour, "1.5d": 36 * time.Hour, "36h": 36 * time.Hour, "36525d": 36525 * 24 * time.Hour} {
		if d, ok, err := Offset(in).Duration(); err != nil || !ok || d != want {
			t.Errorf("Offset(%q) = %v, %v, %v; want %v", in, d, ok, err, want)
		}
	}
	for _, bad := range []string{"213504d", "-213504d", "36526d", "1e300d", "NaNd", "Infd", "876601h"} {
		d, _, err := Offset(bad).Duration()
		if err == nil || !strings.Contains(err.Error(), `"`+bad+`"`) {
			t.Errorf("Offset(%q) = %v, %v; want an error naming it", bad, d, err)
		}
	}
}
