// Package review runs access reviews (certification campaigns): a campaign
// snapshots who holds what at its launch, one item per person × app ×
// entitlement with why the access exists (a role, an access request, or
// nothing Tango knows of); reviewers (the person's manager, the app's
// owning team, or a named team, with stand-ins while a reviewer is away)
// keep or revoke each item; undecided items follow the campaign's policy
// at its close; and a revocation is not the end of it: it becomes a
// provisioning operation at once, and the campaign is complete only when
// every revoked access has been read back from its app and found gone.
//
// A revocation is recorded as an exception the provisioning plan honours
// (store.Revocation): the grant is left out of what the person should
// have even when a role gives it (a birthright grant), so the next plan
// does not give it back. It holds until an access request for the same
// access is approved after it.
package review

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/tango-iga/tango/internal/audit"
	"github.com/tango-iga/tango/internal/authz"
	"github.com/tango-iga/tango/internal/config"
	"github.com/tango-iga/tango/internal/connector"
	"github.com/tango-iga/tango/internal/domain"
	"github.com/tango-iga/tango/internal/notify"
	"github.com/tango-iga/tango/internal/policy"
	"github.com/tango-iga/tango/internal/store"
	"github.com/tango-iga/tango/internal/task"
)

// Store is what reviews need of the store. The SQL store satisfies it.
type Store interface {
	store.Transactor
	store.Reviews
	EachGrant(ctx context.Context, group func(source, employeeID string) string, fn func(g store.GrantRow, lastUsed time.Time) error) error
	Events(ctx context.Context, f store.EventFilter) ([]store.Event, error)
	Persons(ctx context.Context, f store.PersonFilter) ([]store.Person, error)
	Person(ctx context.Context, source, employeeID string) (store.Person, error)
	Requests(ctx context.Context, f store.RequestFilter) ([]store.Request, error)
	AwayUntil(ctx context.Context, employeeID string) (time.Time, error)
	Ops(ctx context.Context, f store.OpFilter) ([]store.Operation, error)
	AddFinding(ctx context.Context, f store.Finding) error
	Tasks(ctx context.Context, f store.TaskFilter) ([]store.Task, error)
	PersonGrants(ctx context.Context, source, employeeID string) ([]store.GrantRow, error)
}

// Reader reads a person's account back from an app (provision.Engine's
// ReadBack): what verification of a revocation asks.
type Reader interface {
	ReadBack(ctx context.Context, app string, p store.Person) (connector.Account, bool, error)
}

// Options tune the rules.
type Options struct {
	// Pace: more than PaceDecisions decisions by one reviewer within
	// PaceWindow are rubber-stamping, a finding for Security. Default:
	// the config's reviews.pace_decisions and pace_window (50 in 1m).
	PaceDecisions int
	PaceWindow    time.Duration
	Now           func() time.Time
}

// Service runs campaigns over a store and the config's policy.
type Service struct {
	st    Store
	cfg   *config.Config
	pol   *policy.Policy
	opt   Options
	notes *notify.Planner // nil: no notification channel configured

	// reminded holds the campaigns whose every reviewer this process has
	// seen reminded (see Remind): their pending items are not counted by
	// reviewer again at every scheduler pass of the reminder window.
	reminded sync.Map
}

// New builds the service; the config's roles must compile.
func New(st Store, cfg *config.Config, opt Options) (*Service, error) {
	pol, err := policy.Compile(cfg)
	if err != nil {
		return nil, err
	}
	n, w := cfg.Reviews.Pace()
	if opt.PaceDecisions <= 0 {
		opt.PaceDecisions = n
	}
	if opt.PaceWindow <= 0 {
		opt.PaceWindow = w
	}
	if opt.Now == nil {
		return nil, errors.New("review: Options.Now is required")
	}
	return &Service{st: st, cfg: cfg, pol: pol, opt: opt, notes: notify.NewPlanner(st, cfg)}, nil
}

func invalid(format string, a ...any) error {
	return domain.E(domain.KindInvalid, fmt.Sprintf(format, a...))
}

func conflict(format string, a ...any) error {
	return domain.E(domain.KindConflict, fmt.Sprintf(format, a...))
}

func (s *Service) now() time.Time { return s.opt.Now().UTC().Truncate(time.Microsecond) }

// StartOptions describe a campaign.
type StartOptions struct {
	Kind        string // manager | app | entitlement
	App         string // required for app and entitlement; narrows a manager campaign
	Entitlement string // required for entitlement; narrows an app or manager campaign
	Team        string // a named team reviews every item instead
	// Undecided is what undecided items become at the close: keep
	// (default) or revoke.
	Undecided string
	Due       time.Duration // default 14 days
	Actor     string
	// Schedule names the recurring definition (reviews.campaigns) that
	// starts it, Every its period: the start is claimed in the
	// transaction that inserts the campaign, and ErrNotDue returned when
	// the last start is less than Every ago.
	Schedule string
	Every    time.Duration
}

// ErrNotDue: a recurring campaign's last start is less than its period
// ago (another process started it).
var ErrNotDue = errors.New("review: the recurring campaign is not due")

// DefaultDue is how long a campaign runs unless told.
const DefaultDue = 14 * 24 * time.Hour

// Start snapshots the population and opens the campaign, with an audit
// entry carrying the snapshot's digest, in one transaction. It returns
// the campaign and its first StartItems items.
func (s *Service) Start(ctx context.Context, o StartOptions) (store.Campaign, []store.ReviewItem, error) {
	o.Kind, o.App, o.Entitlement, o.Team = strings.TrimSpace(o.Kind), strings.TrimSpace(o.App), strings.TrimSpace(o.Entitlement), strings.TrimSpace(o.Team)
	o.Undecided = cmp.Or(strings.TrimSpace(o.Undecided), store.DecisionKeep)
	var app *config.App
	if o.App != "" {
		for i := range s.cfg.Apps {
			if s.cfg.Apps[i].Name == o.App {
				app = &s.cfg.Apps[i]
			}
		}
		if app == nil {
			return store.Campaign{}, nil, invalid("--app %q: no such app in the config", o.App)
		}
	}
	switch o.Kind {
	case store.ReviewManager:
	case store.ReviewApp:
		if app == nil {
			return store.Campaign{}, nil, invalid("kind app needs --app NAME: the app whose access is reviewed")
		}
	case store.ReviewEntitlement:
		if app == nil || o.Entitlement == "" {
			return store.Campaign{}, nil, invalid("kind entitlement needs --app NAME and --entitlement X")
		}
	default:
		return store.Campaign{}, nil, invalid("kind %q: want manager, app or entitlement", o.Kind)
	}
	if o.Undecided != store.DecisionKeep && o.Undecided != store.DecisionRevoke {
		return store.Campaign{}, nil, invalid("undecided %q: want keep or revoke", o.Undecided)
	}
	if o.Due < 0 {
		return store.Campaign{}, nil, invalid("due %s: want a positive length of time", o.Due)
	}
	if o.Due == 0 {
		o.Due = DefaultDue
	}
	at := s.now()
	c := store.Campaign{Kind: o.Kind, App: o.App, Entitlement: o.Entitlement, Team: o.Team, Policy: o.Undecided,
		State: store.CampaignOpen, CreatedBy: o.Actor, CreatedAt: at, DueAt: at.Add(o.Due)}
	err := s.st.InTx(ctx, func(tx store.Tx) error {
		if o.Schedule != "" {
			ok, err := tx.ClaimReviewSchedule(o.Schedule, at, o.Every)
			if err != nil {
				return err
			}
			if !ok {
				return ErrNotDue
			}
		}
		if err := tx.InsertCampaign(&c); err != nil {
			return err
		}
		// The population is made (reading on other connections) while
		// its chunks are inserted: the two overlap.
		digest, n, err := s.insertPopulation(ctx, tx, o, at, c.ID)
		if err != nil {
			return err
		}
		c.Digest, c.Items = digest, n
		if err := tx.UpdateCampaign(c); err != nil {
			return err
		}
		detail := any(c)
		if o.Schedule != "" {
			if err := tx.SetReviewScheduleCampaign(o.Schedule, c.ID); err != nil {
				return err
			}
			detail = map[string]any{"campaign": c, "schedule": o.Schedule, "every": o.Every.String()}
		}
		return tx.AppendAudit(audit.New(at, o.Actor, "review.started", "", "", fmt.Sprintf("campaign:%d", c.ID), nil, detail))
	})
	if err != nil {
		return store.Campaign{}, nil, err
	}
	// The first items only: a campaign of millions is listed page by page.
	items, err := s.st.ReviewItems(ctx, store.ReviewItemFilter{Campaign: c.ID, Limit: StartItems})
	return c, items, err
}

// insertPopulation makes the campaign's items in a goroutine and inserts
// them in tx chunk by chunk as they come, hashing them in order; it
// returns the digest and how many there are.
func (s *Service) insertPopulation(ctx context.Context, tx store.Tx, o StartOptions, at time.Time, campaign int64) (string, int, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	chunks := make(chan []store.ReviewItem, 2)
	done := make(chan error, 1)
	go func() {
		defer close(chunks)
		done <- s.population(ctx, o, at, func(b []store.ReviewItem) error {
			select {
			case chunks <- b:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
	}()
	h := sha256.New()
	n := 0
	var err error
	for b := range chunks {
		if err != nil {
			continue // drain: the producer stops at the cancel
		}
		for i := range b {
			b[i].Campaign = campaign
			digestLine(h, &b[i])
		}
		if err = tx.InsertReviewItems(b); err != nil {
			cancel()
		}
		n += len(b)
	}
	if perr := <-done; err == nil {
		err = perr
	}
	if err != nil {
		return "", 0, err
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), n, nil
}

// StartItems is how many of its items Start returns (by ID); the rest are
// listed with ReviewItems.
const StartItems = 1000

// StartDue starts each recurring campaign of the config
// (reviews.campaigns) whose last start is at least its period ago, or
// that never started (the scheduler's step). Several processes may run
// it at once: the start is claimed in the campaign's transaction, so each
// is started once.
func (s *Service) StartDue(ctx context.Context, actor string) ([]store.Campaign, error) {
	var out []store.Campaign
	var errs []error
	for _, d := range s.cfg.Reviews.Campaigns {
		name, every := d.Key(), d.Period()
		last, err := s.st.ReviewScheduleStarted(ctx, name)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if !last.IsZero() && s.now().Before(last.Add(every)) {
			continue
		}
		c, _, err := s.Start(ctx, StartOptions{Kind: d.Kind, App: d.App, Entitlement: d.Entitlement, Team: d.Team,
			Undecided: d.Undecided, Due: d.DueIn(), Actor: actor, Schedule: name, Every: every})
		switch {
		case errors.Is(err, ErrNotDue):
		case err != nil:
			errs = append(errs, fmt.Errorf("recurring campaign %q: %w", name, err))
		default:
			out = append(out, c)
		}
	}
	return out, errors.Join(errs...)
}

// StartMovers starts a small campaign (kind mover) for each mover whose
// job changed within the mover grace (provisioning.mover_grace) and who
// keeps access from the previous job that no role gives any more: one item
// per removal the plan queued for the grace's end, reviewed by the new
// manager (Security when there is none, or it is the mover), due when the
// first removal runs. A revoke runs the removal at once; keep records the
// manager's decision, and the removal still runs at the grace's end (to
// keep the access, ask for it with an access request). Each mover event
// starts one campaign, however many processes run it (the start is
// claimed as "mover:event:ID").
func (s *Service) StartMovers(ctx context.Context, actor string) ([]store.Campaign, error) {
	grace := s.cfg.Provisioning.MoverGrace
	if grace <= 0 {
		grace = 7 * 24 * time.Hour
	}
	evs, err := s.st.Events(ctx, store.EventFilter{Type: store.EventMover, State: store.EventApplied})
	if err != nil {
		return nil, err
	}
	now := s.now()
	var out []store.Campaign
	for _, ev := range evs {
		if ev.AppliedAt.Before(now.Add(-grace)) {
			continue
		}
		name := fmt.Sprintf("mover:event:%d", ev.ID)
		if at, err := s.st.ReviewScheduleStarted(ctx, name); err != nil {
			return out, err
		} else if !at.IsZero() {
			continue
		}
		c, err := s.startMover(ctx, ev, name, now, actor)
		if err != nil && !errors.Is(err, ErrNotDue) {
			return out, fmt.Errorf("mover review of %s (event %d): %w", ev.EmployeeID, ev.ID, err)
		}
		if err == nil && c.ID != 0 {
			out = append(out, c)
		}
	}
	return out, nil
}

// moverWhy is in the reason the planner (provision) gives a removal it
// queues for the mover grace's end; TestMoverReviewByTheNewManager runs
// the real planner, so a change of its wording fails it.
const moverWhy = "grace period"

func (s *Service) startMover(ctx context.Context, ev store.Event, name string, at time.Time, actor string) (store.Campaign, error) {
	p, err := s.st.Person(ctx, ev.Source, ev.EmployeeID)
	if err != nil {
		return store.Campaign{}, err
	}
	if p.Status == store.StatusLeft {
		return store.Campaign{}, nil
	}
	ops, err := s.st.Ops(ctx, store.OpFilter{EmployeeID: p.EmployeeID, State: store.OpPending})
	if err != nil {
		return store.Campaign{}, err
	}
	var items []store.ReviewItem
	var due time.Time
	for _, o := range ops {
		if o.Source != p.Source || (o.Kind != store.OpRevoke && o.Kind != store.OpDisable) || !o.NotBefore.After(at) ||
			!strings.Contains(o.Reason, moverWhy) || o.CreatedAt.Before(ev.AppliedAt.Add(-time.Minute)) {
			continue
		}
		it := store.ReviewItem{Source: p.Source, EmployeeID: p.EmployeeID, Name: p.DisplayName, App: o.App, Entitlement: o.Entitlement,
			Origin: store.OriginUnknown, Why: "kept from the previous job during the mover grace: " + o.Reason,
			Recommendation: fmt.Sprintf("review: removed on %s unless revoked sooner; keep only what the new job needs until then, and ask for it with an access request beyond", o.NotBefore.Format(time.DateOnly)),
			State:          store.ItemPending, Operation: o.ID, Reviewer: p.ManagerID}
		if it.Reviewer == "" || it.Reviewer == p.EmployeeID {
			it.Reviewer, it.Team = "", "security"
		}
		items = append(items, it)
		if due.IsZero() || o.NotBefore.Before(due) {
			due = o.NotBefore
		}
	}
	if len(items) == 0 {
		return store.Campaign{}, nil // nothing kept (or not planned yet: the next pass looks again)
	}
	c := store.Campaign{Kind: store.ReviewMover, Policy: store.DecisionKeep, State: store.CampaignOpen, Digest: Digest(items),
		Items: len(items), CreatedBy: actor, CreatedAt: at, DueAt: due}
	err = s.st.InTx(ctx, func(tx store.Tx) error {
		ok, err := tx.ClaimReviewSchedule(name, at, 100*365*24*time.Hour)
		if err != nil {
			return err
		}
		if !ok {
			return ErrNotDue
		}
		if err := tx.InsertCampaign(&c); err != nil {
			return err
		}
		for i := range items {
			items[i].Campaign = c.ID
		}
		if err := tx.InsertReviewItems(items); err != nil {
			return err
		}
		if err := tx.SetReviewScheduleCampaign(name, c.ID); err != nil {
			return err
		}
		return tx.AppendAudit(audit.New(at, actor, "review.started", p.Source, p.EmployeeID, fmt.Sprintf("campaign:%d", c.ID), nil,
			map[string]any{"campaign": c, "mover_event": ev.ID, "reviewer": items[0].Reviewer}))
	})
	return c, err
}

// Digest is the SHA-256 of a snapshot: each item's person, access, origin
// and reviewer, one line each, in order.
func Digest(items []store.ReviewItem) string {
	h := sha256.New()
	for i := range items {
		digestLine(h, &items[i])
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

func digestLine(h io.Writer, it *store.ReviewItem) {
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00%s\x00%s\x00%s\x00%s\n", it.Source, it.EmployeeID, it.App, it.Entitlement, it.Origin, it.Reviewer, it.Team)
}

// population is the campaign's items: every active grant of every person
// who has not left, in scope, with its origin, recommendation and reviewer,
// and when the account was last used where its app reports it (an account
// unused for reviews.inactive_after is recommended for revocation, unless
// a separation-of-duties conflict says more).
func (s *Service) population(ctx context.Context, o StartOptions, at time.Time, emit func([]store.ReviewItem) error) error {
	// Everyone and every approved request at once (a query per person
	// costs minutes at 100,000 persons), read while the store reads the
	// grants: the first person's grants wait for them.
	persons := map[string]*store.Person{}
	approvedOf := map[string][]store.Request{}
	loaded := make(chan error, 1)
	go func() {
		all, err := s.st.Persons(ctx, store.PersonFilter{})
		if err != nil {
			loaded <- err
			return
		}
		for i := range all {
			persons[all[i].Source+"\x00"+all[i].EmployeeID] = &all[i]
		}
		reqs, err := s.st.Requests(ctx, store.RequestFilter{State: store.RequestApproved})
		for _, r := range reqs {
			k := r.Source + "\x00" + r.Beneficiary
			approvedOf[k] = append(approvedOf[k], r)
		}
		loaded <- err
	}()
	waited, loadErr := false, error(nil)
	wait := func() error {
		if !waited {
			waited, loadErr = true, <-loaded
		}
		return loadErr
	}
	defer wait() // the reads end before population returns, also on an error
	person := func(source, id string) (*store.Person, error) { return persons[source+"\x00"+id], nil }
	// When each of the person's accounts was last used (app -> time), as
	// reconcile last read it: streamed with their grants.
	lastUsed := map[string]time.Time{}
	inactiveAfter := s.cfg.Reviews.Inactive()
	awayUntil := map[string]time.Time{}
	away := func(id string) (time.Time, error) {
		if t, ok := awayUntil[id]; ok {
			return t, nil
		}
		t, err := s.st.AwayUntil(ctx, id)
		if err != nil {
			return t, err
		}
		awayUntil[id] = t
		return t, nil
	}
	// Items go out in chunks as they are made: never all held at once.
	const chunk = 5000
	items := make([]store.ReviewItem, 0, chunk)
	// one makes the items of one person's grants.
	one := func(k string, held []store.GrantRow) error {
		// A person's grants in one order whatever the store's (the
		// snapshot's digest is over the items in the order made).
		slices.SortFunc(held, func(a, b store.GrantRow) int {
			return cmp.Or(strings.Compare(a.App, b.App), strings.Compare(a.Entitlement, b.Entitlement))
		})
		source, id, _ := strings.Cut(k, "\x00")
		p, err := person(source, id)
		if err != nil {
			return err
		}
		if p == nil || p.Status == store.StatusLeft {
			return nil // a leaver's access goes anyway
		}
		var inScope []store.GrantRow
		for _, g := range held {
			if o.App != "" && g.App != o.App {
				continue
			}
			if o.Entitlement != "" && !strings.EqualFold(g.Entitlement, o.Entitlement) {
				continue
			}
			inScope = append(inScope, g)
		}
		if len(inScope) == 0 {
			return nil
		}
		// Why each grant exists: the policy's answer for the person now.
		var mgr *store.Person
		if p.ManagerID != "" {
			if mgr, err = person(p.Source, p.ManagerID); err != nil {
				return err
			}
		}
		approved := approvedOf[k]
		want, _, err := s.pol.Desired(policy.Input{Person: policy.FirstDay(p), Manager: mgr, Requests: policy.FromRequests(approved)}, at)
		if err != nil {
			return err
		}
		all := make([]policy.Grant, 0, len(held))
		for _, g := range held {
			all = append(all, policy.Grant{App: g.App, Entitlement: g.Entitlement})
		}
		for _, g := range inScope {
			it := store.ReviewItem{Source: p.Source, EmployeeID: p.EmployeeID, Name: p.DisplayName, App: g.App,
				Entitlement: g.Entitlement, State: store.ItemPending}
			gr := policy.Grant{App: g.App, Entitlement: g.Entitlement}
			i := slices.IndexFunc(want, func(r policy.Reasoned) bool { return r.Grant == gr })
			switch {
			case i >= 0 && len(want[i].Roles) > 0:
				it.Origin, it.Why = store.OriginRole, "role "+strings.Join(want[i].Roles, ", ")
				it.Recommendation = "keep: a birthright grant of its role; change the role's condition rather than revoke by hand"
			case i >= 0:
				var rs []string
				for _, id := range want[i].Requests {
					rs = append(rs, fmt.Sprintf("request #%d", id))
				}
				it.Origin, it.Why = store.OriginRequest, strings.Join(rs, ", ")
				it.Recommendation = "review: access asked for by request; check it is still needed"
			default:
				it.Origin, it.Why = store.OriginUnknown, "no role or approved request gives it ("+g.Reason+")"
				it.Recommendation = "revoke: nothing in the policy explains this access"
			}
			if last, ok := lastUsed[g.App]; ok {
				it.LastActivity, it.InactiveDays = last, InactiveDays(last, at)
				if at.Sub(last) >= inactiveAfter {
					it.Recommendation = fmt.Sprintf("revoke: inactive for %d days (last used %s in %s; the limit is %d days)",
						it.InactiveDays, last.UTC().Format(time.DateOnly), g.App, int(inactiveAfter.Hours()/24))
				}
			}
			// Check passes over gr itself in what is held.
			if v := s.pol.Check(gr, all); v != nil {
				it.SoD = fmt.Sprintf("with %s breaks separation-of-duties rule %q", strings.Join(v.Holds, ", "), v.Rule)
				it.Recommendation = "revoke: " + it.SoD
			}
			if err := s.assign(&it, p, o, app(s.cfg, g.App), person, away, at); err != nil {
				return err
			}
			items = append(items, it)
			if len(items) == chunk {
				if err := emit(items); err != nil {
					return err
				}
				items = make([]store.ReviewItem, 0, chunk)
			}
		}
		return nil
	}
	// Grants come by person: only one person's items are made at a time.
	var key string
	var held []store.GrantRow
	// A manager campaign's items go to the persons' managers: made and
	// inserted manager by manager, its reviewer index grows in order (at
	// random it was a third of the start's time).
	var group func(source, id string) string
	if o.Kind == store.ReviewManager && o.Team == "" {
		group = func(source, id string) string {
			if wait() != nil {
				return ""
			}
			if p := persons[source+"\x00"+id]; p != nil {
				return p.ManagerID
			}
			return ""
		}
	}
	err := s.st.EachGrant(ctx, group, func(g store.GrantRow, used time.Time) error {
		if err := wait(); err != nil {
			return err
		}
		if g.State != "active" {
			return nil
		}
		k := g.Source + "\x00" + g.EmployeeID
		if k != key && len(held) > 0 {
			if err := one(key, held); err != nil {
				return err
			}
			held = held[:0]
			clear(lastUsed)
		}
		key = k
		held = append(held, g)
		if !used.IsZero() {
			lastUsed[g.App] = used
		}
		return nil
	})
	if err != nil {
		return err
	}
	if len(held) > 0 {
		if err := one(key, held); err != nil {
			return err
		}
	}
	if err := wait(); err != nil { // also with no grants at all
		return err
	}
	if len(items) > 0 {
		return emit(items)
	}
	return nil
}

// InactiveDays is how many whole days before at the account was last
// used (0 for a time after at).
func InactiveDays(last, at time.Time) int {
	if !last.Before(at) {
		return 0
	}
	return int(at.Sub(last) / (24 * time.Hour))
}

func app(cfg *config.Config, name string) *config.App {
	for i := range cfg.Apps {
		if cfg.Apps[i].Name == name {
			return &cfg.Apps[i]
		}
	}
	return nil
}

// assign chooses the item's reviewer: a named team; else for the manager
// kind the person's manager (their own manager while the manager is away
// or gone); else the app's owning team (an entitlement's owner when the
// catalogue names one). Nobody reviews their own access: such an item goes
// to the reviewer's manager, or Security.
func (s *Service) assign(it *store.ReviewItem, p *store.Person, o StartOptions, a *config.App,
	person func(source, id string) (*store.Person, error), away func(id string) (time.Time, error), at time.Time) error {
	if o.Team != "" {
		it.Team = o.Team
		return nil
	}
	if o.Kind != store.ReviewManager && a != nil {
		for _, q := range a.Requestable {
			if it.Entitlement != "" && strings.EqualFold(q.Entitlement, it.Entitlement) && q.Owner != "" {
				it.Reviewer = q.Owner
			}
		}
		if it.Reviewer == "" {
			it.Team = cmp.Or(a.Owner, "security")
			return nil
		}
	} else {
		it.Reviewer = p.ManagerID
	}
	for range 3 { // a stand-in for an absent reviewer, or for one who would review themself
		if it.Reviewer == "" {
			break
		}
		r, err := person(p.Source, it.Reviewer)
		if err != nil {
			return err
		}
		until, err := away(it.Reviewer)
		if err != nil {
			return err
		}
		if r != nil && r.Status != store.StatusLeft && until.Before(at) && it.Reviewer != p.EmployeeID {
			return nil
		}
		next := ""
		if r != nil {
			next = r.ManagerID
		}
		it.Reviewer = next
	}
	it.Reviewer, it.Team = "", "security"
	return nil
}

// StandIns are who may decide for a reviewer: their manager while the
// reviewer is away or has left.
func (s *Service) StandIns(ctx context.Context, it store.ReviewItem) ([]string, error) {
	if it.Reviewer == "" {
		return nil, nil
	}
	r, err := s.st.Person(ctx, it.Source, it.Reviewer)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	away, err := s.st.AwayUntil(ctx, r.EmployeeID)
	if err != nil {
		return nil, err
	}
	if r.ManagerID != "" && (r.Status == store.StatusLeft || away.After(s.opt.Now())) {
		return []string{r.ManagerID}, nil
	}
	return nil, nil
}

// Decision is a reviewer's decision on an item.
type Decision struct {
	// Decision is keep, revoke or modify.
	Decision string `json:"decision"`
	// Reason is required for revoke and modify (at most 1000 characters).
	Reason string `json:"reason,omitempty"`
	// Entitlement is, for modify only, the narrower entitlement of the
	// same app that replaces the reviewed one.
	Entitlement string `json:"entitlement,omitempty"`
}

// Decide records a reviewer's decision on an item: keep, or revoke with a
// reason (DecideItem also takes modify).
func (s *Service) Decide(ctx context.Context, who authz.Principal, itemID int64, decision, reason string) (store.ReviewItem, error) {
	return s.DecideItem(ctx, who, itemID, Decision{Decision: decision, Reason: reason})
}

// DecideItem records a reviewer's decision on an item: keep; revoke with
// a reason; or modify with a reason and a narrower entitlement of the same
// app, which revokes the reviewed entitlement as a revoke does and grants
// the narrower one through an approved access request naming the item
// (store.Request.ReviewItem), so the grant's reason shows where it came
// from. The caller must pass the record rule (reviewer, stand-in or team;
// never their own access). A revocation (and a modify's request) is
// recorded in the same transaction, so the removal and the new grant are
// queued at the next planning pass (at once under `tango serve`).
// Deciding faster than the pace is recorded as a rubber-stamping finding.
func (s *Service) DecideItem(ctx context.Context, who authz.Principal, itemID int64, d Decision) (store.ReviewItem, error) {
	decision, reason, newEnt := strings.TrimSpace(d.Decision), strings.TrimSpace(d.Reason), strings.TrimSpace(d.Entitlement)
	switch decision {
	case store.DecisionKeep, store.DecisionRevoke, store.DecisionModify:
	default:
		return store.ReviewItem{}, invalid("decision %q: want keep, revoke or modify", decision)
	}
	if decision != store.DecisionKeep && reason == "" {
		return store.ReviewItem{}, invalid("a %s needs a reason (--reason TEXT)", decision)
	}
	if decision == store.DecisionModify && newEnt == "" {
		return store.ReviewItem{}, invalid("a modify needs the narrower entitlement that replaces the reviewed one (--entitlement NAME)")
	}
	if decision != store.DecisionModify && newEnt != "" {
		return store.ReviewItem{}, invalid("entitlement %q: only a modify decision names an entitlement (this one is %s)", newEnt, decision)
	}
	if len(reason) > 1000 {
		return store.ReviewItem{}, invalid("reason: %d characters, at most 1000", len(reason))
	}
	it, err := s.st.ReviewItem(ctx, itemID)
	if err != nil {
		return it, err
	}
	standIns, err := s.StandIns(ctx, it)
	if err != nil {
		return it, err
	}
	if err := who.ActOnReviewItem(it, standIns); err != nil {
		return it, err
	}
	var grant *store.Request
	if decision == store.DecisionModify {
		if grant, err = s.modification(ctx, it, newEnt); err != nil {
			return it, err
		}
	}
	at := s.now()
	err = s.st.InTx(ctx, func(tx store.Tx) error {
		it, err = tx.ReviewItem(itemID)
		if err != nil {
			return err
		}
		c, err := tx.Campaign(it.Campaign)
		if err != nil {
			return err
		}
		if c.State != store.CampaignOpen {
			return conflict("campaign %d is %s: its items can no longer be decided", c.ID, c.State)
		}
		if it.State != store.ItemPending {
			return conflict("review item %d is already decided (%s by %s)", it.ID, it.Decision, it.DecidedBy)
		}
		before := it
		if err := s.decide(tx, &it, decision, reason, who.Person, false, at); err != nil {
			return err
		}
		var ents []audit.Entry
		if grant != nil {
			if err := s.grantNarrower(tx, &it, grant, who, at); err != nil {
				return err
			}
			ents = append(ents, audit.New(at, who.Actor(), "request.approved", grant.Source, "", grant.Beneficiary, nil, grant))
		}
		fast, err := tx.CountReviewDecisions(who.Person, at.Add(-s.opt.PaceWindow))
		if err != nil {
			return err
		}
		if fast > s.opt.PaceDecisions {
			// In the decision's transaction: one commit, not two.
			err := tx.AddFinding(store.Finding{Kind: "review-rubber-stamp", Subject: who.Person, Team: "security",
				Detail: fmt.Sprintf("%s made %d review decisions within %s (pace limit %d): rubber-stamping? campaign %d",
					who.Person, fast, s.opt.PaceWindow, s.opt.PaceDecisions, it.Campaign), FirstSeen: at, LastSeen: at})
			if err != nil {
				return fmt.Errorf("recording the rubber-stamping finding: %w", err)
			}
		}
		ents = append([]audit.Entry{audit.New(at, who.Actor(), "review.decided", it.Source, "", fmt.Sprintf("review-item:%d", it.ID), before, it)}, ents...)
		return tx.AppendAudit(ents...)
	})
	if err != nil {
		return it, err
	}
	return it, nil
}

// StepReview is the one step of the access request a modify decision
// makes: the reviewer's decision approved it.
const StepReview = "review"

// modification checks a modify of it to the entitlement ent and returns
// the access request that grants it (not stored yet): the item must be an
// entitlement (an account is kept or revoked), ent another entitlement of
// the same app that the app's config knows (its catalogue and its roles'
// grants, when it names any), and the person must not break a
// separation-of-duties rule by holding ent instead of the reviewed one.
func (s *Service) modification(ctx context.Context, it store.ReviewItem, ent string) (*store.Request, error) {
	if it.Entitlement == "" {
		return nil, invalid("review item %d is %s's %s account itself, not an entitlement: keep or revoke it (modify narrows an entitlement)", it.ID, it.EmployeeID, it.App)
	}
	if strings.EqualFold(ent, it.Entitlement) {
		return nil, invalid("entitlement %q is the one reviewed: a modify grants a narrower entitlement instead (keep it to keep it)", ent)
	}
	known := s.entitlements(it.App)
	if len(known) > 0 {
		i := slices.IndexFunc(known, func(k string) bool { return strings.EqualFold(k, ent) })
		if i < 0 {
			return nil, invalid("entitlement %q: app %s does not know it (its requestable entitlements and roles name: %s)", ent, it.App, strings.Join(known, ", "))
		}
		ent = known[i] // as the config spells it
	}
	p, err := s.st.Person(ctx, it.Source, it.EmployeeID)
	if err != nil {
		return nil, err
	}
	if p.Status == store.StatusLeft {
		return nil, invalid("%s has left: their access goes anyway, revoke instead of modify", p.EmployeeID)
	}
	held, err := s.holdings(ctx, p)
	if err != nil {
		return nil, err
	}
	old := policy.Grant{App: it.App, Entitlement: it.Entitlement}
	held = slices.DeleteFunc(held, func(g policy.Grant) bool {
		return g.App == old.App && strings.EqualFold(g.Entitlement, old.Entitlement)
	})
	for _, g := range []policy.Grant{{App: it.App}, {App: it.App, Entitlement: ent}} {
		if slices.Contains(held, g) {
			continue
		}
		if v := s.pol.Check(g, held); v != nil {
			return nil, conflict("modify of review item %d to %s: %s would then hold %s with %s, breaking separation-of-duties rule %q",
				it.ID, ent, p.EmployeeID, g, strings.Join(v.Holds, ", "), v.Rule)
		}
		held = append(held, g)
	}
	r := &store.Request{Source: p.Source, Beneficiary: p.EmployeeID, App: it.App, Entitlement: ent, Risk: config.RiskMedium,
		State: store.RequestApproved, Chain: []string{StepReview}, Step: 1, ReviewItem: it.ID}
	if q, err := s.cfg.Requestable(it.App, ent); err == nil {
		r.Risk = cmp.Or(q.Risk, config.RiskMedium)
		r.Duration = domain.Duration(q.Max)
	}
	return r, nil
}

// entitlements are the entitlements the config names for an app: its
// requestable catalogue and its roles' grants.
func (s *Service) entitlements(appName string) []string {
	var out []string
	add := func(e string) {
		if e != "" && !slices.ContainsFunc(out, func(o string) bool { return strings.EqualFold(o, e) }) {
			out = append(out, e)
		}
	}
	if a := app(s.cfg, appName); a != nil {
		for _, q := range a.Requestable {
			add(q.Entitlement)
		}
	}
	for _, r := range s.cfg.Roles {
		for _, g := range r.Grants {
			if g.App == appName {
				for _, e := range g.Entitlements {
					add(e)
				}
			}
		}
	}
	return out
}

// holdings is what a person holds (active grant rows) and should hold
// (their roles and approved requests).
func (s *Service) holdings(ctx context.Context, p store.Person) ([]policy.Grant, error) {
	return s.pol.Holdings(ctx, s.st, p, 0, s.now())
}

// grantNarrower stores a modify's access request, approved by the
// reviewer's decision, and ties it to the item, inside tx.
func (s *Service) grantNarrower(tx store.Tx, it *store.ReviewItem, r *store.Request, who authz.Principal, at time.Time) error {
	r.Requester, r.DecidedBy = who.Person, who.Person
	r.CreatedAt, r.DecidedAt, r.StepSince = at, at, at
	r.Justification = fmt.Sprintf("access review item #%d modified %s:%s to %s: %s", it.ID, it.App, it.Entitlement, r.Entitlement, it.Reason)
	r.Approvals = []store.Approval{{Step: StepReview, By: who.Person, At: at, Note: it.Reason}}
	if r.Duration > 0 {
		r.ExpiresAt = at.Add(time.Duration(r.Duration))
	}
	// Approved and not provisioned: the plan grants it as any approved request.
	r.Provisioned = false
	if err := tx.InsertRequest(r); err != nil {
		return err
	}
	it.NewEntitlement, it.Request = r.Entitlement, r.ID
	return tx.UpdateReviewItem(*it)
}

// decide writes a decision (and a revocation) inside tx.
func (s *Service) decide(tx store.Tx, it *store.ReviewItem, decision, reason, by string, automatic bool, at time.Time) error {
	it.Decision, it.Reason, it.DecidedBy, it.DecidedAt, it.Automatic = decision, reason, by, at, automatic
	it.State = store.ItemKept
	if decision != store.DecisionRevoke && decision != store.DecisionModify {
		return tx.UpdateReviewItem(*it)
	}
	it.State = store.ItemRevoking
	if err := tx.UpdateReviewItem(*it); err != nil {
		return err
	}
	if it.Operation != 0 {
		// A mover's item: its removal is queued for the grace's end;
		// revoked, it runs now.
		if _, err := tx.ExpediteOp(it.Operation, at); err != nil {
			return err
		}
	}
	return tx.PutRevocation(&store.Revocation{Source: it.Source, EmployeeID: it.EmployeeID, App: it.App,
		Entitlement: it.Entitlement, Item: it.ID, Reason: reason, CreatedAt: at})
}

// PolicyActor decides undecided items at the close.
const PolicyActor = "tango:review-policy"

// Close ends an open campaign: every undecided item follows the
// campaign's policy (recorded as automatic), and the campaign waits for
// its revocations to be verified (Verify).
func (s *Service) Close(ctx context.Context, id int64, actor string) (store.Campaign, error) {
	at := s.now()
	var c store.Campaign
	err := s.st.InTx(ctx, func(tx store.Tx) error {
		var err error
		if c, err = tx.Campaign(id); err != nil {
			return err
		}
		if c.State != store.CampaignOpen {
			return conflict("campaign %d is already %s", c.ID, c.State)
		}
		pending, err := tx.ReviewItems(store.ReviewItemFilter{Campaign: id, State: store.ItemPending})
		if err != nil {
			return err
		}
		why := fmt.Sprintf("undecided when the campaign closed: its policy is %s", c.Policy)
		for i := range pending {
			if err := s.decide(tx, &pending[i], c.Policy, why, PolicyActor, true, at); err != nil {
				return err
			}
		}
		before := c
		c.State, c.ClosedAt = store.CampaignClosed, at
		if err := tx.UpdateCampaign(c); err != nil {
			return err
		}
		return tx.AppendAudit(audit.New(at, actor, "review.closed", "", "", fmt.Sprintf("campaign:%d", c.ID), before,
			map[string]any{"campaign": c, "undecided": len(pending), "undecided_became": c.Policy}))
	})
	return c, err
}

// CloseDue closes the open campaigns whose deadline has passed (the
// scheduler's step); it returns how many it closed.
func (s *Service) CloseDue(ctx context.Context, actor string) (int, error) {
	open, err := s.st.Campaigns(ctx, store.CampaignOpen)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, c := range open {
		if c.DueAt.After(s.opt.Now()) {
			continue
		}
		_, err := s.Close(ctx, c.ID, actor)
		switch {
		case domain.KindOf(err) == domain.KindConflict: // closed meanwhile
		case err != nil:
			return n, err
		default:
			n++
		}
	}
	return n, nil
}

// Progress is what verification found for one campaign.
type Progress struct {
	Campaign store.Campaign `json:"campaign"`
	Revoked  int            `json:"revoked"`
	Verified int            `json:"verified"`
	Waiting  int            `json:"waiting"` // on a person's task
	Pending  int            `json:"pending"` // removal queued, running or failed
}

// Verify reads back every revoked item of the closed campaigns (or of one,
// id > 0) whose removal has run: found gone, the item is verified with the
// operation and the time; a removal a person makes (a manual app's task)
// keeps the campaign waiting until the task is done. A campaign whose
// every revocation is verified is complete.
func (s *Service) Verify(ctx context.Context, r Reader, id int64, actor string) ([]Progress, error) {
	var cs []store.Campaign
	if id > 0 {
		c, err := s.st.Campaign(ctx, id)
		if err != nil {
			return nil, err
		}
		cs = []store.Campaign{c}
	} else {
		var err error
		if cs, err = s.st.Campaigns(ctx, store.CampaignClosed); err != nil {
			return nil, err
		}
	}
	var out []Progress
	for _, c := range cs {
		pr, err := s.verify(ctx, r, c, actor)
		if err != nil {
			return out, err
		}
		out = append(out, pr)
	}
	return out, nil
}

func (s *Service) verify(ctx context.Context, r Reader, c store.Campaign, actor string) (Progress, error) {
	pr := Progress{Campaign: c}
	if c.State == store.CampaignOpen {
		return pr, nil
	}
	items, err := s.st.ReviewItems(ctx, store.ReviewItemFilter{Campaign: c.ID})
	if err != nil {
		return pr, err
	}
	var changed []store.ReviewItem
	for _, it := range items {
		if !it.Removes() {
			continue
		}
		pr.Revoked++
		if it.State == store.ItemVerified {
			pr.Verified++
			continue
		}
		before := it
		if err := s.check(ctx, r, &it); err != nil {
			return pr, err
		}
		switch it.State {
		case store.ItemVerified:
			pr.Verified++
		case store.ItemWaiting:
			pr.Waiting++
		default:
			pr.Pending++
		}
		if it != before {
			changed = append(changed, it)
		}
	}
	at := s.now()
	complete := c.State == store.CampaignClosed && pr.Verified == pr.Revoked
	if len(changed) == 0 && !complete {
		return pr, nil
	}
	err = s.st.InTx(ctx, func(tx store.Tx) error {
		var ents []audit.Entry
		for _, it := range changed {
			if err := tx.UpdateReviewItem(it); err != nil {
				return err
			}
			if it.State == store.ItemVerified {
				ents = append(ents, audit.New(at, actor, "review.verified", it.Source, "", fmt.Sprintf("review-item:%d", it.ID), nil, it))
			}
		}
		if complete {
			cur, err := tx.Campaign(c.ID)
			if err != nil {
				return err
			}
			if cur.State == store.CampaignClosed {
				cur.State, cur.CompletedAt = store.CampaignComplete, at
				if err := tx.UpdateCampaign(cur); err != nil {
					return err
				}
				ents = append(ents, audit.New(at, actor, "review.complete", "", "", fmt.Sprintf("campaign:%d", c.ID), nil,
					map[string]any{"campaign": cur, "revoked": pr.Revoked, "verified": pr.Verified}))
				pr.Campaign = cur
			}
		}
		return tx.AppendAudit(ents...)
	})
	return pr, err
}

// check finds the operation that removed a revoked item's access and,
// once it is done, reads the account back.
func (s *Service) check(ctx context.Context, r Reader, it *store.ReviewItem) error {
	ops, err := s.st.Ops(ctx, store.OpFilter{App: it.App, Source: it.Source, EmployeeID: it.EmployeeID})
	if err != nil {
		return err
	}
	var op *store.Operation
	for i := range ops {
		o := &ops[i]
		// An operation that ended before the decision is not its removal;
		// one still under way then is (a mover's, waiting out its grace).
		ended := o.State == store.OpDone || o.State == store.OpFailed
		if o.Source != it.Source || (ended && o.UpdatedAt.Before(it.DecidedAt)) {
			continue
		}
		removes := (it.Entitlement == "" && o.Kind == store.OpDisable) ||
			(it.Entitlement != "" && o.Kind == store.OpRevoke && strings.EqualFold(o.Entitlement, it.Entitlement)) ||
			(it.Entitlement != "" && o.Kind == store.OpDisable)
		if removes {
			op = o // the newest one
		}
	}
	if op == nil {
		// Nothing to remove may be left (the access went another way):
		// what the app holds decides.
		return s.readBack(ctx, r, it, "no removal operation was needed", 0, true)
	}
	it.Operation = op.ID
	switch op.State {
	case store.OpWaiting:
		it.State, it.Task = store.ItemWaiting, op.TaskID
		it.Evidence = fmt.Sprintf("operation %d waits for task %d of the owning team", op.ID, op.TaskID)
		return nil
	case store.OpFailed:
		return s.handOver(ctx, r, it, op)
	case store.OpDone:
	default:
		it.Evidence = fmt.Sprintf("operation %d is %s", op.ID, op.State)
		return nil
	}
	if op.TaskID != 0 {
		it.Task = op.TaskID
	}
	done := fmt.Sprintf("operation %d done", op.ID)
	if op.TaskID != 0 {
		done += fmt.Sprintf(" by task %d", op.TaskID)
		return s.readBack(ctx, r, it, done, op.TaskID, false)
	}
	if it.Task != 0 {
		// The app could not be read back: a person confirms.
		return s.afterTask(ctx, r, it, done)
	}
	if err := s.readBack(ctx, r, it, done, 0, false); !errors.Is(err, connector.ErrNotReadable) {
		return err
	}
	return s.ask(ctx, it, fmt.Sprintf("Confirm that %s no longer has %s (access review item %d)", it.EmployeeID, what(it), it.ID),
		fmt.Sprintf("An access review revoked it (%s) and operation %d removed it, but %s cannot be read back to verify it. Complete this task once you have checked it is gone.",
			it.Reason, op.ID, it.App), done+"; "+it.App+" cannot be read back")
}

func what(it *store.ReviewItem) string {
	if it.Entitlement != "" {
		return it.App + ":" + it.Entitlement
	}
	return "an " + it.App + " account"
}

// ask hands the item to a person: a task for the app's owning team, and
// the item waits for it.
func (s *Service) ask(ctx context.Context, it *store.ReviewItem, title, detail, why string) error {
	t, err := task.Create(ctx, s.st, store.Task{Source: it.Source, Person: it.EmployeeID, Team: s.team(it.App), App: it.App,
		Kind: store.TaskHuman, Status: store.TaskOpen, CreatedAt: s.now(), Title: title, Detail: detail})
	if err != nil {
		return err
	}
	it.Task, it.State = t.ID, store.ItemWaiting
	it.Evidence = fmt.Sprintf("%s: handed to team %s as task %d", why, t.Team, t.ID)
	return nil
}

// team owns an app's manual work: apps[].owner, else it.
func (s *Service) team(appName string) string {
	if a := app(s.cfg, appName); a != nil && a.Owner != "" {
		return a.Owner
	}
	return "it"
}

// afterTask waits for the item's task; once it is done the app is read
// back (the completed task is the evidence when it cannot be).
func (s *Service) afterTask(ctx context.Context, r Reader, it *store.ReviewItem, done string) error {
	tasks, err := s.st.Tasks(ctx, store.TaskFilter{App: it.App, Person: it.EmployeeID})
	if err != nil {
		return err
	}
	i := slices.IndexFunc(tasks, func(t store.Task) bool { return t.ID == it.Task })
	if i < 0 || tasks[i].Status != store.TaskDone {
		it.State = store.ItemWaiting
		it.Evidence = fmt.Sprintf("%s; waits for task %d of team %s", done, it.Task, s.team(it.App))
		return nil
	}
	return s.readBack(ctx, r, it, fmt.Sprintf("%s; task %d done by %s", done, it.Task, tasks[i].CompletedBy), it.Task, false)
}

// handOver makes access the connector could not remove a task for the
// app's owning team (once), and the item waits for it; once the task is
// done, the app is read back as after an operation.
func (s *Service) handOver(ctx context.Context, r Reader, it *store.ReviewItem, op *store.Operation) error {
	failed := fmt.Sprintf("operation %d failed (%s)", op.ID, op.LastError)
	if it.Task == 0 {
		return s.ask(ctx, it, fmt.Sprintf("Remove %s from %s by hand (access review item %d)", what(it), it.EmployeeID, it.ID),
			fmt.Sprintf("An access review revoked it (%s), and %s. Complete this task once it is gone.", it.Reason, failed), failed)
	}
	return s.afterTask(ctx, r, it, failed)
}

// readBack reads the item's account back from its app after done (what
// removed it: an operation, a task) and verifies the item when the
// access is gone. byTask is the task of a person who removed it (their
// completion is the evidence when the app cannot be read back);
// unplanned: no removal was found, so access still shown waits for one.
func (s *Service) readBack(ctx context.Context, r Reader, it *store.ReviewItem, done string, byTask int64, unplanned bool) error {
	p, err := s.st.Person(ctx, it.Source, it.EmployeeID)
	if err != nil {
		return err
	}
	acc, found, err := r.ReadBack(ctx, it.App, p)
	at := s.now()
	switch {
	case errors.Is(err, connector.ErrNotReadable) && unplanned:
		it.Evidence = "removal not planned yet: it is queued at the next provisioning pass"
		return nil
	case errors.Is(err, connector.ErrNotReadable) && byTask == 0:
		return err // the caller asks a person
	case errors.Is(err, connector.ErrNotReadable):
		// A person removed it (a manual app): their completed task is the
		// evidence; the app cannot be read back.
		it.State, it.VerifiedAt = store.ItemVerified, at
		it.Evidence = fmt.Sprintf("%s; %s cannot be read back: the completed task is the evidence", done, it.App)
		return nil
	case err != nil:
		it.Evidence = fmt.Sprintf("%s; reading %s back failed: %v", done, it.App, err)
		return nil
	}
	gone := !found || (it.Entitlement == "" && acc.Disabled) ||
		(it.Entitlement != "" && !slices.ContainsFunc(acc.Entitlements, func(e string) bool { return strings.EqualFold(e, it.Entitlement) }))
	if !gone && unplanned {
		it.Evidence = "removal not planned yet: it is queued at the next provisioning pass"
		return nil
	}
	if !gone {
		it.Evidence = fmt.Sprintf("%s, but %s still shows the access when read back", done, it.App)
		return nil
	}
	it.State, it.VerifiedAt = store.ItemVerified, at
	what := "the account is disabled"
	switch {
	case !found:
		what = "the account is gone"
	case it.Entitlement != "":
		what = "the account no longer holds " + it.Entitlement
	}
	it.Evidence = fmt.Sprintf("%s; read back from %s at %s: %s", done, it.App, at.Format(time.RFC3339), what)
	return nil
}

// Campaign reads a campaign.
func (s *Service) Campaign(ctx context.Context, id int64) (store.Campaign, error) {
	return s.st.Campaign(ctx, id)
}
