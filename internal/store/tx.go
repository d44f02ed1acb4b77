package store

import (
	"context"
	"time"

	"github.com/tango-iga/tango/internal/audit"
)

// Transactor runs rules that change several rows at once in one write
// transaction: the rules live with their domain (workflow, request,
// notify, hr, auth) and use a Tx for plain row operations, so a backend
// keeps persistence only.
type Transactor interface {
	// InTx runs fn in one write transaction of the single writer (the one
	// that extends the audit chain) and commits it when fn returns nil;
	// any error undoes everything fn did. fn must not call the Store: its
	// writes would wait for this transaction.
	InTx(ctx context.Context, fn func(tx Tx) error) error
}

// SharedTransactor runs small writes that arrive together (SCIM pushes)
// as InTx does, but lets them share a transaction and its durable commit.
type SharedTransactor interface {
	// InSharedTx runs fn in a write transaction of the single writer that
	// other small writes may share, inside a savepoint of its own: an
	// error from fn undoes only what fn did. Once fn started, ctx's
	// cancellation no longer applies to its statements (cancelling one
	// would abort the shared transaction). fn must not call the Store.
	InSharedTx(ctx context.Context, fn func(tx Tx) error) error
}

// Tx is one write transaction: row operations without rules, the audit
// chain and the notification outbox. It is valid only inside the function
// given to InTx. Times are stored with microsecond precision.
type Tx interface {
	// AppendAudit appends entries to the chain in this transaction
	// (filling Seq, PrevHash, Hash).
	AppendAudit(entries ...audit.Entry) error
	// QueueNotifications inserts notifications as pending and returns
	// them with their IDs; at is their creation time and, unless they say
	// otherwise, when they are due.
	QueueNotifications(notes []Notification, at time.Time) ([]Notification, error)

	// MarkEventCased marks an event as handled by the workflow;
	// ErrNotFound if it does not exist, ErrConflict if it already was.
	MarkEventCased(eventID int64) error
	// InsertCase stores a new case and returns its ID.
	InsertCase(c Case) (int64, error)
	// Case reads a case; ErrNotFound if absent.
	Case(id int64) (Case, error)
	// CloseCase closes an open case at the given time; false when it was
	// not open.
	CloseCase(id int64, at time.Time) (bool, error)
	// OpenCasesOfCancelledEvents lists open cases whose event was
	// cancelled or discarded, by ID.
	OpenCasesOfCancelledEvents() ([]int64, error)

	// InsertTask stores a new task (with its workflow facts) and returns
	// its ID.
	InsertTask(t CaseTask) (int64, error)
	// Task reads a task with its workflow facts (Blocked is not set);
	// ErrNotFound if absent.
	Task(id int64) (CaseTask, error)
	// UpdateTask writes the changeable fields of a task: team, assignee,
	// status, evidence, completion, escalation and reminder.
	UpdateTask(t CaseTask) error
	// OpenSteps are the steps of a case that still have an open task.
	OpenSteps(caseID int64) (map[string]bool, error)
	// CountOpenTasks counts the open tasks of a case.
	CountOpenTasks(caseID int64) (int, error)
	// SkipOpenTasks marks every open task of a case skipped, completed by
	// actor at at with the given evidence.
	SkipOpenTasks(caseID int64, actor string, at time.Time, evidence string) error

	// WaitingOps lists the operations in OpWaiting for a task, by ID.
	WaitingOps(taskID int64) ([]Operation, error)
	// SetOpState changes an operation's state (and its updated time).
	SetOpState(id int64, state string, at time.Time) error
	// Operation reads an operation; ErrNotFound if absent.
	Operation(id int64) (Operation, error)
	// RequeueOp makes an operation pending again: attempts 0, due at
	// notBefore, no lease, updated at at (its last error is kept).
	RequeueOp(id int64, notBefore, at time.Time) error
	// AppState reads the health row of an app; ErrNotFound if absent.
	AppState(app string) (AppState, error)
	// PutAppState writes (inserts or replaces) the health row of an app.
	PutAppState(a AppState) error
	// ResolveFinding marks the open finding of kind, app and subject
	// resolved, last seen at at; false when there is none.
	ResolveFinding(kind, app, subject string, at time.Time) (bool, error)
	// AddFinding is Store.AddFinding inside the transaction: a new open
	// finding, or the open one of its kind, app and subject seen again
	// (last seen and detail updated).
	AddFinding(f Finding) error

	// InsertRequest stores a new request and fills its ID; its times are
	// truncated to what the store keeps and nil lists made empty.
	InsertRequest(r *Request) error
	// Request reads a request; ErrNotFound if absent.
	Request(id int64) (Request, error)
	// UpdateRequest writes a request's state onwards (state, chain, step,
	// approvals, decision, clocks, provisioned, reminder, escalation),
	// normalised as InsertRequest does.
	UpdateRequest(r *Request) error
	// ApprovedRequestsExpiringBy lists approved requests whose ExpiresAt
	// is set and at or before now, by ID.
	ApprovedRequestsExpiringBy(now time.Time) ([]Request, error)
	// SetAway replaces the away row of a person: until zero removes it.
	SetAway(employeeID string, until time.Time, actor string, at time.Time) error

	// LiveTokenExists reports whether an unrevoked token has the name.
	LiveTokenExists(name string) (bool, error)
	// InsertToken stores a new token and fills its ID.
	InsertToken(t *Token) error
	// RevokeTokenRow marks the unrevoked token of a name revoked at at;
	// false when there is none.
	RevokeTokenRow(name string, at time.Time) (bool, error)
	// RevokePersonTokens revokes every live token bound to a person and
	// returns their names.
	RevokePersonTokens(person string, at time.Time) ([]string, error)
	SignInTx

	// FinishNotificationRow records the result of a delivery attempt of a
	// notification still leased (state sending) by owner, ending the
	// lease and counting the attempt; false when it no longer is.
	FinishNotificationRow(id int64, owner string, at time.Time, r NotificationResult) (bool, error)
	// Notification reads a notification; ErrNotFound if absent.
	Notification(id int64) (Notification, error)

	// DueEvents lists the scheduled events effective at or before now, by
	// effective time and ID.
	DueEvents(now time.Time) ([]Event, error)
	// Person reads a person record; ErrNotFound if absent.
	Person(source, employeeID string) (Person, error)
	// PersonVersion reads a person's status and update time; ErrNotFound
	// if absent.
	PersonVersion(source, employeeID string) (status string, updatedAt time.Time, err error)
	// SetPersonStatus changes a person's status and update time.
	SetPersonStatus(source, employeeID, status string, at time.Time) error
	// MarkEventApplied marks an event applied at at and not provisioned.
	MarkEventApplied(id int64, at time.Time) error
	// BumpSourceSerial adds one to a source's serial.
	BumpSourceSerial(source string) error
	// SourceSerial reads a source's serial, creating the source (serial
	// 0) when it is new.
	SourceSerial(source string) (int64, error)

	// WriteSCIM writes SCIM resources (see SCIMStore.WriteSCIM): a version
	// mismatch is ErrVersion, a taken userName or employee ErrUniqueness.
	WriteSCIM(writes []SCIMWrite) error
	// ApplyChanges appends entries to the audit chain (as AppendAudit),
	// then upserts person records and inserts events (marked provisioned
	// when provisioned is true), cancelling first the scheduled events of
	// persons whose dates an applied event changes, as ApplyImport does.
	// An applied event whose entry is among entries (same subject, action
	// "hr."+Type) keeps its documents in that entry only.
	ApplyChanges(persons []Person, events []Event, provisioned bool, entries []audit.Entry) error
	// QueueProvision queues a provisioning batch; nil queues nothing.
	QueueProvision(b *ProvisionBatch) error
	// AddToImport inserts an import, or adds its counts (rows, joiners,
	// movers, leavers, rehires, changes, unchanged) to the stored import
	// of its ID.
	AddToImport(imp Import) error
	// HeldPush reads the newest held import of source whose file is
	// "scim", with the persons and events it keeps; a zero Import when
	// there is none.
	HeldPush(source string) (Import, []Person, []Event, error)
	// InsertHeldImport stores a new import keeping persons and events
	// until it is decided (see HeldImport).
	InsertHeldImport(imp Import, persons []Person, events []Event) error
	// Import reads an import (without the persons and events it keeps);
	// ErrNotFound if absent.
	Import(id string) (Import, error)
	// HeldChanges reads the person records and events an import keeps
	// until it is decided (none once it is); ErrNotFound if absent.
	HeldChanges(id string) ([]Person, []Event, error)
	// SetImportDecision writes an import's Status, DecidedBy and
	// DecidedAt and drops the persons and events it kept.
	SetImportDecision(imp Import) error
	// SetHeldImport records the import of a source that is held; ""
	// records none.
	SetHeldImport(source, importID string) error
	// UpdateHeldImport writes the counts rows, leavers, movers and changes
	// of a held import and replaces the persons and events it keeps.
	UpdateHeldImport(imp Import, persons []Person, events []Event) error
	// CountActivePersons counts the active persons of a source.
	CountActivePersons(source string) (int, error)
	// CountAppliedLeaversSince counts the applied leaver events of a
	// source created after since.
	CountAppliedLeaversSince(source string, since time.Time) (int, error)

	// Access reviews (internal/review).

	// InsertCampaign stores a new campaign and fills its ID.
	InsertCampaign(c *Campaign) error
	// Campaign reads a campaign; ErrNotFound if absent.
	Campaign(id int64) (Campaign, error)
	// UpdateCampaign writes a campaign's state, closed and completed
	// times, digest and number of items.
	UpdateCampaign(c Campaign) error
	// InsertReviewItems stores a campaign's items.
	InsertReviewItems(items []ReviewItem) error
	// ReviewItem reads an item; ErrNotFound if absent.
	ReviewItem(id int64) (ReviewItem, error)
	// ReviewItems lists the items f selects, by ID.
	ReviewItems(f ReviewItemFilter) ([]ReviewItem, error)
	// UpdateReviewItem writes an item's reviewer onwards (reviewer, team,
	// recommendation, SoD, state, decision and its evidence).
	UpdateReviewItem(it ReviewItem) error
	// CountReviewDecisions counts the items decidedBy decided by hand at
	// or after since, in every campaign.
	CountReviewDecisions(decidedBy string, since time.Time) (int, error)
	// PutRevocation records (or renews) the revocation of a grant, not
	// yet planned for, and fills its ID.
	PutRevocation(r *Revocation) error
	// ClaimReviewSchedule records that the recurring campaign name starts
	// at at, if its last start is at least every before at (or it never
	// started); false when it is not due, or another process claimed it.
	// Check and record are one statement, so concurrent claims of the
	// same start give true once.
	ClaimReviewSchedule(name string, at time.Time, every time.Duration) (bool, error)
	// ExpediteOp makes a pending operation that waits for a later time
	// (a mover's grace) runnable at at; false when it is no longer
	// pending or already due.
	ExpediteOp(id int64, at time.Time) (bool, error)
	// SetReviewScheduleCampaign notes the campaign a claimed start made.
	SetReviewScheduleCampaign(name string, campaign int64) error
	// ClaimReviewReminder records the reminder of recipient (a
	// "person:ID" or "team:NAME") about campaign at at, with how many
	// items it names; false when the recipient was reminded of the
	// campaign already. Check and record are one statement, so
	// concurrent claims give true once.
	ClaimReviewReminder(campaign int64, recipient string, items int, at time.Time) (bool, error)
	// EscalateReviewItem records that the pending item id was escalated
	// to the employee to at at; false when it is no longer pending or
	// was escalated already (once per item, across processes).
	EscalateReviewItem(id int64, to string, at time.Time) (bool, error)
}
