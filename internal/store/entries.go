package store

import (
	"fmt"
	"time"

	"github.com/tango-iga/tango/internal/audit"
	"github.com/tango-iga/tango/internal/domain"
)

// EventEntry is the audit entry recording that a lifecycle event took effect.
func EventEntry(e Event, actor string, at time.Time) audit.Entry {
	var before, after any
	if e.Before != nil {
		before = e.Before
	}
	if e.After != nil {
		after = e.After
	}
	return audit.New(at, actor, "hr."+e.Type, e.Source, e.ImportID, e.EmployeeID, before, after)
}

// ImportEntry is the audit entry recording an import or a decision on one.
func ImportEntry(imp Import, action, actor string, at time.Time) audit.Entry {
	type summary struct {
		Status    string `json:"status"`
		File      string `json:"file,omitempty"`
		SHA256    string `json:"sha256,omitempty"`
		Rows      int    `json:"rows"`
		Joiners   int    `json:"joiners"`
		Movers    int    `json:"movers"`
		Leavers   int    `json:"leavers"`
		Rehires   int    `json:"rehires"`
		Changes   int    `json:"changes"`
		Unchanged int    `json:"unchanged"`
		Reason    string `json:"reason,omitempty"`
		Errors    int    `json:"errors,omitempty"` // of a rejected feed; they are kept with the import
	}
	s := summary{imp.Status, imp.File, imp.SHA256, imp.Rows, imp.Joiners, imp.Movers, imp.Leavers, imp.Rehires, imp.Changes, imp.Unchanged, imp.Reason, len(imp.Errors)}
	return audit.New(at, actor, action, imp.Source, imp.ID, "", nil, s)
}

// ParseSince reads the start of a time window: an RFC 3339 time, a date
// (YYYY-MM-DD, midnight UTC), or a duration back from now ("24h", "7d",
// "0s"), at most 100 years (domain.MaxDuration).
func ParseSince(s string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(s); err == nil && d == 0 {
		return now, nil
	}
	d, err := domain.ParseDuration(s)
	if err != nil {
		return time.Time{}, fmt.Errorf("since %q: want a time (2026-03-02T09:30:00Z), a date (2026-03-02) or a duration back from now (24h, 7d) of at most 100 years", s)
	}
	return now.Add(-d), nil
}
