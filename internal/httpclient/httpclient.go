// Package httpclient is what every outbound HTTP caller of Tango shares
// (the SCIM and webhook connectors, chat notifications): the attempt loop
// (Do), which answers are worth retrying, how long to wait (backoff, the
// server's Retry-After), a rate limiter (Limiter), and hiding secrets
// (tokens, signing keys, credential headers, secret URLs) in errors and
// logs.
package httpclient

import (
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Retryable reports whether an HTTP status is worth retrying: 429 (rate
// limited) and 5xx. Other 4xx say the request itself is wrong.
func Retryable(status int) bool {
	return status == http.StatusTooManyRequests || status >= 500
}

// Backoff is the wait before retry number attempt (0-based): base doubled
// per attempt, capped at ceiling, with jitter over its upper half.
func Backoff(base, ceiling time.Duration, attempt int) time.Duration {
	d := base << min(attempt, 20)
	if d <= 0 || d > ceiling {
		d = ceiling
	}
	return d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
}

// RetryAfter parses a Retry-After header (seconds or an HTTP date) into
// whole seconds; 0 when absent, unreadable or past.
func RetryAfter(h string) int {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0
	}
	if n, err := strconv.Atoi(h); err == nil {
		return max(n, 0)
	}
	if t, err := http.ParseTime(h); err == nil {
		if d := time.Until(t); d > 0 {
			return int((d + time.Second - 1) / time.Second)
		}
	}
	return 0
}

// Redacted replaces a hidden value.
const Redacted = "[redacted]"

// Redactor hides secrets in text that came from elsewhere (an error of the
// HTTP client, a server's message) before it reaches an error or a log.
type Redactor struct {
	hidden []string // longest first, so that a value containing another is hidden whole
}

// NewRedactor hides the given secrets; empty ones are ignored.
func NewRedactor(secrets ...string) Redactor {
	var r Redactor
	for _, s := range secrets {
		if s != "" && !slices.Contains(r.hidden, s) {
			r.hidden = append(r.hidden, s)
		}
	}
	slices.SortFunc(r.hidden, func(a, b string) int { return len(b) - len(a) })
	return r
}

// String returns s with every secret replaced by Redacted.
func (r Redactor) String(s string) string {
	for _, h := range r.hidden {
		s = strings.ReplaceAll(s, h, Redacted)
	}
	return s
}

// Error returns err with its text redacted; errors.Is and As still see
// the original. nil stays nil.
func (r Redactor) Error(err error) error {
	if err == nil {
		return nil
	}
	return &redactedError{msg: r.String(err.Error()), err: err}
}

type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }
