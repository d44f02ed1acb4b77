package domain

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// How Tango writes a length of time for people and JSON: whole days as
// "90d", anything else as a Go duration without its zero units ("2h",
// "1h30m", "18.2ms"). ParseDuration reads both forms.

const day = 24 * time.Hour

// Duration is a time.Duration that marshals (JSON, text) as FormatDuration writes
// it and unmarshals from "90d", "2h", "1h30m" or "0s".
type Duration time.Duration

// Std is d as a time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }

// String is FormatDuration(d).
func (d Duration) String() string { return FormatDuration(time.Duration(d)) }

// MarshalText writes FormatDuration(d).
func (d Duration) MarshalText() ([]byte, error) { return []byte(FormatDuration(time.Duration(d))), nil }

// UnmarshalText reads what ParseDuration reads, and "0s" (or "0") for none.
func (d *Duration) UnmarshalText(b []byte) error {
	s := strings.TrimSpace(string(b))
	if s == "0" || s == "0s" {
		*d = 0
		return nil
	}
	v, err := ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// FormatDuration writes d as whole days ("90d") when it is a positive number of
// days, else as a Go duration without trailing zero units ("36h", "1h30m",
// "90s", "18.2ms"); zero is "0s".
func FormatDuration(d time.Duration) string {
	if d > 0 && d%day == 0 {
		return strconv.FormatInt(int64(d/day), 10) + "d"
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// MaxDuration is the longest length of time Tango reads: 100 years
// (36525d). Longer ones are refused rather than overflowing (213504d is
// 2^64 ns and more, which would wrap to minutes).
const MaxDuration = 36525 * day

// maxDays is MaxDuration in days.
const maxDays = int64(MaxDuration / day)

// ParseDuration reads a positive length of time of at most MaxDuration: a
// number of days ("30d") or a Go duration ("36h", "90m", "1h30m"). The
// error names the input.
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	want := fmt.Errorf("duration %q: want a number of days such as \"30d\" or a duration such as \"12h\", at most 100 years (%dd)", s, maxDays)
	tooLong := fmt.Errorf("duration %q: longer than 100 years (%dd), the most Tango takes", s, maxDays)
	if n, ok := strings.CutSuffix(s, "d"); ok {
		v, err := strconv.ParseInt(n, 10, 64)
		var ne *strconv.NumError
		switch {
		case errors.As(err, &ne) && ne.Err == strconv.ErrRange && !strings.HasPrefix(n, "-"):
			return 0, tooLong
		case err != nil || v <= 0:
			return 0, want
		case v > maxDays:
			return 0, tooLong
		}
		return time.Duration(v) * day, nil
	}
	d, err := time.ParseDuration(s)
	switch {
	case err != nil || d <= 0:
		return 0, want
	case d > MaxDuration:
		return 0, tooLong
	}
	return d, nil
}
