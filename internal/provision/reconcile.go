package provision

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/tango-iga/tango/internal/connector"
	"github.com/tango-iga/tango/internal/policy"
	"github.com/tango-iga/tango/internal/store"
)

// AppReport is what reconciling one app found and did (the shape of
// `tango reconcile --json`).
type AppReport struct {
	App          string `json:"app"`
	Accounts     int    `json:"accounts"`
	Created      int    `json:"created"`
	Updated      int    `json:"updated"`
	Disabled     int    `json:"disabled"`
	Orphans      int    `json:"orphans"`
	Drift        int    `json:"drift"`
	Failed       int    `json:"failed"`
	LeaverActive int    `json:"leavers_active"`
	Missing      int    `json:"missing"`
	// SessionsRevoked counts revoke_sessions operations done (leavers).
	SessionsRevoked int    `json:"sessions_revoked,omitempty"`
	Quarantined     bool   `json:"quarantined,omitempty"`
	Unreadable      bool   `json:"unreadable,omitempty"` // the app cannot be read back: only its operations count
	Error           string `json:"error,omitempty"`
}

// Report covers every reconciled app.
type Report struct {
	Apps []AppReport `json:"apps"`
}

// ReconcileOptions tune one reconcile run.
type ReconcileOptions struct {
	// Apps to reconcile; all when empty.
	Apps []string
	// Progress, when set, is told what happens to each app as it happens
	// (`tango reconcile` prints it on stderr).
	Progress func(app, msg string)
}

// Reconcile applies the plan for everyone, waits for the operations of
// the apps to finish, then reads every account back, correlates it to a
// person and records orphans, leavers still active and entitlement drift
// as findings; apps set to drift: remediate get the corrections queued and
// run too.
func (e *Engine) Reconcile(ctx context.Context, only []string) (Report, error) {
	return e.ReconcileWith(ctx, ReconcileOptions{Apps: only})
}

// ReconcileWith is Reconcile, one app after the other. Each wait on an app
// (its operations, then reading its accounts) is bounded by the app's
// reconcile timeout; an app that is quarantined stops being waited for. An
// app that cannot be reached or read is reported unreadable with the
// connector's error, and the other apps go on.
func (e *Engine) ReconcileWith(ctx context.Context, o ReconcileOptions) (Report, error) {
	start := e.opt.Now().UTC()
	progress := o.Progress
	if progress == nil {
		progress = func(string, string) {}
	}
	names := slices.Clone(o.Apps)
	if len(names) == 0 {
		for n := range e.apps {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	for _, n := range names {
		if e.apps[n] == nil {
			return Report{}, fmt.Errorf("app %q is not in the config", n)
		}
	}
	if _, err := e.PlanPending(ctx); err != nil {
		return Report{}, err
	}
	if _, err := e.PlanAll(ctx); err != nil {
		return Report{}, err
	}
	persons, err := e.st.Persons(ctx, store.PersonFilter{})
	if err != nil {
		return Report{}, err
	}
	byID := make(map[string]*store.Person, len(persons))
	for i := range persons {
		byID[persons[i].Source+"\x00"+persons[i].EmployeeID] = &persons[i]
	}
	var rep Report
	for _, name := range names {
		app := e.apps[name]
		timeout := cmp.Or(app.ReconcileTimeout, e.opt.ReconcileTimeout)
		began := time.Now()
		if err := e.drainApp(ctx, name, timeout, progress); err != nil {
			if ctx.Err() != nil {
				return rep, ctx.Err()
			}
			progress(name, err.Error())
		}
		// A manual app's operations wait for their tasks; those its
		// accounts export already shows are settled now.
		if _, err := e.SettleWaiting(ctx); err != nil {
			return rep, err
		}
		// Grants are read after the app's operations ran: they record what
		// those operations did.
		grants, err := e.st.Grants(ctx, "")
		if err != nil {
			return rep, err
		}
		progress(name, "reading accounts")
		actx, cancel := context.WithTimeout(ctx, timeout)
		r, fix, err := e.reconcileApp(actx, app, persons, byID, grants)
		cancel()
		switch {
		case errors.Is(err, connector.ErrNotReadable):
			r = AppReport{App: name, Unreadable: true}
			progress(name, "unreadable: the connector cannot list accounts; only its operations count")
		case err != nil && ctx.Err() != nil:
			return rep, ctx.Err()
		case err != nil:
			if errors.Is(err, context.DeadlineExceeded) {
				err = fmt.Errorf("%w (reconcile timeout %s)", err, timeout)
			}
			r = AppReport{App: name, Unreadable: true, Error: err.Error()}
			progress(name, "unreadable: "+err.Error())
		default:
			if len(fix.Ops) > 0 {
				if err := e.st.QueueOps(ctx, fix); err != nil {
					return rep, err
				}
				progress(name, fmt.Sprintf("remediating: %d operation(s) queued", len(fix.Ops)))
				if err := e.drainApp(ctx, name, timeout, progress); err != nil {
					if ctx.Err() != nil {
						return rep, ctx.Err()
					}
					progress(name, err.Error())
				}
			}
			progress(name, fmt.Sprintf("%d accounts, %d orphans, %d leavers active, %d drift, %d missing (%s)",
				r.Accounts, r.Orphans, r.LeaverActive, r.Drift, r.Missing, time.Since(began).Round(time.Millisecond)))
		}
		rep.Apps = append(rep.Apps, r)
	}
	// Count what ran for each app since the start.
	states, err := e.st.AppStates(ctx)
	if err != nil {
		return rep, err
	}
	for i := range rep.Apps {
		r := &rep.Apps[i]
		ops, err := e.st.Ops(ctx, store.OpFilter{App: r.App})
		if err != nil {
			return rep, err
		}
		for _, o := range ops {
			if o.UpdatedAt.Before(start) {
				continue
			}
			switch {
			case o.State == store.OpFailed:
				r.Failed++
			case o.State != store.OpDone:
			case o.Kind == store.OpCreate:
				r.Created++
			case o.Kind == store.OpDisable:
				r.Disabled++
			case o.Kind == store.OpRevokeSessions:
				r.SessionsRevoked++
			default:
				r.Updated++
			}
		}
		for _, s := range states {
			if s.App == r.App && s.QuarantinedUntil.After(e.opt.Now()) {
				r.Quarantined = true
			}
		}
	}
	return rep, nil
}

func (e *Engine) reconcileApp(ctx context.Context, app *App, persons []store.Person, byID map[string]*store.Person, grants []store.GrantRow) (AppReport, store.ProvisionBatch, error) {
	r := AppReport{App: app.Name}
	var fix store.ProvisionBatch
	now := e.opt.Now().UTC().Truncate(time.Microsecond)
	byKey := make(map[string]*store.Person, len(persons))
	for i := range persons {
		p := &persons[i]
		k := app.Key(policy.Input{Person: p}, now)
		if k != "" {
			byKey[k] = p
		}
	}
	type pk struct{ source, id string }
	account := map[pk]store.GrantRow{}
	ents := map[pk]map[string]bool{}
	for _, g := range grants {
		if g.App != app.Name {
			continue
		}
		k := pk{g.Source, g.EmployeeID}
		if g.Entitlement == "" {
			account[k] = g
			continue
		}
		if ents[k] == nil {
			ents[k] = map[string]bool{}
		}
		ents[k][strings.ToLower(g.Entitlement)] = true
	}
	var orphans, leavers, drift, missing []store.Finding
	var acts []store.AccountActivity // when each person last used their account, where the app says
	seen := map[pk]bool{}
	remediate := app.Settings.Drift == "remediate"
	queue := func(p *store.Person, kind, ent string, acc connector.Account, prio int, why string) {
		j := mustJSON(acc)
		fix.Ops = append(fix.Ops, store.Operation{App: app.Name, Kind: kind, Source: p.Source, EmployeeID: p.EmployeeID,
			Entitlement: ent, Account: j, Priority: prio, State: store.OpPending, NotBefore: now, Reason: why, CreatedAt: now, UpdatedAt: now})
	}
	err := app.Conn.List(ctx, func(a connector.Account) error {
		r.Accounts++
		p := byKey[a.Key]
		if p == nil {
			orphans = append(orphans, store.Finding{Subject: accountName(a), Team: "security",
				Detail: fmt.Sprintf("account %s (%s=%q) in %s belongs to no person", accountName(a), "key", a.Key, app.Name)})
			return nil
		}
		k := pk{p.Source, p.EmployeeID}
		seen[k] = true
		if !a.LastActivity.IsZero() {
			acts = append(acts, store.AccountActivity{App: app.Name, Source: p.Source, EmployeeID: p.EmployeeID, LastActivity: a.LastActivity, ReadAt: now})
		}
		if p.Status == store.StatusLeft && !a.Disabled {
			leavers = append(leavers, store.Finding{Subject: p.EmployeeID, Team: "security",
				Detail: fmt.Sprintf("%s (%s) left but account %s in %s is active", p.DisplayName, p.EmployeeID, accountName(a), app.Name)})
			if remediate {
				queue(p, store.OpDisable, "", a, store.PriorityDisable, "reconcile: person left, account still active")
				if app.RevokesSessions() {
					queue(p, store.OpRevokeSessions, "", a, store.PrioritySessions, "reconcile: person left, account still active: end its sessions")
				}
			}
		}
		for _, ent := range a.Entitlements {
			if ents[k][strings.ToLower(ent)] {
				continue
			}
			drift = append(drift, store.Finding{Subject: p.EmployeeID + " " + ent, Team: "security",
				Detail: fmt.Sprintf("%s (%s) holds %s in %s, granted by nothing", p.DisplayName, p.EmployeeID, ent, app.Name)})
			if remediate {
				queue(p, store.OpRevoke, ent, a, store.PriorityRevoke, "reconcile: entitlement granted by nothing")
			}
		}
		return nil
	})
	if err != nil {
		return r, store.ProvisionBatch{}, fmt.Errorf("listing %s: %w", app.Name, err)
	}
	for k, g := range account {
		if g.State != grantActive || seen[k] {
			continue
		}
		p := byID[k.source+"\x00"+k.id]
		if p == nil {
			continue
		}
		missing = append(missing, store.Finding{Subject: p.EmployeeID, Team: "it",
			Detail: fmt.Sprintf("%s (%s) should have an account in %s but it is missing", p.DisplayName, p.EmployeeID, app.Name)})
		if remediate {
			acc, err := app.Account(policy.Input{Person: p}, now)
			if err == nil {
				queue(p, store.OpCreate, "", acc, store.PriorityNormal, "reconcile: account missing")
			}
		}
	}
	if err := e.st.PutAccountActivity(ctx, acts); err != nil {
		return r, fix, err
	}
	r.Orphans, r.LeaverActive, r.Drift, r.Missing = len(orphans), len(leavers), len(drift), len(missing)
	for kind, fs := range map[string][]store.Finding{"orphan-account": orphans, "leaver-active": leavers, "entitlement-drift": drift, "account-missing": missing} {
		if err := e.st.ReplaceFindings(ctx, kind, app.Name, fs, now); err != nil {
			return r, fix, err
		}
	}
	return r, fix, nil
}

func accountName(a connector.Account) string {
	if a.ID != "" {
		return a.ID
	}
	return a.Name
}

// drainApp runs the app's due operations until none is left, the app is
// quarantined (it keeps failing: its operations stay queued for the
// workers of `tango serve`) or timeout passes, telling progress what it
// waits for. The error says why it stopped early, with the app's last
// error.
func (e *Engine) drainApp(ctx context.Context, app string, timeout time.Duration, progress func(app, msg string)) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	only := []string{app}
	queued := func() int {
		n := 0
		for _, state := range []string{store.OpPending, store.OpRetrying, store.OpRunning} {
			ops, err := e.st.Ops(ctx, store.OpFilter{App: app, State: state})
			if err == nil {
				n += len(ops)
			}
		}
		return n
	}
	if n := queued(); n > 0 {
		progress(app, fmt.Sprintf("applying %d queued operation(s)", n))
	}
	last := time.Now()
	for {
		if _, err := e.PlanPending(ctx); err != nil {
			return e.drainErr(ctx, app, timeout, err)
		}
		if _, err := e.PlanRequests(ctx); err != nil {
			return e.drainErr(ctx, app, timeout, err)
		}
		if _, err := e.PlanRevocations(ctx); err != nil {
			return e.drainErr(ctx, app, timeout, err)
		}
		n, err := e.runWatched(ctx, app)
		if err != nil {
			return e.drainErr(ctx, app, timeout, err)
		}
		if s, ok := e.appState(ctx, app); ok && s.QuarantinedUntil.After(e.opt.Now()) {
			return fmt.Errorf("quarantined until %s after %d consecutive failures, its operations stay queued: %s",
				s.QuarantinedUntil.Local().Format("15:04:05"), s.Failures, s.LastError)
		}
		if time.Since(last) >= 10*time.Second {
			progress(app, fmt.Sprintf("%d operation(s) still queued", queued()))
			last = time.Now()
		}
		if n > 0 {
			continue
		}
		busy, err := e.due(ctx, only)
		if err != nil {
			return e.drainErr(ctx, app, timeout, err)
		}
		if !busy {
			return nil
		}
		t := time.NewTimer(e.opt.Poll)
		select {
		case <-ctx.Done():
			t.Stop()
			return e.drainErr(ctx, app, timeout, ctx.Err())
		case <-t.C:
		}
	}
}

// runWatched is runOnce for one app that stops its operations still running
// once the app is quarantined, rather than waiting for each to time out
// against an app that does not answer (they run again when their lease ends).
func (e *Engine) runWatched(ctx context.Context, app string) (int, error) {
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan struct{})
	defer close(done)
	go func() {
		t := time.NewTicker(e.opt.Poll)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				if s, ok := e.appState(rctx, app); ok && s.QuarantinedUntil.After(e.opt.Now()) {
					cancel()
					return
				}
			}
		}
	}()
	n, err := e.runOnce(rctx, []string{app})
	if err != nil && ctx.Err() == nil && rctx.Err() != nil {
		err = nil // stopped because the app is quarantined; the caller says so
	}
	return n, err
}

func (e *Engine) appState(ctx context.Context, app string) (store.AppState, bool) {
	states, err := e.st.AppStates(ctx)
	if err != nil {
		return store.AppState{}, false
	}
	for _, s := range states {
		if s.App == app {
			return s, true
		}
	}
	return store.AppState{}, false
}

// drainErr explains a drain that stopped on err, with the app's last error.
func (e *Engine) drainErr(ctx context.Context, app string, timeout time.Duration, err error) error {
	if !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	msg := fmt.Sprintf("operations not done within the reconcile timeout %s; they stay queued", timeout)
	if s, ok := e.appState(context.WithoutCancel(ctx), app); ok && s.LastError != "" {
		msg += ": last error: " + s.LastError
	}
	return errors.New(msg)
}

// ReadBack reads a person's account in an app back from the app itself,
// as reconcile does, so that a caller (the verification of an access
// review's revocations) sees what the app holds now. found is false when
// the app has no account for the person; an app that cannot be read back
// answers connector.ErrNotReadable.
func (e *Engine) ReadBack(ctx context.Context, appName string, p store.Person) (acc connector.Account, found bool, err error) {
	app := e.apps[appName]
	if app == nil || app.Conn == nil {
		return acc, false, fmt.Errorf("app %q is not in the config: %w", appName, connector.ErrNotReadable)
	}
	key := app.Key(policy.Input{Person: &p}, e.opt.Now())
	if key == "" {
		return acc, false, nil
	}
	acc, err = app.Conn.Get(ctx, key)
	if errors.Is(err, connector.ErrNotFound) {
		return acc, false, nil
	}
	if err != nil {
		return acc, false, err
	}
	return acc, true, nil
}
