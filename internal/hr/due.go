package hr

import (
	"context"
	"fmt"
	"time"

	"github.com/tango-iga/tango/internal/audit"
	"github.com/tango-iga/tango/internal/store"
)

// ApplyDue applies every scheduled event effective at or before now, in
// one transaction: a joiner or rehire makes the person active, a leaver
// makes them left (other scheduled events only record the change). Each
// event becomes applied at now (its provisioning still to plan), its
// source's serial moves on, and it gets the audit entry of an applied
// event (hr.<type>, with the person before and after) by actor. It
// returns the events applied, in order of effective time.
func ApplyDue(ctx context.Context, st store.Transactor, now time.Time, actor string) ([]store.Event, error) {
	var done []store.Event
	now = now.UTC().Truncate(time.Microsecond)
	err := st.InTx(ctx, func(tx store.Tx) error {
		done = nil
		due, err := tx.DueEvents(now)
		if err != nil {
			return err
		}
		var entries []audit.Entry
		for _, e := range due {
			p, err := tx.Person(e.Source, e.EmployeeID)
			if err != nil {
				return fmt.Errorf("person %s of event %d: %w", e.EmployeeID, e.ID, err)
			}
			before := p
			p.Status = store.StatusActive
			if e.Type == store.EventLeaver {
				p.Status = store.StatusLeft
				// A leaver's tokens and sessions stop working with the leave itself.
				names, err := tx.RevokePersonTokens(p.EmployeeID, now)
				if err != nil {
					return err
				}
				for _, n := range names {
					entries = append(entries, audit.New(now, actor, "token.revoked", p.Source, "", n, nil, map[string]string{"person": p.EmployeeID, "reason": "leaver"}))
				}
				ids, err := tx.RevokePersonSessions(p.EmployeeID, now)
				if err != nil {
					return err
				}
				for _, id := range ids {
					entries = append(entries, audit.New(now, actor, "session.revoked", p.Source, "", id, nil, map[string]string{"person": p.EmployeeID, "reason": "leaver"}))
				}
			}
			p.UpdatedAt = now
			if err := tx.SetPersonStatus(p.Source, p.EmployeeID, p.Status, now); err != nil {
				return err
			}
			if err := tx.MarkEventApplied(e.ID, now); err != nil {
				return err
			}
			if err := tx.BumpSourceSerial(e.Source); err != nil {
				return err
			}
			e.State, e.AppliedAt, e.Before, e.After = store.EventApplied, now, &before, &p
			entries = append(entries, store.EventEntry(e, actor, now))
			done = append(done, e)
		}
		return tx.AppendAudit(entries...)
	})
	if err != nil {
		return nil, err
	}
	return done, nil
}
