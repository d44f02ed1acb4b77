package web

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tango-iga/tango/internal/audit"
	"github.com/tango-iga/tango/internal/config"
)

// chainStore serves a hash chain held in memory.
type chainStore struct {
	Store
	es    []audit.Entry
	reads int // entries read
}

func (c *chainStore) AuditEntries(_ context.Context, after int64, limit int) ([]audit.Entry, error) {
	var out []audit.Entry
	for _, e := range c.es {
		if e.Seq > after && len(out) < limit {
			out = append(out, e)
		}
	}
	c.reads += len(out)
	return out, nil
}

func (c *chainStore) AuditHead(context.Context) (int64, string, error) {
	if len(c.es) == 0 {
		return 0, audit.Genesis, nil
	}
	last := c.es[len(c.es)-1]
	return last.Seq, last.Hash, nil
}

func (c *chainStore) add(n int, at time.Time) {
	es := make([]audit.Entry, n)
	for i := range es {
		es[i] = audit.New(at, "test", "x.y", "", "", "", nil, nil)
	}
	seq, hash := int64(0), audit.Genesis
	if len(c.es) > 0 {
		seq, hash = c.es[len(c.es)-1].Seq, c.es[len(c.es)-1].Hash
	}
	audit.Chain(es, seq, hash)
	c.es = append(c.es, es...)
}

// The audit page checks the whole chain every chainEvery and, between,
// only the entries added since: a rewritten old entry is caught at the
// next whole check, a broken new one at once.
func TestAuditPageChainCheckIsIncremental(t *testing.T) {
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	st := &chainStore{}
	st.add(2500, now)
	pg := &Pages{o: Options{Store: st, Config: config.Default(), Now: func() time.Time { return now }}}
	r := httptest.NewRequest("GET", "/audit", nil)
	msg, err := pg.verify(r)
	if err != nil || !strings.HasPrefix(msg, "verified: 2500 entries") || st.reads != 2500 {
		t.Fatalf("first view: %q %v, %d entries read", msg, err, st.reads)
	}
	st.add(10, now)
	st.reads = 0
	now = now.Add(time.Minute)
	if msg, _ = pg.verify(r); !strings.HasPrefix(msg, "verified: 2510 entries") || st.reads != 10 {
		t.Fatalf("second view: %q, %d entries read (want only the 10 new)", msg, st.reads)
	}
	// An old entry rewritten with its hash recomputed only for itself.
	st.es[100].Actor = "attacker"
	if msg, _ = pg.verify(r); !strings.HasPrefix(msg, "verified") {
		t.Fatalf("within chainEvery the old entries are not read again: %q", msg)
	}
	now = now.Add(chainEvery)
	if msg, _ = pg.verify(r); !strings.HasPrefix(msg, "!") || !strings.Contains(msg, "101") {
		t.Fatalf("the whole check after chainEvery: %q, want the break at entry 101", msg)
	}
	// A broken new entry is caught at once.
	st.es[100].Actor = "test"
	now = now.Add(chainEvery)
	if msg, _ = pg.verify(r); !strings.HasPrefix(msg, "verified") {
		t.Fatalf("repaired: %q", msg)
	}
	st.add(1, now)
	st.es[len(st.es)-1].Hash = "00"
	if msg, _ = pg.verify(r); !strings.HasPrefix(msg, "!") {
		t.Fatalf("a broken new entry: %q", msg)
	}
}

// The server's refresh job checks the whole chain every chainEvery/2, so
// that a view after chainEvery need not: the view reads only what is new,
// and still reports the break the job found.
func TestRefreshChecksTheWholeChainOffTheRequestPath(t *testing.T) {
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	st := &chainStore{}
	st.add(2500, now)
	pg := &Pages{o: Options{Store: st, Config: config.Default(), Now: func() time.Time { return now }}}
	r := httptest.NewRequest("GET", "/audit", nil)
	if msg, err := pg.verify(r); err != nil || !strings.HasPrefix(msg, "verified: 2500 entries") {
		t.Fatalf("first view: %q %v", msg, err)
	}
	ctx := context.Background()
	now = now.Add(chainEvery / 4)
	st.reads = 0
	if err := pg.checkWholeChain(ctx, chainEvery/2); err != nil || st.reads != 0 {
		t.Fatalf("the job before chainEvery/2: %v, %d entries read (want none)", err, st.reads)
	}
	st.es[100].Actor = "attacker"
	now = now.Add(chainEvery / 4)
	if err := pg.checkWholeChain(ctx, chainEvery/2); err != nil || st.reads == 0 {
		t.Fatalf("the job at chainEvery/2: %v, %d entries read (want the chain up to the break)", err, st.reads)
	}
	st.add(5, now)
	st.reads = 0
	now = now.Add(chainEvery/2 + time.Minute) // past chainEvery since the first view
	if msg, _ := pg.verify(r); !strings.HasPrefix(msg, "!") || !strings.Contains(msg, "101") || st.reads != 0 {
		t.Fatalf("a view after the job found the break: %q, %d entries read", msg, st.reads)
	}
}

// appendingStore appends entries while the chain is read (as a busy
// server does during a whole check).
type appendingStore struct {
	*chainStore
	at    time.Time
	added bool
}

func (a *appendingStore) AuditEntries(ctx context.Context, after int64, limit int) ([]audit.Entry, error) {
	out, err := a.chainStore.AuditEntries(ctx, after, limit)
	if len(out) == 0 && !a.added { // the walk reached the end: a write lands now
		a.added = true
		a.chainStore.add(3, a.at)
	}
	return out, err
}

// Entries appended while the whole chain is checked are not taken for a
// break (the check reads the head first), and the next view verifies them.
func TestWholeChainCheckWithAppendsMeanwhile(t *testing.T) {
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	cs := &chainStore{}
	cs.add(1500, now)
	st := &appendingStore{chainStore: cs, at: now}
	pg := &Pages{o: Options{Store: st, Config: config.Default(), Now: func() time.Time { return now }}}
	if err := pg.checkWholeChain(context.Background(), time.Minute); err != nil {
		t.Fatal(err)
	}
	if !st.added {
		t.Fatal("the store did not append during the check: the test checks nothing")
	}
	if pg.chain.broken != "" || pg.chain.seq != 1500 {
		t.Fatalf("after a whole check with appends meanwhile: broken %q at seq %d, want intact at 1500", pg.chain.broken, pg.chain.seq)
	}
}
