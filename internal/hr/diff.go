package hr

import (
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/tango-iga/tango/internal/store"
)

// moverFields are the attributes whose change makes a mover (a job move);
// a change to anything else is an attribute change.
var moverFields = []string{"title", "department", "team", "manager_id", "business_unit"}

// Plan is what a snapshot changes: the person records to write and the
// lifecycle events, with their counts.
type Plan struct {
	Persons   []store.Person
	Events    []store.Event
	Joiners   int
	Movers    int
	Leavers   int // immediate and scheduled
	Rehires   int
	Changes   int
	Unchanged int
	Scheduled int // events that take effect later (pre-hires, scheduled leaves)
}

// Diff compares a full snapshot with the stored workforce of its source.
// now is the import time; effective dates are days in loc.
func Diff(wf store.Workforce, recs []Record, now time.Time, loc *time.Location) Plan {
	var p Plan
	// Sized up front: growing slices of 100,000 large structs copies them
	// over and over and doubles the peak memory of a first load.
	p.Persons = make([]store.Person, 0, len(recs)+len(wf.Persons)/10+16)
	p.Events = make([]store.Event, 0, len(recs)+len(wf.Persons)/10+16)
	today := now.In(loc).Format(DateLayout)
	stored := make(map[string]*store.Person, len(wf.Persons))
	for i := range wf.Persons {
		stored[wf.Persons[i].EmployeeID] = &wf.Persons[i]
	}
	seen := make(map[string]bool, len(recs))
	ev := func(typ, state string, eff time.Time, before, after *store.Person, changed []string) {
		p.Events = append(p.Events, store.Event{
			Source: wf.Source, EmployeeID: after.EmployeeID, Type: typ, State: state,
			Effective: eff, Before: before, After: after, Changed: changed, CreatedAt: now,
		})
		if state == store.EventScheduled {
			p.Scheduled++
		}
		switch typ {
		case store.EventJoiner:
			p.Joiners++
		case store.EventMover:
			p.Movers++
		case store.EventLeaver:
			p.Leavers++
		case store.EventRehire:
			p.Rehires++
		case store.EventChange:
			p.Changes++
		}
	}
	for i := range recs {
		n := recs[i].Person
		n.Source = wf.Source
		n.UpdatedAt = now
		seen[n.EmployeeID] = true
		old := stored[n.EmployeeID]
		startsLater := n.StartDate != "" && n.StartDate > today
		ended := n.EndDate != "" && n.EndDate <= today
		endsLater := n.EndDate != "" && n.EndDate > today

		switch {
		case old == nil || old.Status == store.StatusLeft:
			// joiner, or a leaver who returns (rehire: a new employment period)
			typ := store.EventJoiner
			n.Period = 1
			if old != nil {
				typ = store.EventRehire
				n.Period = old.Period + 1
				if old.StartDate == n.StartDate && old.EndDate == n.EndDate && ended {
					p.Unchanged++ // a leaver still listed with their past end date
					continue
				}
			}
			if ended && old == nil {
				// listed with an end date already past: record the person as left
				n.Status = store.StatusLeft
				after := n
				ev(typ, store.EventApplied, dayStart(n.StartDate, loc, now), nil, &after, nil)
				ev(store.EventLeaver, store.EventApplied, dayStart(n.EndDate, loc, now), nil, &after, nil)
				p.Persons = append(p.Persons, n)
				continue
			}
			if ended {
				p.Unchanged++
				continue
			}
			n.Status = store.StatusActive
			state, eff := store.EventApplied, now
			if startsLater {
				n.Status = store.StatusPrehire
				state, eff = store.EventScheduled, dayStart(n.StartDate, loc, now)
			}
			var after *store.Person
			if startsLater {
				a := n
				a.Status = store.StatusActive
				after = &a
				p.Persons = append(p.Persons, n)
			} else if len(p.Persons) < cap(p.Persons) {
				// The event's after-image is the record written: share it
				// (the append does not move the array while it has room).
				p.Persons = append(p.Persons, n)
				after = &p.Persons[len(p.Persons)-1]
			} else {
				a := n
				after = &a
				p.Persons = append(p.Persons, n)
			}
			ev(typ, state, eff, old, after, nil)
			if endsLater {
				left := n
				left.Status = store.StatusLeft
				ev(store.EventLeaver, store.EventScheduled, dayStart(n.EndDate, loc, now), after, &left, nil)
			}

		default: // stored as active or pre-hire
			n.Period = old.Period
			n.Status = old.Status
			if n.Status == store.StatusPrehire && !startsLater {
				n.Status = store.StatusActive // start date moved to today or earlier
			}
			changed := Changed(old, &n)
			if ended {
				n.Status = store.StatusLeft
				after := n
				ev(store.EventLeaver, store.EventApplied, dayStart(n.EndDate, loc, now), old, &after, changed)
				p.Persons = append(p.Persons, n)
				continue
			}
			started := old.Status == store.StatusPrehire && n.Status == store.StatusActive
			if len(changed) == 0 && !started {
				p.Unchanged++
				continue
			}
			after := n
			typ := store.EventChange
			for _, f := range changed {
				if slices.Contains(moverFields, f) {
					typ = store.EventMover
					break
				}
			}
			if started {
				ev(store.EventJoiner, store.EventApplied, now, old, &after, changed)
			} else {
				ev(typ, store.EventApplied, now, old, &after, changed)
			}
			if n.Status == store.StatusPrehire && slices.Contains(changed, "start_date") {
				act := n
				act.Status = store.StatusActive
				ev(store.EventJoiner, store.EventScheduled, dayStart(n.StartDate, loc, now), &after, &act, []string{"start_date"})
			}
			if endsLater && slices.Contains(changed, "end_date") {
				left := n
				left.Status = store.StatusLeft
				ev(store.EventLeaver, store.EventScheduled, dayStart(n.EndDate, loc, now), &after, &left, []string{"end_date"})
			}
			p.Persons = append(p.Persons, n)
		}
	}
	// Absent from the snapshot: leavers, effective now.
	var gone []*store.Person
	for i := range wf.Persons {
		o := &wf.Persons[i]
		if !seen[o.EmployeeID] && o.Status != store.StatusLeft {
			gone = append(gone, o)
		}
	}
	sort.Slice(gone, func(a, b int) bool { return gone[a].EmployeeID < gone[b].EmployeeID })
	for _, o := range gone {
		n := *o
		n.Attributes = maps.Clone(o.Attributes)
		n.Status = store.StatusLeft
		n.EndDate = today
		n.UpdatedAt = now
		after := n
		ev(store.EventLeaver, store.EventApplied, now, o, &after, []string{"status"})
		p.Persons = append(p.Persons, n)
	}
	// Events in employee-ID order: stable, readable, and index-friendly.
	byID := func(a, b store.Event) int { return strings.Compare(a.EmployeeID, b.EmployeeID) }
	if !slices.IsSortedFunc(p.Events, byID) {
		slices.SortStableFunc(p.Events, byID)
	}
	return p
}

// Changed lists the attributes that differ between two person records
// (ignoring status, period and timestamps), free attributes by their name.
func Changed(a, b *store.Person) []string {
	var c []string
	add := func(name, x, y string) {
		if x != y {
			c = append(c, name)
		}
	}
	add("display_name", a.DisplayName, b.DisplayName)
	add("email", a.Email, b.Email)
	add("title", a.Title, b.Title)
	add("department", a.Department, b.Department)
	add("team", a.Team, b.Team)
	add("business_unit", a.BusinessUnit, b.BusinessUnit)
	add("manager_id", a.ManagerID, b.ManagerID)
	add("employment_type", a.EmploymentType, b.EmploymentType)
	add("start_date", a.StartDate, b.StartDate)
	add("end_date", a.EndDate, b.EndDate)
	var extra []string
	for k, v := range a.Attributes {
		if b.Attributes[k] != v {
			extra = append(extra, k)
		}
	}
	for k := range b.Attributes {
		if _, ok := a.Attributes[k]; !ok {
			extra = append(extra, k)
		}
	}
	sort.Strings(extra)
	return append(c, extra...)
}

// dayStart is midnight at the start of a YYYY-MM-DD day in loc; fallback
// when the date is empty.
func dayStart(day string, loc *time.Location, fallback time.Time) time.Time {
	if day == "" {
		return fallback
	}
	t, err := time.ParseInLocation(DateLayout, day, loc)
	if err != nil {
		return fallback
	}
	return t
}
