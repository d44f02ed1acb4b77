package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
)

// Group commit: small writes that arrive while another is committing
// (SCIM pushes, audit entries of reads) share one transaction and one
// durable commit, each inside its own savepoint, so that one write's
// failure undoes only that write. With synchronous commits every write
// otherwise waits for its own fsync, and on SQLite for the writer lock,
// which a waiting connection polls with sleeps of up to 100 ms.

// maxGroup bounds the writes sharing one transaction.
const maxGroup = 64

type groupWrite struct {
	ctx  context.Context
	fn   func(ctx context.Context, tx *sql.Tx) error
	done chan error
}

type grouper struct {
	mu      sync.Mutex
	queue   []*groupWrite
	running bool
	batches int64 // transactions begun for grouped writes
}

// GroupStats reports the grouped writes waiting for a transaction and
// the number of transactions grouped writes have used so far.
func (s *DB) GroupStats() (queued int, batches int64) {
	s.group.mu.Lock()
	defer s.group.mu.Unlock()
	return len(s.group.queue), s.group.batches
}

// writeGrouped runs fn in a write transaction shared with other grouped
// writes and returns once that transaction committed (fn's changes are
// durable) or fn failed (its changes are undone). fn gets ctx without its
// cancellation: cancelling a statement may abort the whole shared
// transaction. A write whose ctx is done before it starts is not run.
func (s *DB) writeGrouped(ctx context.Context, fn func(ctx context.Context, tx *sql.Tx) error) error {
	w := &groupWrite{ctx: ctx, fn: fn, done: make(chan error, 1)}
	g := &s.group
	g.mu.Lock()
	g.queue = append(g.queue, w)
	lead := !g.running
	g.running = true
	g.mu.Unlock()
	if lead {
		go s.drainGroups()
	}
	return <-w.done
}

// drainGroups commits batches until the queue is empty.
func (s *DB) drainGroups() {
	g := &s.group
	for {
		g.mu.Lock()
		batch := g.queue[:min(len(g.queue), maxGroup)]
		g.queue = g.queue[len(batch):]
		if len(batch) == 0 {
			g.queue = nil
			g.running = false
			g.mu.Unlock()
			return
		}
		g.batches++
		g.mu.Unlock()
		s.commitGroup(batch)
	}
}

func (s *DB) commitGroup(batch []*groupWrite) {
	errs := make([]error, len(batch))
	fail := func(err error) {
		for _, w := range batch {
			w.done <- err
		}
	}
	tx, err := s.db.BeginTx(context.Background(), nil)
	if err != nil {
		fail(fmt.Errorf("store: begin: %w", err))
		return
	}
	defer tx.Rollback()
	if err := s.d.Lock(context.Background(), tx); err != nil {
		fail(fmt.Errorf("store: lock: %w", err))
		return
	}
	ran := 0
	for i, w := range batch {
		if err := w.ctx.Err(); err != nil {
			errs[i] = err
			continue
		}
		ctx := context.WithoutCancel(w.ctx)
		if len(batch) == 1 {
			errs[i] = w.fn(ctx, tx)
			if errs[i] != nil {
				w.done <- errs[i]
				return
			}
			ran++
			continue
		}
		if _, err := tx.ExecContext(ctx, "SAVEPOINT grouped"); err != nil {
			fail(fmt.Errorf("store: savepoint: %w", err))
			return
		}
		if errs[i] = w.fn(ctx, tx); errs[i] != nil {
			if _, err := tx.ExecContext(ctx, "ROLLBACK TO SAVEPOINT grouped"); err != nil {
				fail(fmt.Errorf("store: rollback to savepoint: %w (after %v)", err, errs[i]))
				return
			}
		} else {
			ran++
		}
		if _, err := tx.ExecContext(ctx, "RELEASE SAVEPOINT grouped"); err != nil {
			fail(fmt.Errorf("store: release savepoint: %w", err))
			return
		}
	}
	if ran > 0 {
		if err := tx.Commit(); err != nil {
			err = fmt.Errorf("store: commit: %w", err)
			for i := range errs {
				if errs[i] == nil {
					errs[i] = err
				}
			}
		} else {
			s.wrote()
		}
	}
	for i, w := range batch {
		w.done <- errs[i]
	}
}
