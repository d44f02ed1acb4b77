package provision

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/tango-iga/tango/internal/connector"
	"github.com/tango-iga/tango/internal/store"
	"github.com/tango-iga/tango/internal/task"
)

// SettleWaiting looks for the operations waiting for a person's task
// (a manual app's) whose change the app's accounts export already shows,
// and completes their tasks with that as evidence, which makes the
// operations done. Apps that cannot be read back are left to their tasks.
// It returns how many operations it settled.
func (e *Engine) SettleWaiting(ctx context.Context) (int, error) {
	waiting, err := e.st.Ops(ctx, store.OpFilter{State: store.OpWaiting})
	if err != nil || len(waiting) == 0 {
		return 0, err
	}
	byApp := map[string][]store.Operation{}
	for _, o := range waiting {
		if o.TaskID > 0 && e.apps[o.App] != nil {
			byApp[o.App] = append(byApp[o.App], o)
		}
	}
	n := 0
	for name, ops := range byApp {
		app := e.apps[name]
		have := map[string]connector.Account{}
		err := app.Conn.List(ctx, func(a connector.Account) error { have[a.Key] = a; return nil })
		if errors.Is(err, connector.ErrNotReadable) {
			continue
		}
		if err != nil {
			if ctx.Err() != nil {
				return n, ctx.Err()
			}
			e.opt.Log.Warn("provision: reading the accounts of a manual app failed", "app", name, "err", err)
			continue
		}
		now := e.opt.Now().UTC()
		for _, o := range ops {
			var want connector.Account
			if err := json.Unmarshal([]byte(o.Account), &want); err != nil {
				continue
			}
			got, ok := have[want.Key]
			shows := exportShows(o, want, got, ok)
			if shows == "" {
				continue
			}
			_, err := task.Complete(ctx, e.st, o.TaskID, fmt.Sprintf("the accounts export of %s shows it: %s", name, shows), "system:provision", now)
			switch {
			case errors.Is(err, store.ErrConflict), errors.Is(err, store.ErrNotFound):
				// completed meanwhile (or gone): nothing to add
			case err != nil:
				return n, err
			default:
				n++
			}
		}
	}
	return n, nil
}

// exportShows says how an app's account (got; ok when present) shows the
// change of a waiting operation, or "" when it does not.
func exportShows(o store.Operation, want, got connector.Account, ok bool) string {
	switch o.Kind {
	case store.OpCreate:
		if ok {
			return "account " + want.Key + " exists"
		}
	case store.OpEnable:
		if ok && !got.Disabled {
			return "account " + want.Key + " is enabled"
		}
	case store.OpDisable:
		if !ok {
			return "no account " + want.Key
		}
		if got.Disabled {
			return "account " + want.Key + " is disabled"
		}
	case store.OpGrant:
		if ok && slices.Contains(got.Entitlements, o.Entitlement) {
			return "account " + want.Key + " holds " + o.Entitlement
		}
	case store.OpRevoke:
		if !ok || !slices.Contains(got.Entitlements, o.Entitlement) {
			return "account " + want.Key + " does not hold " + o.Entitlement
		}
	case store.OpUpdate:
		// Shown when every planned attribute is in the export, as planned.
		if !ok || len(want.Attributes) == 0 {
			return ""
		}
		for k, v := range want.Attributes {
			have, in := got.Attributes[k]
			if !in || strings.Join(have, ";") != strings.Join(v, ";") {
				return ""
			}
		}
		return "account " + want.Key + " has the planned attributes"
	}
	// A session revocation leaves no trace in an export: its task says.
	return ""
}
