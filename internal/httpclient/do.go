package httpclient

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"sync"
	"time"
)

// DefaultMaxBody is Policy.MaxBody when it is zero.
const DefaultMaxBody = 1 << 20

// Policy says how Do repeats a request.
type Policy struct {
	// MaxRetries is how many times an attempt that failed temporarily (a
	// transport error, an unreadable response, a Retryable status) is
	// repeated; 0 or less for none.
	MaxRetries int
	// MaxWait is the longest Do waits before a retry: when the wait (the
	// backoff or the server's Retry-After) is longer, Do returns the last
	// outcome at once for the caller to schedule the retry.
	MaxWait time.Duration
	// Base and Ceiling are Backoff's: the wait before the first retry,
	// doubled for each next one (with jitter), capped at Ceiling. A
	// Retry-After from the server replaces it.
	Base, Ceiling time.Duration
	// MaxBody bounds the response body read (one byte more is read, so
	// that the caller can tell a longer body); 0 means DefaultMaxBody.
	MaxBody int64
	// Limiter, when set, is waited on before each attempt.
	Limiter *Limiter
	// Redactor hides secrets in the errors Do returns.
	Redactor Redactor

	// sleep waits d or until ctx ends (tests replace it); nil is a timer.
	sleep func(ctx context.Context, d time.Duration) error
}

// Response is the last answer Do got, its body read and closed.
type Response struct {
	Status int
	Header http.Header
	Body   []byte // at most Policy.MaxBody+1 bytes
	// Attempts is how many requests were made. A Retryable Status with
	// Attempts > MaxRetries means the retries ran out; with fewer, the
	// server asked for a longer wait than MaxWait (see RetryAfter).
	Attempts int
}

// RetryAfter is the response's Retry-After in whole seconds, 0 when absent.
func (r *Response) RetryAfter() int { return RetryAfter(r.Header.Get("Retry-After")) }

// Error is how Do ended without a response: a transport error, an
// unreadable response or the end of the context.
type Error struct {
	// Err is the cause, redacted: the transport error (without the URL
	// the net/http client puts in front), the read error, or ctx.Err().
	Err error
	// Context says Err is the context's: it ended during an attempt, the
	// limiter's wait or the wait before a retry. Nothing to retry.
	Context bool
	// Read says Err came from reading the body of a response of Status
	// and Header.
	Read   bool
	Status int
	Header http.Header
	// Attempts is how many requests were made.
	Attempts int
	// When the context ended during the wait before a retry, the outcome
	// that caused the wait: Last (a Retryable response) or LastErr.
	Last    *Response
	LastErr *Error
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// Do sends the request newRequest makes (once per attempt, so that bodies
// and signatures are made afresh) with client, repeating it on transport
// errors, unreadable responses and Retryable statuses as p says. It returns
// the last response, whatever its status, or an *Error; an error of
// newRequest is returned as it is, redacted. Every response body is read
// (up to p.MaxBody+1 bytes) and closed.
func Do(ctx context.Context, client *http.Client, newRequest func() (*http.Request, error), p Policy) (*Response, error) {
	if p.MaxBody <= 0 {
		p.MaxBody = DefaultMaxBody
	}
	sleep := p.sleep
	if sleep == nil {
		sleep = wait
	}
	for attempt := 0; ; attempt++ {
		if err := p.Limiter.Wait(ctx); err != nil {
			return nil, &Error{Err: err, Context: true, Attempts: attempt}
		}
		resp, failure, err := p.once(ctx, client, newRequest)
		if err != nil {
			return nil, err
		}
		retryAfter := 0
		if failure != nil {
			failure.Attempts = attempt + 1
			if failure.Context {
				return nil, failure
			}
		} else {
			resp.Attempts = attempt + 1
			if !Retryable(resp.Status) {
				return resp, nil
			}
			retryAfter = resp.RetryAfter()
		}
		if attempt >= p.MaxRetries {
			return outcome(resp, failure)
		}
		d := Backoff(p.Base, p.Ceiling, attempt)
		if retryAfter > 0 {
			d = time.Duration(retryAfter) * time.Second
		}
		if d > p.MaxWait {
			return outcome(resp, failure) // the caller schedules the retry
		}
		if err := sleep(ctx, d); err != nil {
			return nil, &Error{Err: err, Context: true, Attempts: attempt + 1, Last: resp, LastErr: failure}
		}
	}
}

func outcome(resp *Response, failure *Error) (*Response, error) {
	if failure != nil {
		return nil, failure
	}
	return resp, nil
}

// once makes one attempt: a response, a failure, or newRequest's error.
func (p *Policy) once(ctx context.Context, client *http.Client, newRequest func() (*http.Request, error)) (*Response, *Error, error) {
	req, err := newRequest()
	if err != nil {
		return nil, nil, p.Redactor.Error(err)
	}
	resp, err := client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, &Error{Err: ctx.Err(), Context: true}, nil
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // its text holds the URL
		}
		return nil, &Error{Err: p.Redactor.Error(err)}, nil
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, p.MaxBody+1))
	if err != nil {
		if ctx.Err() != nil {
			return nil, &Error{Err: ctx.Err(), Context: true, Read: true, Status: resp.StatusCode, Header: resp.Header}, nil
		}
		return nil, &Error{Err: p.Redactor.Error(err), Read: true, Status: resp.StatusCode, Header: resp.Header}, nil
	}
	return &Response{Status: resp.StatusCode, Header: resp.Header, Body: data}, nil, nil
}

// wait waits d, or until ctx ends (then it returns ctx.Err()).
func wait(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Limiter is a token bucket limiting a request rate; every attempt takes
// a token. A nil *Limiter does not limit. It is safe for concurrent use.
type Limiter struct {
	mu     sync.Mutex
	rate   float64 // tokens per second
	burst  float64
	tokens float64
	last   time.Time
}

// NewLimiter allows perSecond requests a second on average and burst
// (at least 1) at once; it returns nil (no limit) when perSecond <= 0.
func NewLimiter(perSecond float64, burst int) *Limiter {
	if perSecond <= 0 {
		return nil
	}
	b := float64(max(burst, 1))
	return &Limiter{rate: perSecond, burst: b, tokens: b, last: time.Now()}
}

// Wait takes a token, waiting for it if need be; it returns ctx.Err() if
// the context ends first (the token stays taken).
func (l *Limiter) Wait(ctx context.Context) error {
	if l == nil {
		return nil
	}
	l.mu.Lock()
	now := time.Now()
	l.tokens = min(l.burst, l.tokens+now.Sub(l.last).Seconds()*l.rate)
	l.last = now
	l.tokens-- // reserve one, possibly in the future
	d := time.Duration(0)
	if l.tokens < 0 {
		d = time.Duration(-l.tokens / l.rate * float64(time.Second))
	}
	l.mu.Unlock()
	if d == 0 {
		return nil
	}
	return wait(ctx, d)
}
