package runner_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tango-iga/tango/internal/runner"
)

var discard = slog.New(slog.NewTextHandler(io.Discard, nil))

// clock hands out waits the test ends by hand, and records their lengths.
type clock struct {
	mu    sync.Mutex
	waits []time.Duration
	chans []chan time.Time
}

func (c *clock) after(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	c.waits = append(c.waits, d)
	c.chans = append(c.chans, ch)
	return ch
}

// fire ends every wait so far.
func (c *clock) fire() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, ch := range c.chans {
		select {
		case ch <- time.Time{}:
		default:
		}
	}
}

func (c *clock) recorded() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.waits)
}

func eventually(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func start(t *testing.T, r *runner.Runner) (cancel func(), done <-chan error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan error, 1)
	go func() { ch <- r.Run(ctx, context.Background()) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-ch:
		case <-time.After(10 * time.Second):
			t.Error("the runner did not stop")
		}
	})
	return cancel, ch
}

func TestNewRequiresALoggerAndAClock(t *testing.T) {
	c := &clock{}
	job := runner.Job{Name: "j", Poll: time.Second, RunOnce: func(context.Context) (int, error) { return 0, nil }}
	if _, err := runner.New(nil, c.after, job); err == nil {
		t.Error("no logger accepted")
	}
	if _, err := runner.New(discard, nil, job); err == nil {
		t.Error("no clock accepted")
	}
	if _, err := runner.New(discard, c.after, runner.Job{Name: "j", RunOnce: job.RunOnce}); err == nil {
		t.Error("a job without a poll interval accepted")
	}
}

// A pass that did something runs again at once; an idle one waits Poll,
// and a wake-up ends the wait.
func TestBusyPassesRunAgainAndWakeEndsTheWait(t *testing.T) {
	c := &clock{}
	var passes atomic.Int32
	todo := atomic.Int32{}
	todo.Store(3)
	wake := make(chan struct{}, 1)
	r, err := runner.New(discard, c.after, runner.Job{Name: "j", Poll: time.Hour, Wake: wake,
		RunOnce: func(context.Context) (int, error) {
			passes.Add(1)
			if todo.Load() > 0 {
				return int(todo.Add(-1)) + 1, nil
			}
			return 0, nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	start(t, r)
	// Three busy passes, then the idle fourth waits an hour.
	eventually(t, "the idle pass waits", func() bool { return len(c.recorded()) == 1 })
	if got := passes.Load(); got != 4 || c.recorded()[0] != time.Hour {
		t.Fatalf("%d passes, waits %v; want 4 passes then a wait of 1h", got, c.recorded())
	}
	wake <- struct{}{}
	eventually(t, "the woken job runs again", func() bool { return passes.Load() == 5 })
	eventually(t, "it waits again", func() bool { return len(c.recorded()) == 2 })
}

// Failed passes in a row wait twice as long each time, at most
// MaxBackoff; a wake-up does not hurry them; a good pass resets the wait.
func TestBackoffOnError(t *testing.T) {
	c := &clock{}
	var passes atomic.Int32
	var failing atomic.Bool
	failing.Store(true)
	wake := make(chan struct{}, 1)
	r, err := runner.New(discard, c.after, runner.Job{Name: "j", Poll: time.Second, MaxBackoff: 5 * time.Second, Wake: wake,
		RunOnce: func(context.Context) (int, error) {
			passes.Add(1)
			if failing.Load() {
				return 0, errors.New("store unreachable")
			}
			return 0, nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	start(t, r)
	for i := 1; i <= 4; i++ {
		eventually(t, "the failed pass waits", func() bool { return len(c.recorded()) == i })
		if i == 1 {
			wake <- struct{}{} // ignored while backing off
		}
		if i == 4 {
			failing.Store(false)
		}
		c.fire()
	}
	// The good fifth pass waits Poll, and the wake-up still pending ends
	// that wait: a sixth pass, which waits Poll.
	eventually(t, "the woken sixth pass waits", func() bool { return len(c.recorded()) == 6 })
	want := []time.Duration{2 * time.Second, 4 * time.Second, 5 * time.Second, 5 * time.Second, time.Second, time.Second}
	if got := c.recorded(); !slices.Equal(got, want) || passes.Load() != 6 {
		t.Fatalf("%d passes, waits %v; want 6 passes, waits %v", passes.Load(), got, want)
	}
}

// Shutdown waits for the pass in flight, then runs Stop, and Run
// returns what Stop returned.
func TestShutdownWaitsForThePassInFlight(t *testing.T) {
	c := &clock{}
	started := make(chan struct{})
	release := make(chan struct{})
	var finished, stoppedAfter atomic.Bool
	stopErr := errors.New("flush failed")
	r, err := runner.New(discard, c.after, runner.Job{Name: "j", Poll: time.Second,
		RunOnce: func(context.Context) (int, error) {
			close(started)
			<-release // ignores ctx: a pass that finishes its work
			finished.Store(true)
			return 1, nil
		},
		Stop: func(context.Context) error {
			stoppedAfter.Store(finished.Load())
			return stopErr
		}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx, context.Background()) }()
	<-started
	cancel()
	select {
	case err := <-done:
		t.Fatalf("Run returned (%v) while a pass was in flight", err)
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	select {
	case err := <-done:
		if !errors.Is(err, stopErr) {
			t.Fatalf("Run = %v, want the Stop error", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after the pass ended")
	}
	if !finished.Load() || !stoppedAfter.Load() {
		t.Fatalf("pass finished %v, Stop ran after it %v", finished.Load(), stoppedAfter.Load())
	}
}

// A pass in flight when the runner is asked to stop keeps a live context,
// so what it did outside is recorded (a notification sent is marked sent,
// not left leased to be sent again); the stop context's end cuts it.
func TestPassInFlightOutlivesTheStopSignalUntilTheStopContext(t *testing.T) {
	c := &clock{}
	started := make(chan context.Context, 1)
	release := make(chan struct{})
	errAtEnd := make(chan error, 1)
	r, err := runner.New(discard, c.after, runner.Job{Name: "j", Poll: time.Second,
		RunOnce: func(ctx context.Context) (int, error) {
			started <- ctx
			<-release
			errAtEnd <- ctx.Err()
			return 1, nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	stopCtx, cut := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx, stopCtx) }()
	passCtx := <-started
	cancel() // shutdown begins
	select {
	case <-passCtx.Done():
		t.Fatal("the pass in flight was cancelled with the stop signal")
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	if err := <-errAtEnd; err != nil {
		t.Fatalf("the pass's context at its end: %v, want live", err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// The stop context bounds a pass that does not finish.
	r2, _ := runner.New(discard, c.after, runner.Job{Name: "hung", Poll: time.Second,
		RunOnce: func(ctx context.Context) (int, error) {
			started <- ctx
			<-ctx.Done()
			return 0, ctx.Err()
		}})
	ctx2, cancel2 := context.WithCancel(context.Background())
	go func() { done <- r2.Run(ctx2, stopCtx) }()
	<-started
	cancel2()
	cut()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("a hung pass outlived the stop context")
	}
}
