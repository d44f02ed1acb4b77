package store

import (
	"context"
	"time"
)

// Campaign kinds, states and the decisions on an item (access reviews,
// internal/review).
const (
	ReviewManager     = "manager"     // each person's access, reviewed by their manager
	ReviewApp         = "app"         // an app's access, reviewed by its owner
	ReviewEntitlement = "entitlement" // one entitlement's holders, reviewed by the app's owner
	// ReviewMover: what a mover keeps from the previous job during the
	// mover grace (no role gives it any more), reviewed by the new manager.
	ReviewMover = "mover"

	CampaignOpen     = "open"     // reviewers decide
	CampaignClosed   = "closed"   // decided; waiting for the revocations to be verified
	CampaignComplete = "complete" // every revocation read back and found gone

	DecisionKeep   = "keep"
	DecisionRevoke = "revoke"
	// DecisionModify revokes the reviewed entitlement as a revoke does and
	// grants a narrower one of the same app (NewEntitlement) through an
	// approved access request (Request).
	DecisionModify = "modify"

	ItemPending  = "pending"  // not decided
	ItemKept     = "kept"     // decided keep
	ItemRevoking = "revoking" // decided revoke; the removal is queued or running
	ItemWaiting  = "waiting"  // the removal waits for a person (a task for the owning team)
	ItemVerified = "verified" // read back from the app: the access is gone

	OriginRole    = "role"
	OriginRequest = "request"
	OriginUnknown = "unknown"
)

// Campaign is one access review: the population snapshotted at launch
// (its items and their digest), the policy undecided items follow at the
// deadline, and its state.
type Campaign struct {
	ID          int64  `json:"id"`
	Kind        string `json:"kind"`
	App         string `json:"app,omitempty"`
	Entitlement string `json:"entitlement,omitempty"`
	// Team, when set, reviews every item instead of managers or owners.
	Team string `json:"team,omitempty"`
	// Policy is what an undecided item becomes at the deadline: keep or revoke.
	Policy string `json:"policy"`
	State  string `json:"state"`
	// Digest is the SHA-256 of the snapshot (recorded in the audit trail).
	Digest      string    `json:"digest"`
	Items       int       `json:"items"`
	CreatedBy   string    `json:"created_by"`
	CreatedAt   time.Time `json:"created_at"`
	DueAt       time.Time `json:"due_at"`
	ClosedAt    time.Time `json:"closed_at,omitzero"`
	CompletedAt time.Time `json:"completed_at,omitzero"`
}

// ReviewItem is one person's access to one app or entitlement in a
// campaign: why it exists, who reviews it, the decision and, for a
// revocation, the evidence that it is gone.
type ReviewItem struct {
	ID          int64  `json:"id"`
	Campaign    int64  `json:"campaign"`
	Source      string `json:"source"`
	EmployeeID  string `json:"employee_id"`
	Name        string `json:"display_name"`
	App         string `json:"app"`
	Entitlement string `json:"entitlement,omitempty"`
	// Origin is role, request or unknown; Why names the roles or requests.
	Origin string `json:"origin"`
	Why    string `json:"why"`
	// Reviewer is the employee ID who decides; Team a team that does.
	Reviewer       string    `json:"reviewer,omitempty"`
	Team           string    `json:"team,omitempty"`
	Recommendation string    `json:"recommendation"`
	SoD            string    `json:"sod,omitempty"`
	State          string    `json:"state"`
	Decision       string    `json:"decision,omitempty"`
	Reason         string    `json:"reason,omitempty"`
	DecidedBy      string    `json:"decided_by,omitempty"`
	DecidedAt      time.Time `json:"decided_at,omitzero"`
	// Automatic: decided by the campaign's policy at its deadline.
	Automatic bool `json:"automatic,omitempty"`
	// Operation is the provisioning operation that removed the access,
	// Task the task of a person who does, VerifiedAt when reconcile read
	// the app back and found it gone.
	Operation  int64     `json:"operation,omitempty"`
	Task       int64     `json:"task,omitempty"`
	VerifiedAt time.Time `json:"verified_at,omitzero"`
	Evidence   string    `json:"evidence,omitempty"`
	// NewEntitlement is what a modify decision grants instead, Request the
	// approved access request that grants it.
	NewEntitlement string `json:"new_entitlement,omitempty"`
	Request        int64  `json:"request,omitempty"`
	// LastActivity is when the person last used their account in the app
	// as reconcile last read it (zero: the app does not report it), and
	// InactiveDays how many whole days before the campaign started.
	LastActivity time.Time `json:"last_activity,omitzero"`
	InactiveDays int       `json:"inactive_days,omitempty"`
	// EscalatedTo is who a pending item was escalated to near the
	// campaign's deadline (the reviewer's manager, or their stand-in),
	// who may then decide it too; EscalatedAt when. Only
	// Tx.EscalateReviewItem writes them.
	EscalatedTo string    `json:"escalated_to,omitempty"`
	EscalatedAt time.Time `json:"escalated_at,omitzero"`
}

// Removes reports whether the item's decision takes the access away (a
// revoke, or a modify, which revokes it and grants a narrower one).
func (it ReviewItem) Removes() bool {
	return it.Decision == DecisionRevoke || it.Decision == DecisionModify
}

// Revocation is access a review revoked: the plan leaves it out of what
// the person should have, even when a role gives it, until an access
// request for it is approved after CreatedAt.
type Revocation struct {
	ID          int64     `json:"id"`
	Source      string    `json:"source"`
	EmployeeID  string    `json:"employee_id"`
	App         string    `json:"app"`
	Entitlement string    `json:"entitlement,omitempty"`
	Item        int64     `json:"item"`
	Reason      string    `json:"reason"`
	CreatedAt   time.Time `json:"created_at"`
	Planned     bool      `json:"planned"`
}

// ReviewItemFilter selects items of a campaign, by ID.
type ReviewItemFilter struct {
	Campaign int64
	Reviewer string // items this employee reviews
	Team     string // items this team reviews
	// EscalatedTo: items escalated to this employee.
	EscalatedTo string
	// Unescalated: only items a person reviews that were not escalated.
	Unescalated bool
	State       string
	Limit       int
}

// Reviews keeps access-review campaigns, their items and the revocations
// they made.
type Reviews interface {
	Campaign(ctx context.Context, id int64) (Campaign, error)
	// Campaigns lists campaigns (of a state, or all with ""), newest first.
	Campaigns(ctx context.Context, state string) ([]Campaign, error)
	ReviewItem(ctx context.Context, id int64) (ReviewItem, error)
	ReviewItems(ctx context.Context, f ReviewItemFilter) ([]ReviewItem, error)
	// ReviewCounts counts the items of each campaign of ids by where
	// they stand (a campaign without items is absent).
	ReviewCounts(ctx context.Context, ids []int64) (map[int64]ReviewCount, error)
	// Revocations lists revocations (of a source, or all with ""; only the
	// ones not yet planned for when unplanned), by ID.
	Revocations(ctx context.Context, source string, unplanned bool) ([]Revocation, error)
	// AccountActivities lists when accounts were last used (of one app,
	// or all with ""), as reconcile last read it.
	AccountActivities(ctx context.Context, app string) ([]AccountActivity, error)
	// PersonRevocations lists one person's revocations, by ID.
	PersonRevocations(ctx context.Context, source, employeeID string) ([]Revocation, error)
	// ReviewScheduleStarted is when the recurring campaign name last
	// started (ClaimReviewSchedule); zero if never.
	ReviewScheduleStarted(ctx context.Context, name string) (time.Time, error)
	// PendingReviewers counts a campaign's pending items by who reviews
	// them (a person or a team), by recipient.
	PendingReviewers(ctx context.Context, campaign int64) ([]ReviewerCount, error)
	// ReviewReminders lists the recipients reminded of a campaign
	// (Tx.ClaimReviewReminder), sorted.
	ReviewReminders(ctx context.Context, campaign int64) ([]string, error)
}

// ReviewerCount is how many pending items of a campaign one reviewer has:
// a person (Reviewer, of HR source Source) or a team.
type ReviewerCount struct {
	Reviewer string `json:"reviewer,omitempty"`
	Team     string `json:"team,omitempty"`
	Source   string `json:"source,omitempty"`
	Pending  int    `json:"pending"`
}

// Recipient names who a reminder goes to: "person:ID" or "team:NAME"
// (the notify package's recipient labels).
func (r ReviewerCount) Recipient() string {
	if r.Reviewer != "" {
		return "person:" + r.Reviewer
	}
	return "team:" + r.Team
}

// AccountActivity is when a person last used their account in an app, as
// the app reported it to reconcile (LDAP authTimestamp, a SCIM app's
// configured last-login attribute), and when it was read.
type AccountActivity struct {
	App          string    `json:"app"`
	Source       string    `json:"source"`
	EmployeeID   string    `json:"employee_id"`
	LastActivity time.Time `json:"last_activity"`
	ReadAt       time.Time `json:"read_at"`
}

// ReviewCount is where a campaign's items stand: undecided, decided keep,
// decided revoke, and of those revoked, read back and found gone.
type ReviewCount struct {
	Pending  int `json:"pending"`
	Kept     int `json:"kept"`
	Revoked  int `json:"revoked"` // revoke and modify decisions
	Modified int `json:"modified,omitempty"`
	Verified int `json:"verified"`
}
