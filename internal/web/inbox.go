package web

import (
	"net/http"
	"slices"
	"time"

	"github.com/tango-iga/tango/internal/authz"
	"github.com/tango-iga/tango/internal/store"
)

// taskRow is a task as a list shows it.
type taskRow struct {
	store.CaseTask
	Overdue bool
	Why     string // why it is in my inbox: mine, my team's, escalated to me
}

type inboxData struct {
	Tasks         []taskRow // this page of them
	TaskCount     int       // all of them
	Pager         pager
	Approvals     []requestRow // this page of them
	ApprovalCount int          // all of them
	APager        pager
	Reviews       []reviewWait // access-review items waiting for my decision, by campaign
	Now           time.Time
}

type requestRow struct {
	store.Request
	Overdue bool
}

// inbox is what waits for the caller: their open tasks (assigned to them,
// as a manager too; escalated to them; their teams' and the teams they
// lead), and the access requests waiting for
// their approval, overdue first, then by due date.
func (p *Pages) inbox(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	me := authz.From(ctx)
	now := p.o.Now()
	n, err := pageParam(r)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	an, err := pageParamNamed(r, "apage")
	if err != nil {
		p.fail(w, r, err)
		return
	}
	var d inboxData
	d.Now = now
	seen := map[int64]bool{}
	add := func(f store.CaseTaskFilter, why string) error {
		f.Status = store.TaskOpen
		f.Limit = 500
		ts, err := p.o.Store.CaseTasks(ctx, f)
		if err != nil {
			return err
		}
		for _, t := range ts {
			if seen[t.ID] || (me.Person != "" && t.Person == me.Person) {
				continue // nobody acts on a task about themself
			}
			seen[t.ID] = true
			d.Tasks = append(d.Tasks, taskRow{CaseTask: t, Why: why, Overdue: !t.Due.IsZero() && t.Due.Before(now)})
		}
		return nil
	}
	if me.Person != "" {
		if err := add(store.CaseTaskFilter{Assignee: me.Person}, "assigned to you"); err != nil {
			p.fail(w, r, err)
			return
		}
		if err := add(store.CaseTaskFilter{EscalatedTo: me.Person}, "escalated to you"); err != nil {
			p.fail(w, r, err)
			return
		}
	}
	teams := slices.Clone(me.Teams)
	for _, t := range me.Leads {
		if !slices.Contains(teams, t) {
			teams = append(teams, t)
		}
	}
	for _, team := range teams {
		if team == "manager" {
			continue
		}
		if err := add(store.CaseTaskFilter{Team: team}, "team "+team); err != nil {
			p.fail(w, r, err)
			return
		}
	}
	sortTasks(d.Tasks)
	d.TaskCount = len(d.Tasks)
	d.Tasks, d.Pager = cut(r, d.Tasks, n)
	if me.Person != "" && p.o.Requests != nil {
		pending, err := p.o.Store.Requests(ctx, store.RequestFilter{State: store.RequestPending})
		if err == nil {
			pending, err = p.o.Requests.AwaitingApprover(ctx, pending, me.Person)
		}
		if err != nil {
			p.fail(w, r, err)
			return
		}
		for _, rq := range pending {
			d.Approvals = append(d.Approvals, requestRow{Request: rq, Overdue: !rq.Due.IsZero() && rq.Due.Before(now)})
		}
		slices.SortStableFunc(d.Approvals, func(a, b requestRow) int { return dueOrder(a.Overdue, b.Overdue, a.Due, b.Due) })
		d.ApprovalCount = len(d.Approvals)
		d.Approvals, d.APager = cutNamed(r, d.Approvals, an, "apage", "approvals")
	}
	reviews, err := p.pendingReviews(ctx, me)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	d.Reviews = reviews
	p.render(w, r, http.StatusOK, "inbox", "Inbox", d)
}

// sortTasks puts overdue tasks first, then by due date (none last).
func sortTasks(ts []taskRow) {
	slices.SortStableFunc(ts, func(a, b taskRow) int { return dueOrder(a.Overdue, b.Overdue, a.Due, b.Due) })
}

func dueOrder(aOver, bOver bool, a, b time.Time) int {
	switch {
	case aOver != bOver:
		if aOver {
			return -1
		}
		return 1
	case a.IsZero() != b.IsZero():
		if a.IsZero() {
			return 1
		}
		return -1
	}
	return a.Compare(b)
}
