package httpclient

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeSleep records the waits Do asks for and returns at once.
type fakeSleep struct {
	mu    sync.Mutex
	waits []time.Duration
}

func (f *fakeSleep) sleep(ctx context.Context, d time.Duration) error {
	f.mu.Lock()
	f.waits = append(f.waits, d)
	f.mu.Unlock()
	return ctx.Err()
}

func (f *fakeSleep) got() []time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Duration(nil), f.waits...)
}

// script answers with the given statuses in turn (the last one again once
// they run out), recording the bodies it receives.
type script struct {
	mu       sync.Mutex
	statuses []int
	header   http.Header
	bodies   []string
}

func (s *script) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	n := len(s.bodies)
	s.bodies = append(s.bodies, string(b))
	status := s.statuses[min(n, len(s.statuses)-1)]
	s.mu.Unlock()
	for k, v := range s.header {
		w.Header()[k] = v
	}
	w.WriteHeader(status)
	_, _ = io.WriteString(w, "answer "+http.StatusText(status))
}

func (s *script) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.bodies)
}

func post(url, body string) func() (*http.Request, error) {
	return func() (*http.Request, error) {
		return http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	}
}

func policy(f *fakeSleep) Policy {
	return Policy{MaxRetries: 3, MaxWait: 30 * time.Second, Base: 500 * time.Millisecond, Ceiling: 30 * time.Second, sleep: f.sleep}
}

func TestDoRetriesThenSucceedsResendingTheWholeBody(t *testing.T) {
	s := &script{statuses: []int{503, 429, 200}}
	srv := httptest.NewServer(s)
	defer srv.Close()
	f := &fakeSleep{}
	resp, err := Do(context.Background(), srv.Client(), post(srv.URL, "the whole body"), policy(f))
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status != 200 || resp.Attempts != 3 || string(resp.Body) != "answer OK" {
		t.Errorf("response %d after %d attempts, body %q", resp.Status, resp.Attempts, resp.Body)
	}
	for i, b := range s.bodies {
		if b != "the whole body" {
			t.Errorf("attempt %d sent %q", i+1, b)
		}
	}
	waits := f.got()
	if len(waits) != 2 || waits[0] < 250*time.Millisecond || waits[0] > 500*time.Millisecond ||
		waits[1] < 500*time.Millisecond || waits[1] > time.Second {
		t.Errorf("waits %v, want backoff from 500 ms doubling", waits)
	}
}

func TestDoGivesUpAfterMaxRetriesWithTheLastResponse(t *testing.T) {
	s := &script{statuses: []int{500}}
	srv := httptest.NewServer(s)
	defer srv.Close()
	f := &fakeSleep{}
	resp, err := Do(context.Background(), srv.Client(), post(srv.URL, "x"), policy(f))
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status != 500 || resp.Attempts != 4 || s.count() != 4 || len(f.got()) != 3 {
		t.Errorf("status %d, %d attempts, %d requests, waits %v; want 500 after 4", resp.Status, resp.Attempts, s.count(), f.got())
	}
}

func TestDoDoesNotRetryA4xx(t *testing.T) {
	for _, status := range []int{400, 401, 404, 409, 422} {
		s := &script{statuses: []int{status, 200}}
		srv := httptest.NewServer(s)
		f := &fakeSleep{}
		resp, err := Do(context.Background(), srv.Client(), post(srv.URL, "x"), policy(f))
		srv.Close()
		if err != nil || resp.Status != status || resp.Attempts != 1 || s.count() != 1 || len(f.got()) != 0 {
			t.Errorf("%d: %v, %+v after %d requests", status, err, resp, s.count())
		}
	}
}

func TestDoHonoursRetryAfterUpToMaxWait(t *testing.T) {
	s := &script{statuses: []int{429, 200}, header: http.Header{"Retry-After": {"7"}}}
	srv := httptest.NewServer(s)
	defer srv.Close()
	f := &fakeSleep{}
	resp, err := Do(context.Background(), srv.Client(), post(srv.URL, "x"), policy(f))
	if err != nil || resp.Status != 200 {
		t.Fatalf("%v, %+v", err, resp)
	}
	if w := f.got(); len(w) != 1 || w[0] != 7*time.Second {
		t.Errorf("waits %v, want the Retry-After of 7 s", w)
	}

	// An HTTP date works too.
	s = &script{statuses: []int{503, 200}, header: http.Header{"Retry-After": {time.Now().Add(20 * time.Second).UTC().Format(http.TimeFormat)}}}
	srv2 := httptest.NewServer(s)
	defer srv2.Close()
	f = &fakeSleep{}
	if _, err := Do(context.Background(), srv2.Client(), post(srv2.URL, "x"), policy(f)); err != nil {
		t.Fatal(err)
	}
	if w := f.got(); len(w) != 1 || w[0] < 19*time.Second || w[0] > 21*time.Second {
		t.Errorf("waits %v, want about 20 s", w)
	}

	// Longer than MaxWait: the 429 comes back at once for the caller to schedule.
	s = &script{statuses: []int{429, 200}, header: http.Header{"Retry-After": {"120"}}}
	srv3 := httptest.NewServer(s)
	defer srv3.Close()
	f = &fakeSleep{}
	resp, err = Do(context.Background(), srv3.Client(), post(srv3.URL, "x"), policy(f))
	if err != nil || resp.Status != 429 || resp.Attempts != 1 || resp.RetryAfter() != 120 || len(f.got()) != 0 {
		t.Errorf("%v, %+v, waits %v: want the 429 at once", err, resp, f.got())
	}
}

func TestDoContextCancelEndsTheWaitAtOnce(t *testing.T) {
	served := make(chan struct{}, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "60")
		w.WriteHeader(http.StatusServiceUnavailable)
		served <- struct{}{}
	}))
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	p := Policy{MaxRetries: 3, MaxWait: 2 * time.Minute, Base: time.Millisecond, Ceiling: time.Millisecond} // the real timer
	go func() {
		_, err := Do(ctx, srv.Client(), post(srv.URL, "x"), p)
		done <- err
	}()
	<-served
	start := time.Now()
	cancel()
	select {
	case err := <-done:
		var e *Error
		if !errors.As(err, &e) || !e.Context || !errors.Is(err, context.Canceled) || e.Last == nil || e.Last.Status != 503 {
			t.Errorf("error %#v, want the context's with the 503 before it", err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("Do returned %s after the cancel", d)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Do still waits 10 s after the cancel")
	}
}

func TestDoRetriesTransportErrorsAndRedactsThem(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL + "/hook/s3cr3t-path"
	srv.Close() // nothing listens: every attempt fails to connect
	var made atomic.Int32
	f := &fakeSleep{}
	p := policy(f)
	p.MaxRetries = 2
	p.Redactor = NewRedactor("s3cr3t-path", strings.TrimPrefix(srv.URL, "http://"))
	_, err := Do(context.Background(), http.DefaultClient, func() (*http.Request, error) {
		made.Add(1)
		return http.NewRequest(http.MethodGet, url, nil)
	}, p)
	var e *Error
	if !errors.As(err, &e) || e.Context || e.Read || e.Attempts != 3 || made.Load() != 3 {
		t.Fatalf("error %#v after %d requests, want a transport *Error after 3", err, made.Load())
	}
	if strings.Contains(err.Error(), "s3cr3t") || strings.Contains(err.Error(), srv.URL) || !strings.Contains(err.Error(), Redacted) {
		t.Errorf("error text %q shows a secret", err)
	}

	// An error of the request factory comes back as it is, redacted.
	boom := errors.New("no request for token s3cr3t-path")
	_, err = Do(context.Background(), http.DefaultClient, func() (*http.Request, error) { return nil, boom }, p)
	if !errors.Is(err, boom) || errors.As(err, &e) || strings.Contains(err.Error(), "s3cr3t") {
		t.Errorf("factory error %q", err)
	}
}

// brokenBody is a response body that fails half way.
type brokenBody struct{ io.Reader }

func (brokenBody) Close() error { return nil }

type roundTrip func(*http.Request) (*http.Response, error)

func (f roundTrip) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestDoRetriesAnUnreadableResponseAndBoundsTheBody(t *testing.T) {
	calls := 0
	client := &http.Client{Transport: roundTrip(func(r *http.Request) (*http.Response, error) {
		calls++
		body := io.Reader(bytes.NewReader(bytes.Repeat([]byte("a"), 100)))
		if calls == 1 {
			body = io.MultiReader(strings.NewReader("half"), iotestErr{})
		}
		return &http.Response{StatusCode: 200, Header: http.Header{"Retry-After": {"5"}}, Body: brokenBody{body}, Request: r}, nil
	})}
	f := &fakeSleep{}
	p := policy(f)
	p.MaxBody = 10
	resp, err := Do(context.Background(), client, post("http://x.invalid/", "x"), p)
	if err != nil || resp.Attempts != 2 || len(resp.Body) != 11 {
		t.Fatalf("%v, %+v: want a body of MaxBody+1 bytes on the second attempt", err, resp)
	}

	calls = 0
	p.MaxRetries = 0
	_, err = Do(context.Background(), client, post("http://x.invalid/", "x"), p)
	var e *Error
	if !errors.As(err, &e) || !e.Read || e.Status != 200 || e.Header.Get("Retry-After") != "5" {
		t.Errorf("error %#v, want a read *Error of the 200 and its header", err)
	}
}

type iotestErr struct{}

func (iotestErr) Read([]byte) (int, error) { return 0, errors.New("connection reset") }

func TestLimiterSpacesRequests(t *testing.T) {
	if NewLimiter(0, 5) != nil {
		t.Error("a rate of 0 must mean no limiter")
	}
	var nilLimiter *Limiter
	if err := nilLimiter.Wait(context.Background()); err != nil {
		t.Error(err)
	}
	s := &script{statuses: []int{200}}
	srv := httptest.NewServer(s)
	defer srv.Close()
	p := Policy{Limiter: NewLimiter(50, 1)} // one request every 20 ms
	start := time.Now()
	for range 6 {
		if _, err := Do(context.Background(), srv.Client(), post(srv.URL, "x"), p); err != nil {
			t.Fatal(err)
		}
	}
	if d := time.Since(start); d < 95*time.Millisecond {
		t.Errorf("6 requests at 50/s took %s, want at least 100 ms", d)
	}

	// A waiter gives up when its context ends.
	l := NewLimiter(0.001, 1)
	_ = l.Wait(context.Background()) // the one token
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	start = time.Now()
	if err := l.Wait(ctx); !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 5*time.Second {
		t.Errorf("Wait = %v after %s", err, time.Since(start))
	}
	_, err := Do(ctx, srv.Client(), post(srv.URL, "x"), Policy{Limiter: l})
	var e *Error
	if !errors.As(err, &e) || !e.Context || e.Attempts != 0 {
		t.Errorf("Do behind an ended limiter wait: %#v", err)
	}
}
