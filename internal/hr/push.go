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
		res, err := st.ApplyPersonChange(ctx, c)
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
