package provision

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tango-iga/tango/internal/audit"
	"github.com/tango-iga/tango/internal/store"
)

// Retry makes a failed or retrying operation pending again, due at once
// with its attempts reset, audited as provision.retry naming actor, in
// one transaction; the engine runs it at its next poll (unless its app
// is quarantined: Release). The operation-failed finding of a failed
// operation is resolved with it (a new failure opens a new one).
// store.ErrNotFound when there is no such
// operation; store.ErrConflict, naming its state, when it is pending,
// running, waiting or done.
func Retry(ctx context.Context, st store.Transactor, id int64, actor string, at time.Time) (store.Operation, error) {
	at = at.UTC().Truncate(time.Microsecond)
	var op store.Operation
	err := st.InTx(ctx, func(tx store.Tx) error {
		var err error
		if op, err = tx.Operation(id); err != nil {
			return err
		}
		if op.State != store.OpFailed && op.State != store.OpRetrying {
			return fmt.Errorf("operation %d is %s: only a failed or retrying operation can be retried: %w", id, op.State, store.ErrConflict)
		}
		before := map[string]any{"state": op.State, "attempts": op.Attempts, "not_before": op.NotBefore, "last_error": op.LastError}
		if err := tx.RequeueOp(id, at, at); err != nil {
			return err
		}
		after := map[string]any{"operation": op.ID, "app": op.App, "kind": op.Kind, "entitlement": op.Entitlement, "state": store.OpPending, "attempts": 0, "not_before": at}
		if op.State == store.OpFailed {
			resolved, err := tx.ResolveFinding("operation-failed", op.App, fmt.Sprintf("op-%d", op.ID), at)
			if err != nil {
				return err
			}
			after["finding_resolved"] = resolved
		}
		op.State, op.Attempts, op.NotBefore, op.UpdatedAt, op.LeaseOwner, op.LeaseUntil = store.OpPending, 0, at, at, "", time.Time{}
		return tx.AppendAudit(audit.New(at, actor, "provision.retry", op.Source, op.ImportID, op.EmployeeID, before, after))
	})
	return op, err
}

// Release ends the quarantine of an app now: its consecutive failures
// are forgotten and its operations run at the engine's next poll; audited
// as provision.release naming actor, in one transaction.
// configured says whether the app is in the config: an app neither
// configured nor with a health row (it ran no operation) is
// store.ErrNotFound; store.ErrConflict when the app is not quarantined at
// at.
func Release(ctx context.Context, st store.Transactor, app string, configured bool, actor string, at time.Time) (store.AppState, error) {
	at = at.UTC().Truncate(time.Microsecond)
	var h store.AppState
	err := st.InTx(ctx, func(tx store.Tx) error {
		var err error
		h, err = tx.AppState(app)
		if errors.Is(err, store.ErrNotFound) && !configured {
			return fmt.Errorf("app %q is not in the config and never ran an operation: %w", app, store.ErrNotFound)
		}
		if errors.Is(err, store.ErrNotFound) || (err == nil && !h.QuarantinedUntil.After(at)) {
			return fmt.Errorf("app %q is not quarantined: nothing to release: %w", app, store.ErrConflict)
		}
		if err != nil {
			return err
		}
		before := map[string]any{"quarantined_until": h.QuarantinedUntil, "consecutive_failures": h.Failures, "last_error": h.LastError}
		h.Failures, h.QuarantinedUntil = 0, time.Time{}
		if err := tx.PutAppState(h); err != nil {
			return err
		}
		return tx.AppendAudit(audit.New(at, actor, "provision.release", "", "", app, before,
			map[string]any{"app": app, "quarantined": false, "consecutive_failures": 0}))
	})
	return h, err
}
