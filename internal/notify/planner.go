package notify

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/tango-iga/tango/internal/config"
	"github.com/tango-iga/tango/internal/store"
)

// Planner composes the messages of workflow happenings and resolves who
// gets them: a team's e-mail addresses and chat webhook from the config,
// a person's (a manager's) e-mail from the HR data. It sends nothing: the
// workflow writes what it returns to the outbox with what causes it.
type Planner struct {
	st   Directory
	cfg  config.Notifications
	loc  *time.Location
	base string // server.base_url: links to the workspace
}

// NewPlanner returns a planner, or nil when no channel is configured.
func NewPlanner(st Directory, cfg *config.Config) *Planner {
	if cfg == nil || !cfg.Notifications.Enabled() {
		return nil
	}
	return &Planner{st: st, cfg: cfg.Notifications, loc: cfg.Location(), base: strings.TrimRight(cfg.Server.BaseURL, "/")}
}

// Reminder is how long before a deadline owners are reminded; 0: never.
func (p *Planner) Reminder() time.Duration { return p.cfg.Reminder() }

// Owner is who a message goes to.
type Owner struct {
	Team   string // a team: its e-mail and webhook
	Person string // an employee ID: their e-mail (takes precedence over Team)
	Source string // the person's HR source
	Lead   bool   // the team's lead (notifications.teams.T.lead; the team itself when none)
}

func (o Owner) label() string {
	switch {
	case o.Person != "":
		return "person:" + o.Person
	case o.Lead:
		return "lead:" + o.Team
	}
	return "team:" + o.Team
}

// OwnerOf is who owns a task: its assignee (a manager) or its team.
func OwnerOf(t store.CaseTask) Owner {
	return Owner{Team: t.Team, Person: t.Assignee, Source: t.Source}
}

// resolve turns an owner into one notification per e-mail address and
// chat webhook, with subject and body.
func (p *Planner) resolve(ctx context.Context, o Owner, kind, subject, body string) ([]store.Notification, error) {
	base := store.Notification{Kind: kind, Recipient: o.label(), Subject: subject, Body: body}
	var out []store.Notification
	email := func(addrs ...string) {
		if p.cfg.SMTP.Host == "" {
			return
		}
		for _, a := range addrs {
			n := base
			n.Channel, n.Address = store.ChannelEmail, a
			out = append(out, n)
		}
	}
	if o.Person != "" {
		per, err := p.st.Person(ctx, o.Source, o.Person)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
		if per.Email != "" {
			email(per.Email)
		}
		return out, nil
	}
	tc := p.cfg.Teams[o.Team]
	if o.Lead && len(tc.Lead) > 0 {
		email(tc.Lead...)
		if tc.Webhook != "" { // the team's channel hears of the escalation too
			n := base
			n.Channel, n.Address = store.ChannelWebhook, webhookKey(o.Team)
			out = append(out, n)
		}
		return out, nil
	}
	email(tc.Email...)
	if tc.Webhook != "" {
		n := base
		n.Channel, n.Address = store.ChannelWebhook, webhookKey(o.Team)
		out = append(out, n)
	}
	return out, nil
}

func (p *Planner) when(t time.Time) string {
	if t.IsZero() {
		return "no deadline"
	}
	return t.In(p.loc).Format("Mon 2 Jan 2006 15:04 MST")
}

var caseWords = map[string]string{
	store.CaseJoiner: "joins", store.CaseMover: "moves", store.CaseLeaver: "leaves", store.CaseLeaverUrgent: "leaves (for cause, urgent)",
}

func who(per *store.Person, id string) string {
	if per != nil && per.DisplayName != "" {
		return fmt.Sprintf("%s (%s)", per.DisplayName, id)
	}
	return id
}

// Opened composes the messages of a case being opened: for each owner of
// its human tasks one message listing them (task.assigned), and for each
// notify step the message it stands for (case.notify, tied to the step).
// per is the person the case is about.
func (p *Planner) Opened(ctx context.Context, c store.Case, per *store.Person, tasks []store.CaseTask) ([]store.Notification, error) {
	subjectOf := who(per, c.Person)
	effective := c.Effective.In(p.loc).Format("2 Jan 2006")
	var out []store.Notification
	groups := map[Owner][]store.CaseTask{}
	var order []Owner
	for _, t := range tasks {
		t.Source = c.Source
		switch {
		case t.Action == "notify":
			body := fmt.Sprintf("%s %s on %s.\n\n%s\n", subjectOf, caseWords[c.Kind], effective, t.Title)
			if t.Detail != "" {
				body += t.Detail + "\n"
			}
			body += fmt.Sprintf("\nTheir tasks: tango tasks list --person %s, or GET /api/v1/tasks?person=%s\n", c.Person, c.Person)
			ns, err := p.resolve(ctx, OwnerOf(t), store.NotifyStep, "[Tango] "+strings.TrimSpace(fmt.Sprintf("%s %s", subjectOf, caseWords[c.Kind])), body)
			if err != nil {
				return nil, err
			}
			for i := range ns {
				ns[i].Step = t.Step
			}
			out = append(out, ns...)
		case t.Kind == store.TaskHuman:
			o := OwnerOf(t)
			if _, ok := groups[o]; !ok {
				order = append(order, o)
			}
			groups[o] = append(groups[o], t)
		}
	}
	for _, o := range order {
		ts := groups[o]
		sort.SliceStable(ts, func(i, j int) bool { // soonest first, no deadline last
			return !ts[i].Due.IsZero() && (ts[j].Due.IsZero() || ts[i].Due.Before(ts[j].Due))
		})
		var b strings.Builder
		fmt.Fprintf(&b, "%s %s on %s. A %s case was opened with %d task(s) for %s:\n\n", subjectOf, caseWords[c.Kind], effective, c.Kind, len(ts), o.label())
		for _, t := range ts {
			fmt.Fprintf(&b, "- %s\n  due: %s; evidence to close it: %s\n", t.Title, p.when(t.Due), t.EvidenceKind)
			if t.Detail != "" {
				fmt.Fprintf(&b, "  %s\n", t.Detail)
			}
		}
		fmt.Fprintf(&b, "\nSee them with: tango tasks list --person %s (or GET /api/v1/tasks?person=%s&status=open),\n", c.Person, c.Person)
		b.WriteString("and close each with: tango tasks complete TASK_ID --evidence TEXT\n")
		subject := fmt.Sprintf("[Tango] %d new task(s): %s %s", len(ts), subjectOf, caseWords[c.Kind])
		ns, err := p.resolve(ctx, o, store.NotifyAssigned, subject, b.String())
		if err != nil {
			return nil, err
		}
		out = append(out, ns...)
	}
	return out, nil
}

func (p *Planner) taskBody(t store.CaseTask, intro string) string {
	var b strings.Builder
	b.WriteString(intro + "\n\n")
	id := store.TaskIDPlaceholder // a new task: the store fills in its ID
	if t.ID != 0 {
		id = strconv.FormatInt(t.ID, 10)
	}
	fmt.Fprintf(&b, "Task %s: %s\nAbout: %s\nOwner: %s\nDue: %s\n", id, t.Title, t.Person, OwnerOf(t).label(), p.when(t.Due))
	if t.Detail != "" {
		fmt.Fprintf(&b, "Detail: %s\n", t.Detail)
	}
	if t.Kind == store.TaskHuman {
		fmt.Fprintf(&b, "\nClose it with: tango tasks complete %s --evidence TEXT (evidence: %s)\n", id, cmp.Or(t.EvidenceKind, "text"))
	}
	return b.String()
}

// Reminded composes the reminder of a task's near deadline to its owner.
func (p *Planner) Reminded(ctx context.Context, t store.CaseTask, now time.Time) ([]store.Notification, error) {
	left := t.Due.Sub(now).Round(time.Minute)
	subject := fmt.Sprintf("[Tango] Due in %s: %s", left, t.Title)
	return p.resolve(ctx, OwnerOf(t), store.NotifyReminder, subject, p.taskBody(t, fmt.Sprintf("This task is due in %s.", left)))
}

// Escalated composes the message of an overdue task to whom it was
// escalated.
func (p *Planner) Escalated(ctx context.Context, t store.CaseTask, to Owner, now time.Time) ([]store.Notification, error) {
	late := now.Sub(t.Due).Round(time.Minute)
	subject := fmt.Sprintf("[Tango] Overdue by %s, escalated to you: %s", late, t.Title)
	intro := fmt.Sprintf("This task of %s is overdue by %s and was escalated to %s.", OwnerOf(t).label(), late, to.label())
	return p.resolve(ctx, to, store.NotifyEscalated, subject, p.taskBody(t, intro))
}

// rid names a request in a message; a request not stored yet (ID 0) is
// named by store.RequestIDPlaceholder, which the store replaces.
func rid(r store.Request) string {
	if r.ID == 0 {
		return store.RequestIDPlaceholder
	}
	return strconv.FormatInt(r.ID, 10)
}

// requestBody describes an access request and how to decide it.
func (p *Planner) requestBody(r store.Request, intro string) string {
	var b strings.Builder
	b.WriteString(intro + "\n\n")
	fmt.Fprintf(&b, "Request %s: %s:%s for %s, asked by %s\nRisk: %s\nJustification: %s\n", rid(r), r.App, r.Entitlement,
		r.Beneficiary, r.Requester, r.Risk, r.Justification)
	if r.Duration > 0 {
		fmt.Fprintf(&b, "Duration: %s\n", r.Duration)
	}
	if step := r.NextStep(); step != "" {
		fmt.Fprintf(&b, "Waiting for: the %s approval (step %d of %d), due %s\n", step, r.Step+1, len(r.Chain), p.when(r.Due))
		fmt.Fprintf(&b, "\nDecide with: tango requests approve %s --as YOUR_ID (or reject), or POST /api/v1/requests/%s/approve\n", rid(r), rid(r))
	}
	return b.String()
}

func (p *Planner) toPersons(ctx context.Context, source string, ids []string, kind, subject, body string) ([]store.Notification, error) {
	var out []store.Notification
	seen := map[string]bool{}
	for _, id := range ids {
		if id == "" || seen[id] {
			continue
		}
		seen[id] = true
		ns, err := p.resolve(ctx, Owner{Person: id, Source: source}, kind, subject, body)
		if err != nil {
			return nil, err
		}
		out = append(out, ns...)
	}
	return out, nil
}

// RequestPending composes the message to the approvers of a request's
// current step: it was just made, or its previous step approved.
func (p *Planner) RequestPending(ctx context.Context, r store.Request, approvers []string) ([]store.Notification, error) {
	subject := fmt.Sprintf("[Tango] Approval needed: %s:%s for %s (request %s)", r.App, r.Entitlement, r.Beneficiary, rid(r))
	intro := fmt.Sprintf("Access request %s waits for your %s approval.", rid(r), r.NextStep())
	return p.toPersons(ctx, r.Source, approvers, store.NotifyRequestPending, subject, p.requestBody(r, intro))
}

// RequestReminded composes the reminder of a step's near deadline to its
// approvers.
func (p *Planner) RequestReminded(ctx context.Context, r store.Request, approvers []string, now time.Time) ([]store.Notification, error) {
	left := r.Due.Sub(now).Round(time.Minute)
	subject := fmt.Sprintf("[Tango] Approval due in %s: %s:%s for %s (request %s)", left, r.App, r.Entitlement, r.Beneficiary, rid(r))
	intro := fmt.Sprintf("Your %s approval of access request %s is due in %s.", r.NextStep(), rid(r), left)
	return p.toPersons(ctx, r.Source, approvers, store.NotifyRequestReminder, subject, p.requestBody(r, intro))
}

// RequestEscalated composes the message of an overdue step to the person
// it was escalated to (who may now approve it); a Security step's
// escalation is told to Security's lead too (notifications.teams.security).
func (p *Planner) RequestEscalated(ctx context.Context, r store.Request, approvers []string, to string, now time.Time) ([]store.Notification, error) {
	late := now.Sub(r.Due).Round(time.Minute)
	subject := fmt.Sprintf("[Tango] Approval overdue by %s, escalated to you: %s:%s for %s (request %s)", late, r.App, r.Entitlement, r.Beneficiary, rid(r))
	intro := fmt.Sprintf("The %s approval of access request %s, waiting for %s, is overdue by %s and was escalated to %s, who may now approve or reject it.",
		r.NextStep(), rid(r), strings.Join(approvers, " or "), late, to)
	body := p.requestBody(r, intro)
	out, err := p.toPersons(ctx, r.Source, []string{to}, store.NotifyRequestEscalated, subject, body)
	if err != nil {
		return nil, err
	}
	if r.NextStep() == store.StepSecurity {
		ns, err := p.resolve(ctx, Owner{Team: "security", Lead: true}, store.NotifyRequestEscalated, subject, body)
		if err != nil {
			return nil, err
		}
		out = append(out, ns...)
	}
	return out, nil
}

// RequestDecided composes the message of a request approved or rejected
// to its requester and its beneficiary.
func (p *Planner) RequestDecided(ctx context.Context, r store.Request) ([]store.Notification, error) {
	var subject, intro string
	switch r.State {
	case store.RequestApproved:
		subject = fmt.Sprintf("[Tango] Approved: %s:%s for %s (request %s)", r.App, r.Entitlement, r.Beneficiary, rid(r))
		intro = fmt.Sprintf("Access request %s was approved by %s; the access is being provisioned.", rid(r), r.DecidedBy)
		if !r.ExpiresAt.IsZero() {
			intro += fmt.Sprintf(" It ends %s.", p.when(r.ExpiresAt))
		}
	case store.RequestRejected:
		subject = fmt.Sprintf("[Tango] Rejected: %s:%s for %s (request %s)", r.App, r.Entitlement, r.Beneficiary, rid(r))
		intro = fmt.Sprintf("Access request %s was rejected by %s: %s", rid(r), r.DecidedBy, r.Reason)
	default:
		return nil, nil
	}
	return p.toPersons(ctx, r.Source, []string{r.Requester, r.Beneficiary}, store.NotifyRequestDecided, subject, p.requestBody(r, intro))
}

// Reassigned composes the message to a task's new owner: it was given to
// them (tango tasks reassign), or a manual connector made it for them.
func (p *Planner) Reassigned(ctx context.Context, t store.CaseTask, intro string) ([]store.Notification, error) {
	subject := fmt.Sprintf("[Tango] Task for %s: %s", OwnerOf(t).label(), t.Title)
	return p.resolve(ctx, OwnerOf(t), store.NotifyReassigned, subject, p.taskBody(t, intro))
}

// ManualTask composes the message telling a manual app's team of a task
// its connector made (an account to create, change or disable by hand).
func (p *Planner) ManualTask(ctx context.Context, t store.Task) ([]store.Notification, error) {
	ct := t
	subject := fmt.Sprintf("[Tango] Task for %s: %s", OwnerOf(ct).label(), t.Title)
	intro := fmt.Sprintf("The %s app is managed by hand: this change waits for your team.", t.App)
	return p.resolve(ctx, OwnerOf(ct), store.NotifyAssigned, subject, p.taskBody(ct, intro))
}

// ReviewLink is the workspace page of a campaign's items waiting for the
// reader: absolute under server.base_url when configured.
func (p *Planner) ReviewLink(campaign int64) string {
	return fmt.Sprintf("%s/reviews/%d?mine=1&state=pending", p.base, campaign)
}

func campaignName(c store.Campaign) string {
	what := c.Kind
	for _, s := range []string{c.App, c.Entitlement} {
		if s != "" {
			what += " " + s
		}
	}
	return fmt.Sprintf("campaign %d (%s)", c.ID, what)
}

func (p *Planner) reviewBody(c store.Campaign, intro string) string {
	var b strings.Builder
	b.WriteString(intro + "\n\n")
	fmt.Fprintf(&b, "Decide them in the workspace: %s\n", p.ReviewLink(c.ID))
	fmt.Fprintf(&b, "or with: tango reviews decide ITEM --decision keep|revoke --as YOUR_ID (tango reviews items %d --state pending lists them)\n", c.ID)
	fmt.Fprintf(&b, "Undecided items become %s when the campaign closes, %s.\n", c.Policy, p.when(c.DueAt))
	return b.String()
}

// ReviewReminded composes the one reminder of a campaign to a reviewer
// (a person, or a team: its e-mail and chat webhook) of the n items
// still waiting for their decision.
func (p *Planner) ReviewReminded(ctx context.Context, c store.Campaign, to Owner, n int, now time.Time) ([]store.Notification, error) {
	left := c.DueAt.Sub(now).Round(time.Minute)
	subject := fmt.Sprintf("[Tango] %d access-review item(s) waiting for your decision in campaign %d, due in %s", n, c.ID, left)
	intro := fmt.Sprintf("%d access-review item(s) waiting for your decision in %s, due %s.", n, campaignName(c), p.when(c.DueAt))
	return p.resolve(ctx, to, store.NotifyReviewReminder, subject, p.reviewBody(c, intro))
}

// ReviewEscalated composes the message to the person n pending items of
// a campaign were escalated to (their reviewers' manager), who may now
// decide them.
func (p *Planner) ReviewEscalated(ctx context.Context, c store.Campaign, source, to string, reviewers []string, n int, now time.Time) ([]store.Notification, error) {
	left := c.DueAt.Sub(now).Round(time.Minute)
	subject := fmt.Sprintf("[Tango] %d access-review item(s) escalated to you in campaign %d, due in %s", n, c.ID, left)
	intro := fmt.Sprintf("%d access-review item(s) of %s, still undecided by %s, were escalated to you (%s), who may now decide them; due %s.",
		n, campaignName(c), strings.Join(reviewers, ", "), to, p.when(c.DueAt))
	return p.toPersons(ctx, source, []string{to}, store.NotifyReviewEscalated, subject, p.reviewBody(c, intro))
}
