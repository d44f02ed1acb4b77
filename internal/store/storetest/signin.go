package storetest

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/tango-iga/tango/internal/audit"
	"github.com/tango-iga/tango/internal/hr"
	"github.com/tango-iga/tango/internal/store"
)

func insertSession(t *testing.T, st store.Store, x store.Session) {
	t.Helper()
	if err := st.InTx(context.Background(), func(tx store.Tx) error { return tx.InsertSession(x) }); err != nil {
		t.Fatalf("InsertSession %s: %v", x.ID, err)
	}
}

// testSessions: sessions are found by hash only, touched, listed while
// live, revoked one by one or per person, and a leaver's end with the
// leave (an import's or a scheduled one's) in its transaction.
func testSessions(t *testing.T, b Backend) {
	ctx := context.Background()
	st := b.Open(t)
	s1 := store.Session{ID: "s1", Hash: "h1", Person: "E1", Groups: []string{"cn=it,ou=groups,dc=x", "admins"}, Method: "oidc", IP: "10.0.0.1",
		CreatedAt: t0, LastSeen: t0, ExpiresAt: t0.Add(12 * time.Hour)}
	insertSession(t, st, s1)
	insertSession(t, st, store.Session{ID: "s2", Hash: "h2", Person: "E1", Method: "local", CreatedAt: t0.Add(time.Second), LastSeen: t0, ExpiresAt: t0.Add(time.Hour)})
	insertSession(t, st, store.Session{ID: "s3", Hash: "h3", Person: "E2", Method: "local", CreatedAt: t0.Add(2 * time.Second), LastSeen: t0, ExpiresAt: t0.Add(time.Hour)})
	if err := st.InTx(ctx, func(tx store.Tx) error {
		return tx.InsertSession(store.Session{ID: "s4", Hash: "h1", Person: "E3", Method: "local"})
	}); err == nil {
		t.Fatal("a second session with the same hash was stored")
	}
	got, err := st.SessionByHash(ctx, "h1")
	if err != nil || !reflect.DeepEqual(got, s1) {
		t.Fatalf("SessionByHash:\n got %+v, %v\nwant %+v", got, err, s1)
	}
	if _, err := st.SessionByHash(ctx, "s1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("SessionByHash of an ID: %v, want ErrNotFound", err)
	}
	if err := st.TouchSession(ctx, "s1", t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := st.TouchSession(ctx, "s1", t0.Add(time.Second)); err != nil { // an older touch loses
		t.Fatal(err)
	}
	if got, _ := st.SessionByHash(ctx, "h1"); !got.LastSeen.Equal(t0.Add(time.Minute)) {
		t.Fatalf("last seen %v, want %v", got.LastSeen, t0.Add(time.Minute))
	}
	ids := func(now time.Time) []string {
		ss, err := st.Sessions(ctx, now)
		if err != nil {
			t.Fatal(err)
		}
		out := []string{}
		for _, x := range ss {
			out = append(out, x.ID)
		}
		return out
	}
	if got := ids(t0); !reflect.DeepEqual(got, []string{"s1", "s2", "s3"}) {
		t.Fatalf("live sessions %v", got)
	}
	if got := ids(t0.Add(2 * time.Hour)); !reflect.DeepEqual(got, []string{"s1"}) {
		t.Fatalf("live sessions after 2h %v, want s1 (the others expired)", got)
	}
	var ok1, ok2 bool
	if err := st.InTx(ctx, func(tx store.Tx) (err error) {
		if ok1, err = tx.RevokeSession("s2", t0.Add(time.Minute)); err != nil {
			return err
		}
		ok2, err = tx.RevokeSession("s2", t0.Add(time.Minute))
		return err
	}); err != nil || !ok1 || ok2 {
		t.Fatalf("revoke s2 twice: %v %v %v, want true false", ok1, ok2, err)
	}
	if got, _ := st.SessionByHash(ctx, "h2"); !got.Revoked.Equal(t0.Add(time.Minute)) {
		t.Fatalf("revoked s2 %+v", got)
	}

	// E1 leaves in an import: their live session ends in its transaction,
	// E2's stays.
	e1 := person("E1", "Eng", "")
	load(t, st, "imp-1", 0, e1, person("E2", "Eng", ""))
	left := e1
	left.Status = store.StatusLeft
	t1 := t0.Add(24 * time.Hour)
	leave := store.Event{ImportID: "imp-2", Source: "hris", EmployeeID: "E1", Type: store.EventLeaver, State: store.EventApplied,
		Effective: t1, Before: &e1, After: &left, CreatedAt: t1, AppliedAt: t1}
	if err := st.ApplyImport(ctx, store.Import{ID: "imp-2", Source: "hris", Status: store.ImportApplied, Actor: "test", CreatedAt: t1, BaseSerial: 1},
		[]store.Person{left}, []store.Event{leave}, []audit.Entry{store.EventEntry(leave, "test", t1)}, nil); err != nil {
		t.Fatal(err)
	}
	if got, _ := st.SessionByHash(ctx, "h1"); !got.Revoked.Equal(t1) {
		t.Fatalf("leaver's session after the leave: revoked at %v, want %v", got.Revoked, t1)
	}
	if got, _ := st.SessionByHash(ctx, "h3"); !got.Revoked.IsZero() {
		t.Fatalf("another person's session revoked by the leave: %+v", got)
	}
	var revoked []string
	if err := st.InTx(ctx, func(tx store.Tx) (err error) {
		revoked, err = tx.RevokePersonSessions("E2", t1)
		return err
	}); err != nil || !reflect.DeepEqual(revoked, []string{"s3"}) {
		t.Fatalf("RevokePersonSessions E2: %v, %v", revoked, err)
	}
}

// testLocalAccounts: a local account is stored, its TOTP set and removed,
// and failures count up to a lockout that starts the count again.
func testLocalAccounts(t *testing.T, b Backend) {
	ctx := context.Background()
	st := b.Open(t)
	if _, err := st.LocalAccount(ctx, "E1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("absent account: %v", err)
	}
	a := store.LocalAccount{Person: "E1", PasswordHash: "$argon2id$v=19$m=65536,t=1,p=2$c2FsdA$aGFzaA", UpdatedAt: t0}
	tx := func(fn func(tx store.Tx) error) {
		t.Helper()
		if err := st.InTx(ctx, fn); err != nil {
			t.Fatal(err)
		}
	}
	tx(func(tx store.Tx) error { return tx.PutLocalAccount(a) })
	if got, err := st.LocalAccount(ctx, "E1"); err != nil || !reflect.DeepEqual(got, a) {
		t.Fatalf("LocalAccount:\n got %+v, %v\nwant %+v", got, err, a)
	}
	var ok bool
	tx(func(tx store.Tx) (err error) { ok, err = tx.SetLocalTOTP("E1", "JBSWY3DPEHPK3PXP", t0); return err })
	if got, _ := st.LocalAccount(ctx, "E1"); !ok || got.TOTPSecret != "JBSWY3DPEHPK3PXP" {
		t.Fatalf("after SetLocalTOTP: %v %+v", ok, got)
	}
	for _, c := range []struct {
		step int64
		want bool
	}{{100, true}, {100, false}, {99, false}, {101, true}} {
		tx(func(tx store.Tx) (err error) { ok, err = tx.UseTOTPStep("E1", c.step); return err })
		if ok != c.want {
			t.Fatalf("UseTOTPStep %d: %v, want %v", c.step, ok, c.want)
		}
	}
	tx(func(tx store.Tx) (err error) { ok, err = tx.SetLocalTOTP("E1", "JBSWY3DPEHPK3PXP", t0); return err })
	tx(func(tx store.Tx) (err error) { ok, err = tx.UseTOTPStep("E1", 50); return err })
	if !ok {
		t.Fatal("a new TOTP secret still remembers the steps of the old one")
	}
	tx(func(tx store.Tx) (err error) { ok, err = tx.SetLocalTOTP("E9", "X", t0); return err })
	if ok {
		t.Fatal("SetLocalTOTP of a person without an account reported true")
	}
	until := t0.Add(15 * time.Minute)
	for i := 1; i <= 3; i++ {
		var got store.LocalAccount
		tx(func(tx store.Tx) (err error) { got, err = tx.AddSignInFailure("E1", 3, until); return err })
		switch {
		case i < 3 && (got.Failures != i || !got.LockedUntil.IsZero()):
			t.Fatalf("after failure %d: %+v", i, got)
		case i == 3 && (got.Failures != 0 || !got.LockedUntil.Equal(until)):
			t.Fatalf("after failure %d: %+v, want locked until %v and the count reset", i, got, until)
		}
	}
	tx(func(tx store.Tx) error { _, err := tx.AddSignInFailure("E1", 3, until); return err })
	tx(func(tx store.Tx) error { return tx.ClearSignInFailures("E1") })
	if got, _ := st.LocalAccount(ctx, "E1"); got.Failures != 0 || !got.LockedUntil.Equal(until) {
		t.Fatalf("after clearing: %+v", got)
	}
	if err := st.InTx(ctx, func(tx store.Tx) error { _, err := tx.AddSignInFailure("E9", 3, until); return err }); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("failure of an absent account: %v, want ErrNotFound", err)
	}
}

// testScheduledLeaveEndsSessions: a leave applied when its date comes
// (hr.ApplyDue) ends the person's sessions in its transaction, each with
// an audit entry.
func testScheduledLeaveEndsSessions(t *testing.T, b Backend) {
	ctx := context.Background()
	st := b.Open(t)
	a := person("A1", "Eng", "")
	left := a
	left.Status = store.StatusLeft
	due := t0.Add(48 * time.Hour)
	imp := store.Import{ID: "imp_1", Source: "hris", Status: store.ImportApplied, Actor: "t", CreatedAt: t0}
	j := store.Event{ImportID: "imp_1", Source: "hris", EmployeeID: "A1", Type: store.EventJoiner, State: store.EventApplied, Effective: t0, After: &a, CreatedAt: t0}
	l := store.Event{ImportID: "imp_1", Source: "hris", EmployeeID: "A1", Type: store.EventLeaver, State: store.EventScheduled, Effective: due, After: &left, CreatedAt: t0}
	if err := st.ApplyImport(ctx, imp, []store.Person{a}, []store.Event{j, l}, []audit.Entry{store.EventEntry(j, "t", t0)}, nil); err != nil {
		t.Fatal(err)
	}
	insertSession(t, st, store.Session{ID: "sa", Hash: "ha", Person: "A1", Method: "oidc", CreatedAt: t0, LastSeen: t0, ExpiresAt: due.Add(time.Hour)})
	if done, err := hr.ApplyDue(ctx, st, due, "scheduler"); err != nil || len(done) != 1 {
		t.Fatalf("ApplyDue: %+v, %v", done, err)
	}
	if got, _ := st.SessionByHash(ctx, "ha"); !got.Revoked.Equal(due) {
		t.Fatalf("session after the scheduled leave: %+v, want revoked at %v", got, due)
	}
	es, _ := st.AuditQuery(ctx, store.AuditFilter{Action: "session.revoked"})
	if len(es) != 1 || es[0].Subject != "sa" || es[0].Actor != "scheduler" {
		t.Fatalf("session.revoked entries %+v", es)
	}
}
