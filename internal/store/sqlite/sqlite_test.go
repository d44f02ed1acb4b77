package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/tango-iga/tango/internal/audit"
	"github.com/tango-iga/tango/internal/store"
	"github.com/tango-iga/tango/internal/store/sqlite"
	"github.com/tango-iga/tango/internal/store/sqlstore"
	"github.com/tango-iga/tango/internal/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, storetest.Backend{
		Open: func(t *testing.T) store.Store {
			st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "tango.db"))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			return st
		},
		Raw: func(st store.Store) *sql.DB { return st.(*sqlstore.DB).SQL() },
	})
}

// Writes that queue while another holds the database share one
// transaction; one that fails (a taken userName) is undone alone.
func TestGroupedWritesShareACommitAndFailAlone(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "tango.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	user := func(id, name string) store.SCIMWrite {
		return store.SCIMWrite{Resource: store.SCIMResource{ID: id, Type: store.SCIMUser, Source: "s", NameKey: name,
			Created: at, Modified: at, Doc: []byte(`{}`)}}
	}
	if err := st.WriteSCIM(ctx, []store.SCIMWrite{user("taken", "taken")}, nil); err != nil {
		t.Fatal(err)
	}
	// Hold the write lock from outside the store.
	conn, err := st.SQL().Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	_, before := st.GroupStats()
	errs := make([]error, 10)
	var wg sync.WaitGroup
	start := func(i int) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ws := []store.SCIMWrite{user(fmt.Sprint("u", i), fmt.Sprint("u", i))}
			if i%3 == 2 {
				// A first resource is written before the second fails.
				ws = []store.SCIMWrite{user(fmt.Sprint("x", i), fmt.Sprint("x", i)), user(fmt.Sprint("u", i), "taken")}
			}
			entry := audit.New(at, "t", "scim.user.create", "", "", fmt.Sprint("u", i), nil, nil)
			errs[i] = st.WriteSCIM(ctx, ws, []audit.Entry{entry})
		}()
	}
	// The first write begins a transaction and waits for the lock; the
	// other nine queue behind it.
	start(0)
	waitFor(t, func() bool { q, b := st.GroupStats(); return q == 0 && b == before+1 })
	for i := 1; i < 10; i++ {
		start(i)
	}
	waitFor(t, func() bool { q, _ := st.GroupStats(); return q == 9 })
	if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if _, after := st.GroupStats(); after != before+2 {
		t.Fatalf("10 writes used %d transactions, want 2", after-before)
	}
	for i, err := range errs {
		_, rerr := st.SCIMResource(ctx, store.SCIMUser, fmt.Sprint("u", i))
		if i%3 == 2 {
			if _, xerr := st.SCIMResource(ctx, store.SCIMUser, fmt.Sprint("x", i)); !errors.Is(xerr, store.ErrNotFound) {
				t.Fatalf("write %d failed but its first resource was kept: %v", i, xerr)
			}
			if !errors.Is(err, store.ErrUniqueness) || !errors.Is(rerr, store.ErrNotFound) {
				t.Fatalf("write %d: %v, read back: %v; want a uniqueness error and nothing stored", i, err, rerr)
			}
			continue
		}
		if err != nil || rerr != nil {
			t.Fatalf("write %d: %v, read back: %v", i, err, rerr)
		}
	}
	ents, err := st.AuditEntries(ctx, 0, 100)
	if err != nil || len(ents) != 7 {
		t.Fatalf("%d audit entries (%v), want the 7 of the writes that succeeded", len(ents), err)
	}
	v := audit.NewVerifier()
	seq, hash, err := st.AuditHead(ctx)
	if b := v.Next(ents); b != nil || err != nil {
		t.Fatalf("chain: %v %v", b, err)
	}
	if b := v.Finish(seq, hash); b != nil {
		t.Fatalf("chain head: %v", b)
	}
}

// waitFor spins (yielding) until cond holds, for at most 10 s.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached in 10 s")
		}
		runtime.Gosched()
	}
}
