package audit

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// Appender appends entries to the chain in one transaction (the store).
type Appender interface {
	AppendAudit(ctx context.Context, entries ...Entry) error
}

// Batch buffers the entries of reads and appends them together, so that
// reads neither wait for a write transaction each nor fail when the write
// does: a failed write is logged. The first entry of a batch starts a
// 200 ms timer; 5000 entries waiting are written at once (back-pressure).
// Write it once more after the last read (Write) so nothing is lost at
// shutdown.
type Batch struct {
	st      Appender
	log     *slog.Logger
	mu      sync.Mutex
	pending []Entry
	timer   bool
}

// NewBatch buffers entries for st; failures are logged to log.
func NewBatch(st Appender, log *slog.Logger) *Batch { return &Batch{st: st, log: log} }

// Add buffers entries.
func (a *Batch) Add(es ...Entry) {
	if len(es) == 0 {
		return
	}
	a.mu.Lock()
	a.pending = append(a.pending, es...)
	n := len(a.pending)
	start := !a.timer
	a.timer = true
	a.mu.Unlock()
	if n >= 5000 {
		a.Flush()
	} else if start {
		time.AfterFunc(200*time.Millisecond, a.Flush)
	}
}

// Flush writes the entries waiting; a failure is logged.
func (a *Batch) Flush() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := a.Write(ctx); err != nil {
		a.log.Error("audit of reads failed", "err", err)
	}
}

// Write appends the entries waiting and returns the failure.
func (a *Batch) Write(ctx context.Context) error {
	a.mu.Lock()
	batch := a.pending
	a.pending = nil
	a.timer = false
	a.mu.Unlock()
	if len(batch) == 0 {
		return nil
	}
	if err := a.st.AppendAudit(ctx, batch...); err != nil {
		return fmt.Errorf("audit of %d reads: %w", len(batch), err)
	}
	return nil
}
