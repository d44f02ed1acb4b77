// Package runner runs Tango's background work: each job's RunOnce in a
// loop that waits a poll interval when idle, runs again at once when woken
// or when a pass did something, backs off when a pass fails, and on
// shutdown waits for the pass in flight before running the job's Stop.
// Every job runs in its own goroutine of one errgroup.
package runner

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"golang.org/x/sync/errgroup"
)

// Job is one kind of background work.
type Job struct {
	// Name prefixes the job's log lines ("provision", "notify").
	Name string
	// RunOnce makes one pass and returns how many things it did: more
	// than 0 runs it again at once (more may be waiting).
	RunOnce func(ctx context.Context) (int, error)
	// Poll is the wait after an idle pass; it must be positive.
	Poll time.Duration
	// MaxBackoff bounds the wait after failed passes: Poll doubled for
	// each failure in a row, at most MaxBackoff (0: Poll, no backoff).
	MaxBackoff time.Duration
	// Wake, when set, ends an idle wait at once (work was queued).
	Wake <-chan struct{}
	// Stop, when set, runs after the loop has ended (the pass in flight
	// has returned): it flushes or closes what the job holds.
	Stop func(ctx context.Context) error
}

// Runner runs jobs until their context ends.
type Runner struct {
	log   *slog.Logger
	after func(time.Duration) <-chan time.Time
	jobs  []Job
}

// New makes a runner. log receives each failed pass; after is the clock
// the waits are made with (time.After outside tests). Both are required.
func New(log *slog.Logger, after func(time.Duration) <-chan time.Time, jobs ...Job) (*Runner, error) {
	if log == nil || after == nil {
		return nil, errors.New("runner: a logger and a clock are required")
	}
	for _, j := range jobs {
		if j.Name == "" || j.RunOnce == nil || j.Poll <= 0 {
			return nil, errors.New("runner: a job needs a name, a RunOnce and a positive poll interval")
		}
	}
	return &Runner{log: log, after: after, jobs: jobs}, nil
}

// Run runs every job until ctx ends, then waits for the passes in flight
// and runs each job's Stop with stopCtx (which bounds the flushes). It
// returns the errors of the Stops.
//
// A pass in flight when ctx ends is not cancelled with it: it runs on a
// context that ends only with stopCtx, so work already done outside (an
// e-mail sent, an account disabled) is recorded as done rather than left
// leased, to be done a second time when the lease expires.
func (r *Runner) Run(ctx, stopCtx context.Context) error {
	work, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	stop := context.AfterFunc(stopCtx, cancel)
	defer stop()
	var g errgroup.Group
	for _, j := range r.jobs {
		g.Go(func() error {
			r.loop(ctx, work, j)
			if j.Stop == nil {
				return nil
			}
			return j.Stop(stopCtx)
		})
	}
	return g.Wait()
}

// Backoff is the wait after failures failed passes in a row.
func (j Job) Backoff(failures int) time.Duration {
	d := j.Poll
	for i := 0; i < failures && d < j.MaxBackoff; i++ {
		d *= 2
	}
	return min(d, max(j.MaxBackoff, j.Poll))
}

// loop runs j's passes on work until ctx ends.
func (r *Runner) loop(ctx, work context.Context, j Job) {
	failures := 0
	for ctx.Err() == nil {
		n, err := j.RunOnce(work)
		if ctx.Err() != nil {
			return
		}
		wake := j.Wake
		wait := j.Poll
		switch {
		case err != nil:
			failures++
			wait = j.Backoff(failures)
			wake = nil // a failing store is not hurried by new work
			r.log.Error(j.Name+": pass failed", "err", err, "failures", failures, "retry_in", wait)
		case n > 0:
			failures = 0
			continue
		default:
			failures = 0
		}
		select {
		case <-ctx.Done():
		case <-wake:
		case <-r.after(wait):
		}
	}
}
