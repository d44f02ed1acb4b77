// Package duration is how Tango writes a length of time for people and
// JSON: whole days as "90d", anything else as a Go duration without its
// zero units ("2h", "1h30m", "18.2ms"). Parse reads both forms. The type
// lives in package domain (imports and requests carry it); this package
// keeps its short names.
package duration

import (
	"time"

	"github.com/tango-iga/tango/internal/domain"
)

// Duration is a time.Duration that marshals (JSON, text) as Format writes
// it and unmarshals from "90d", "2h", "1h30m" or "0s".
type Duration = domain.Duration

// Format writes d as whole days ("90d") when it is a positive number of
// days, else as a Go duration without trailing zero units ("36h", "1h30m",
// "90s", "18.2ms"); zero is "0s".
func Format(d time.Duration) string { return domain.FormatDuration(d) }

// Max is the longest length of time Parse reads: 100 years (36525d).
const Max = domain.MaxDuration

// Parse reads a positive length of time of at most Max: a number of days
// ("30d") or a Go duration ("36h", "90m", "1h30m"). Longer ones are
// refused with an error naming the input, never wrapped around.
func Parse(s string) (time.Duration, error) { return domain.ParseDuration(s) }
