package sqlite_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/tango-iga/tango/internal/store"
	"github.com/tango-iga/tango/internal/store/sqlite"
	"github.com/tango-iga/tango/internal/store/sqlstore"
)

// Several openers of one new file at once each find it migrated once:
// none fails half-way with "table sources already exists".
func TestConcurrentFirstOpensMigrateOnce(t *testing.T) {
	ctx := context.Background()
	for round := 0; round < 4; round++ {
		path := filepath.Join(t.TempDir(), "tango.db")
		const n = 4
		errs := make([]error, n)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				st, err := sqlite.Open(ctx, path)
				if err == nil {
					err = st.Close()
				}
				errs[i] = err
			}()
		}
		close(start)
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("round %d, opener %d: %v", round, i, err)
			}
		}
	}
}

// A command that only reads creates nothing: a missing file (or one
// without Tango's schema) is ErrNoDatabase, and no directory or file
// appears.
func TestOpenExistingRefusesWhatIsNotATangoDatabase(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	missing := filepath.Join(dir, "no", "such", "tango.db")
	if _, err := sqlite.OpenExisting(ctx, missing); !errors.Is(err, sqlstore.ErrNoDatabase) {
		t.Fatalf("missing file: %v, want ErrNoDatabase", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "no")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("opening a missing database created its directory: %v", err)
	}
	empty := filepath.Join(dir, "empty.db")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := sqlite.OpenExisting(ctx, empty); !errors.Is(err, sqlstore.ErrNoDatabase) {
		t.Fatalf("empty file: %v, want ErrNoDatabase", err)
	}
	if fi, err := os.Stat(empty); err != nil || fi.Size() != 0 {
		t.Fatalf("the empty file was written to: %v %v", fi, err)
	}
	good := filepath.Join(dir, "tango.db")
	st, err := sqlite.Open(ctx, good)
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	st, err = sqlite.OpenExisting(ctx, good)
	if err != nil {
		t.Fatalf("an existing database: %v", err)
	}
	st.Close()
}

// A commit returns once its log is durable; the store's background pass
// copies the log into the database file while the store stays open (the
// connections' own automatic checkpoint is off).
func TestLogReachesTheDatabaseWhileOpen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "tango.db")
	st, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var auto int
	if err := st.SQL().QueryRowContext(ctx, "PRAGMA wal_autocheckpoint").Scan(&auto); err != nil || auto != 0 {
		t.Fatalf("wal_autocheckpoint = %d (%v), want 0: the commit would copy its own log", auto, err)
	}
	size := func() int64 {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	before := size()
	var put []store.GrantRow
	for i := range 50_000 {
		put = append(put, store.GrantRow{App: "erp", Source: "hris", EmployeeID: fmt.Sprintf("E%06d", i),
			Entitlement: "reports", State: "active", Reason: "a long enough reason to fill pages", UpdatedAt: time.Now()})
	}
	if err := st.QueueOps(ctx, store.ProvisionBatch{Put: put}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for size() < before+2<<20 {
		if time.Now().After(deadline) {
			t.Fatalf("the database file is %d bytes 20 s after a commit of 50,000 grants (%d before): the log was not checkpointed", size(), before)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
