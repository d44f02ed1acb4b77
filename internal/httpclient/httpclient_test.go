package httpclient

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestRetryAfterSecondsAndHTTPDate(t *testing.T) {
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

func TestBackoffIsCapped(t *testing.T) {
	for attempt := range 30 {
		d := Backoff(100*time.Millisecond, 5*time.Second, attempt)
		full := min(100*time.Millisecond<<min(attempt, 20), 5*time.Second)
		if d < full/2 || d > full {
			t.Fatalf("attempt %d: %s, want between %s and %s", attempt, d, full/2, full)
		}
	}
	if d := Backoff(time.Hour, time.Second, 40); d > time.Second {
		t.Errorf("Backoff past the ceiling: %s", d)
	}
}

func TestRetryable(t *testing.T) {
	for status, want := range map[int]bool{429: true, 500: true, 502: true, 503: true, 504: true,
		200: false, 400: false, 401: false, 403: false, 404: false, 409: false, 422: false} {
		if got := Retryable(status); got != want {
			t.Errorf("Retryable(%d) = %v, want %v", status, got, want)
		}
	}
}

func TestRedactorHidesSecretsInErrors(t *testing.T) {
	r := NewRedactor("tok", "", "Bearer tok-longer")
	err := r.Error(fmt.Errorf("POST https://x/?t=tok: auth Bearer tok-longer refused: %w", io.ErrUnexpectedEOF))
	if strings.Contains(err.Error(), "tok") || strings.Count(err.Error(), Redacted) != 2 {
		t.Errorf("redacted error %q", err)
	}
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Error("the redacted error lost its cause")
	}
	if r.Error(nil) != nil {
		t.Error("nil became an error")
	}
	if got := NewRedactor().String("a secret-free text"); got != "a secret-free text" {
		t.Errorf("no secrets: %q", got)
	}
}
