package domain

import "time"

// Person statuses.
const (
	StatusPrehire = "prehire" // joiner whose start date is still in the future
	StatusActive  = "active"
	StatusLeft    = "left"
)

// Lifecycle event types.
const (
	EventJoiner = "joiner"
	EventMover  = "mover"
	EventLeaver = "leaver"
	EventRehire = "rehire"
	EventChange = "change" // attribute change that is not a job move
)

// Event states.
const (
	EventApplied   = "applied"   // took effect
	EventScheduled = "scheduled" // effective in the future; applied when due
	EventHeld      = "held"      // part of an import held by a safeguard
	EventDiscarded = "discarded" // part of a held import that was rejected
)

// Import statuses.
const (
	ImportApplied  = "applied"
	ImportHeld     = "held"
	ImportRejected = "rejected" // invalid feed (stored with its row errors only), or a held import discarded by a person
	ImportDryRun   = "dry-run"  // never stored; reported only
)

// Person is a workforce identity from one HR source, keyed by its HR employee ID.
type Person struct {
	Source         string            `json:"source"`
	EmployeeID     string            `json:"employee_id"`
	DisplayName    string            `json:"display_name"`
	Email          string            `json:"email,omitempty"`
	Title          string            `json:"title,omitempty"`
	Department     string            `json:"department,omitempty"`
	Team           string            `json:"team,omitempty"`
	BusinessUnit   string            `json:"business_unit,omitempty"`
	ManagerID      string            `json:"manager_id,omitempty"`
	EmploymentType string            `json:"employment_type,omitempty"`
	Status         string            `json:"status"`
	StartDate      string            `json:"start_date,omitempty"` // YYYY-MM-DD
	EndDate        string            `json:"end_date,omitempty"`   // YYYY-MM-DD
	Period         int               `json:"employment_period"`    // 1 for the first employment, +1 per rehire
	Attributes     map[string]string `json:"attributes,omitempty"` // every other mapped attribute
	UpdatedAt      time.Time         `json:"updated_at,omitzero"`
}

// Event is one lifecycle event for one person.
type Event struct {
	ID         int64     `json:"id"`
	ImportID   string    `json:"import_id"`
	Source     string    `json:"source"`
	EmployeeID string    `json:"employee_id"`
	Type       string    `json:"type"`
	State      string    `json:"state"`
	Effective  time.Time `json:"effective_at,omitzero"`
	Before     *Person   `json:"before,omitempty"`
	After      *Person   `json:"after,omitempty"`
	Changed    []string  `json:"changed,omitempty"` // attribute names that differ
	CreatedAt  time.Time `json:"created_at,omitzero"`
	AppliedAt  time.Time `json:"applied_at,omitzero"`
}

// ReplacesDates reports whether an applied event replaces the person's
// planned dates (a joiner, leaver or rehire, or a changed start or end
// date): the person's earlier scheduled events are then cancelled, in the
// transaction that applies it.
func (e *Event) ReplacesDates() bool {
	if e.Type == EventLeaver || e.Type == EventRehire || e.Type == EventJoiner {
		return true
	}
	for _, c := range e.Changed {
		if c == "start_date" || c == "end_date" {
			return true
		}
	}
	return false
}

// Import is one HR snapshot that was applied or held.
type Import struct {
	ID        string    `json:"import_id"`
	Source    string    `json:"source"`
	File      string    `json:"file,omitempty"`
	SHA256    string    `json:"sha256,omitempty"`
	Status    string    `json:"status"`
	Actor     string    `json:"actor"`
	Rows      int       `json:"rows"`
	Joiners   int       `json:"joiners"`
	Movers    int       `json:"movers"`
	Leavers   int       `json:"leavers"`
	Rehires   int       `json:"rehires"`
	Changes   int       `json:"changes"`
	Unchanged int       `json:"unchanged"`
	Reason    string    `json:"reason,omitempty"` // why it was held
	Duration  Duration  `json:"duration"`         // time to compute and write it
	CreatedAt time.Time `json:"created_at,omitzero"`
	DecidedBy string    `json:"decided_by,omitempty"`
	DecidedAt time.Time `json:"decided_at,omitzero"`
	// Errors are why an invalid feed was rejected (never its rows).
	Errors     []ImportError `json:"errors,omitempty"`
	BaseSerial int64         `json:"-"` // source serial the diff was computed against
}

// ImportError is one problem of a rejected feed: a row (1-based, 0 for the
// file as a whole), a column and what is wrong.
type ImportError struct {
	Row     int    `json:"row,omitempty"`
	Column  string `json:"column,omitempty"`
	Message string `json:"message"`
}
