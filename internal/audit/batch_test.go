package audit

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

type appender struct {
	mu    sync.Mutex
	fail  error
	calls int
	got   []Entry
}

func (a *appender) AppendAudit(_ context.Context, es ...Entry) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.calls++
	if a.fail != nil {
		return a.fail
	}
	a.got = append(a.got, es...)
	return nil
}

func TestBatchWritesTogetherAndLogsFailures(t *testing.T) {
	st := &appender{}
	var logs bytes.Buffer
	b := NewBatch(st, slog.New(slog.NewTextHandler(&logs, nil)))
	at := time.Now()
	b.Add(New(at, "a", "person.read", "", "", "E1", nil, nil), New(at, "a", "person.read", "", "", "E2", nil, nil))
	b.Add(New(at, "b", "person.read", "", "", "E3", nil, nil))
	if err := b.Write(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st.calls != 1 || len(st.got) != 3 {
		t.Fatalf("%d writes of %d entries, want 1 of 3", st.calls, len(st.got))
	}
	st.fail = errors.New("disk full")
	b.Add(New(at, "a", "person.read", "", "", "E4", nil, nil))
	b.Flush()
	if !strings.Contains(logs.String(), "disk full") {
		t.Fatalf("a failed write is not logged: %q", logs.String())
	}
	// The timer writes what is buffered without a Flush.
	st.mu.Lock()
	st.fail = nil
	st.mu.Unlock()
	b.Add(New(at, "a", "person.read", "", "", "E5", nil, nil))
	deadline := time.Now().Add(10 * time.Second)
	for {
		st.mu.Lock()
		n := len(st.got)
		st.mu.Unlock()
		if n == 4 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the buffered entry was never written (%d entries)", n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
