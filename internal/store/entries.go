package store

import (
	"time"

	"github.com/tango-iga/tango/internal/audit"
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
	}
	s := summary{imp.Status, imp.File, imp.SHA256, imp.Rows, imp.Joiners, imp.Movers, imp.Leavers, imp.Rehires, imp.Changes, imp.Unchanged, imp.Reason}
	return audit.New(at, actor, action, imp.Source, imp.ID, "", nil, s)
}
