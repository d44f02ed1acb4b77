package hr

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/tango-iga/tango/internal/audit"
	"github.com/tango-iga/tango/internal/config"
	"github.com/tango-iga/tango/internal/store"
)

// PushChange is one person's change pushed by an HR system or identity
// provider (over SCIM), as opposed to a full snapshot file.
type PushChange struct {
	EmployeeID string
	// Person is the person's record as pushed (Source and EmployeeID are
	// set here); nil when the person was deleted.
	Person *store.Person
	// Active false deactivates the person: a leaver effective today.
	Active bool
	// Writes are SCIM resources written in the same transaction.
	Writes []store.SCIMWrite
	// Entries are extra audit entries written with the change.
	Entries []audit.Entry
}

// PushResult is what a push did.
type PushResult struct {
	ImportID string
	Held     bool   // a deactivation held by the burst safeguard
	Reason   string // why it was held
	Events   []store.Event
}

// ApplyPush applies one pushed change through the lifecycle pipeline of
// file imports: the snapshot is the stored person with the pushed record
// replacing it (or removed, for a deletion), diffed with Diff, so joiner,
// mover, leaver, rehire and change events, their audit entries and
// provisioning are the same. It reads and writes only this person, so it
// costs the same for a source of ten persons or a hundred thousand.
//
// Pushes are not an import each: they are counted into one import per
// source and hour (PushWindowID), which their events and audit entries
// name; a push that changes nothing only adds to its counts.
//
// The source's safeguards.max_leavers is a rate for pushes: deactivations
// per hour (a count, or a percentage of the source's active persons).
// A deactivation beyond it, and every later one while the burst is held,
// is held in one import for `tango hr approve` or `tango hr reject`; the
// person stays active until then.
//
// When the stored person changes under it, the push is diffed again (up
// to three times); a SCIM resource version mismatch is returned as
// store.ErrVersion for the caller to redo its own work.
func ApplyPush(ctx context.Context, st Store, cfg *config.Config, src *config.Source, ch PushChange, opt Options) (PushResult, error) {
	now := time.Now
	if opt.Now != nil {
		now = opt.Now
	}
	if opt.Actor == "" {
		opt.Actor = "system"
	}
	if ch.EmployeeID == "" {
		return PushResult{}, errors.New("push: the employee ID is empty")
	}
	limit, err := config.ParseLimit(src.Safeguards.MaxLeavers)
	if err != nil {
		return PushResult{}, fmt.Errorf("source %q: %w", src.Name, err)
	}
	for attempt := 0; ; attempt++ {
		at := now().UTC().Truncate(time.Microsecond)
		var old *store.Person
		p, err := st.Person(ctx, src.Name, ch.EmployeeID)
		switch {
		case err == nil:
			old = &p
		case errors.Is(err, store.ErrNotFound):
		default:
			return PushResult{}, err
		}
		wf := store.Workforce{Source: src.Name}
		if old != nil {
			wf.Persons = []store.Person{*old}
		}
		var recs []Record
		if ch.Person != nil {
			n := *ch.Person
			n.Source, n.EmployeeID = src.Name, ch.EmployeeID
			if !ch.Active {
				today := at.In(cfg.Location()).Format(DateLayout)
				if n.EndDate == "" || n.EndDate > today {
					n.EndDate = today
				}
				if old != nil && old.Status == store.StatusLeft && old.EndDate != "" && old.EndDate <= today {
					n.EndDate = old.EndDate // still gone: not a new departure
				}
			}
			recs = []Record{{Row: 1, Person: n}}
		}
		plan := Diff(wf, recs, at, cfg.Location())
		imp := store.Import{ID: PushWindowID(src.Name, at), Source: src.Name, File: "scim", Actor: opt.Actor, Rows: 1,
			Joiners: plan.Joiners, Movers: plan.Movers, Leavers: plan.Leavers, Rehires: plan.Rehires,
			Changes: plan.Changes, Unchanged: plan.Unchanged, CreatedAt: at}
		c := store.PersonChange{Import: imp, HeldID: newPushID(at), Events: plan.Events, Expect: old, Writes: ch.Writes, Entries: ch.Entries}
		if len(plan.Persons) > 0 {
			c.Person = &plan.Persons[0]
		}
		if limit.Percent > 0 {
			c.MaxLeaversPercent = limit.Percent
		} else if limit.Set() {
			c.MaxLeaversPerHour = limit.Count
		}
		if opt.DryRun {
			return PushResult{Events: plan.Events}, nil
		}
		if opt.Provision != nil && len(plan.Events) > 0 {
			if c.Prov, err = opt.Provision(ctx, plan.Persons, plan.Events, at); err != nil {
				return PushResult{}, err
			}
		}
		res, err := ApplyPersonChange(ctx, st, c)
		if errors.Is(err, store.ErrConflict) && attempt < 3 {
			continue // the person changed under us: diff again
		}
		if err != nil {
			return PushResult{}, err
		}
		for i := range c.Events {
			c.Events[i].ImportID = res.ImportID
		}
		return PushResult{ImportID: res.ImportID, Held: res.Held, Reason: res.Reason, Events: c.Events}, nil
	}
}

// ApplyPersonChange writes one pushed person change (see
// store.PersonChange) in one shared write transaction: the SCIM writes,
// then, unless the change is held, the person, its events (with the
// audit entries of the applied ones), its provisioning and its counts
// added to its window's import; c.Entries are written either way.
//
// The burst safeguard: when the change deactivates someone and the
// source has a limit, the change is held if a burst of the source's
// pushes is already held, or if the applied leavers of the source in the
// hour before c.Import.CreatedAt and this change's exceed
// c.MaxLeaversPerHour (or c.MaxLeaversPercent of its active persons). A
// held change is added to the held burst (hr.push.held, with the
// reason) or starts one in a new held import (c.HeldID; hr.import.held);
// the person is not written until the import is approved.
//
// The stored person must still be c.Expect (store.ErrConflict if not); a
// SCIM write at a stale version fails with store.ErrVersion.
func ApplyPersonChange(ctx context.Context, st store.SharedTransactor, c store.PersonChange) (store.PersonChangeResult, error) {
	var res store.PersonChangeResult
	err := st.InSharedTx(ctx, func(tx store.Tx) error {
		var err error
		res, err = applyPersonChange(tx, c)
		return err
	})
	return res, err
}

func applyPersonChange(tx store.Tx, c store.PersonChange) (store.PersonChangeResult, error) {
	res := store.PersonChangeResult{ImportID: c.Import.ID}
	imp := c.Import
	at := imp.CreatedAt
	source := imp.Source
	if c.Person != nil && c.Person.Source != source {
		return res, fmt.Errorf("person of source %q in a change of source %q", c.Person.Source, source)
	}
	// The person must be as it was read.
	employee := ""
	if c.Person != nil {
		employee = c.Person.EmployeeID
	} else if c.Expect != nil {
		employee = c.Expect.EmployeeID
	}
	if employee != "" {
		p, err := tx.Person(source, employee)
		switch {
		case errors.Is(err, store.ErrNotFound):
			if c.Expect != nil {
				return res, fmt.Errorf("%w: person %s of %q was removed", store.ErrConflict, employee, source)
			}
		case err != nil:
			return res, err
		default:
			if c.Expect == nil || c.Expect.Status != p.Status || micro(c.Expect.UpdatedAt) != micro(p.UpdatedAt) {
				return res, fmt.Errorf("%w: person %s of %q changed since it was read", store.ErrConflict, employee, source)
			}
		}
	}
	if err := tx.WriteSCIM(c.Writes); err != nil {
		return res, err
	}
	serial, err := tx.SourceSerial(source)
	if err != nil {
		return res, err
	}
	imp.BaseSerial = serial
	leavers := 0
	for _, e := range c.Events {
		if e.Type == store.EventLeaver && e.State == store.EventApplied {
			leavers++
		}
	}
	// Burst safeguard: deactivations beyond the hourly rate, and every
	// deactivation while a burst is held, wait for approval.
	var held store.Import
	var heldPersons []store.Person
	var heldEvents []store.Event
	if leavers > 0 && (c.MaxLeaversPerHour > 0 || c.MaxLeaversPercent > 0) {
		held, heldPersons, heldEvents, err = tx.HeldPush(source)
		if err != nil {
			return res, err
		}
		allowed := c.MaxLeaversPerHour
		if c.MaxLeaversPercent > 0 {
			active, err := tx.CountActivePersons(source)
			if err != nil {
				return res, err
			}
			allowed = int(float64(active) * c.MaxLeaversPercent / 100)
		}
		recent, err := tx.CountAppliedLeaversSince(source, at.Add(-time.Hour))
		if err != nil {
			return res, err
		}
		if held.ID != "" || recent+leavers > allowed {
			res.Held = true
			res.Reason = fmt.Sprintf("%d deactivations in the last hour exceed safeguards.max_leavers %d per hour", recent+leavers, allowed)
			if held.ID != "" {
				res.Reason = "a burst of deactivations is held (import " + held.ID + ")"
			}
		}
	}
	var entries []audit.Entry
	if res.Held {
		if c.Person != nil {
			heldPersons = append(heldPersons, *c.Person)
		}
		heldID := held.ID
		if heldID == "" {
			heldID = c.HeldID
			if heldID == "" {
				heldID = fmt.Sprintf("%s_held_%d", c.Import.ID, micro(at))
			}
		}
		for _, e := range c.Events {
			e.ImportID = heldID
			heldEvents = append(heldEvents, e)
		}
		if held.ID != "" {
			res.ImportID = held.ID
			held.Rows += imp.Rows
			held.Leavers += imp.Leavers
			held.Movers += imp.Movers
			held.Changes += imp.Changes
			if err := tx.UpdateHeldImport(held, heldPersons, heldEvents); err != nil {
				return res, err
			}
			entries = append(entries, audit.New(at, imp.Actor, "hr.push.held", source, held.ID, employee, nil, map[string]any{"reason": res.Reason}))
		} else {
			imp.Status = store.ImportHeld
			imp.Reason = res.Reason
			imp.ID = heldID
			res.ImportID = imp.ID
			if err := tx.InsertHeldImport(imp, heldPersons, heldEvents); err != nil {
				return res, err
			}
			entries = append(entries, store.ImportEntry(imp, "hr.import.held", imp.Actor, at))
		}
	} else {
		for i := range c.Events {
			e := &c.Events[i]
			e.ImportID = imp.ID
			if e.State == store.EventApplied {
				e.AppliedAt = at
				entries = append(entries, store.EventEntry(*e, imp.Actor, at))
			}
		}
		var persons []store.Person
		if c.Person != nil {
			persons = []store.Person{*c.Person}
		}
		if err := tx.ApplyChanges(persons, c.Events, c.Prov != nil, nil); err != nil {
			return res, err
		}
		if err := tx.QueueProvision(c.Prov); err != nil {
			return res, err
		}
		// Count the push into its window's import; its events' audit
		// entries (and the SCIM request's) record it.
		imp.Status = store.ImportApplied
		if err := tx.AddToImport(imp); err != nil {
			return res, err
		}
	}
	return res, tx.AppendAudit(append(entries, c.Entries...)...)
}

// micro is a time as the store keeps it: microseconds since the epoch,
// 0 for the zero time.
func micro(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

// PushWindowID is the import that pushes of a source in the hour of at
// are counted into: one import row per source and hour, not one per push.
func PushWindowID(source string, at time.Time) string {
	return "push_" + source + "_" + at.UTC().Format("20060102T15")
}

func newPushID(at time.Time) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return "push_" + at.UTC().Format("20060102T150405") + "_" + hex.EncodeToString(b[:])
}
