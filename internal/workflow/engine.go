package workflow

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/google/cel-go/cel"

	"github.com/tango-iga/tango/internal/config"
	"github.com/tango-iga/tango/internal/notify"
	"github.com/tango-iga/tango/internal/policy"
	"github.com/tango-iga/tango/internal/runner"
	"github.com/tango-iga/tango/internal/store"
	"github.com/tango-iga/tango/internal/task"
)

// Actor is who the engine's audit entries name.
const Actor = "workflow"

// Options tune the engine.
type Options struct {
	Now  func() time.Time // the clock; required
	Poll time.Duration    // idle wait between passes; default 1 s
	Log  *slog.Logger     // required
	HTTP *http.Client     // for webhook steps; default a client with a 10 s timeout
	// RevokesSessions reports whether an app's connector can end sessions
	// and tokens (provision.Engine.RevokesSessions); it names, in the
	// revoke_sessions step's evidence, the apps that offer no revocation.
	// Nil: every app without a revoke_sessions operation counts as one.
	RevokesSessions func(app string) bool
}

// Engine opens cases for lifecycle events, completes their automated
// steps and escalates overdue tasks.
type Engine struct {
	st     Store
	cfg    *config.Config
	pb     *Config
	books  map[string]*compiled
	urgent cel.Program
	apps   map[string]config.App
	opt    Options
	// notes composes notifications; nil when none is configured.
	notes *notify.Planner

	mu         sync.Mutex
	assets     []Asset
	assetsMod  time.Time
	initialImp map[string]bool
}

// New checks the playbooks of cfg (the defaults when it has none) and
// makes an engine.
func New(st Store, cfg *config.Config, opt Options) (*Engine, error) {
	if opt.Log == nil {
		return nil, errors.New("workflow.New: Options.Log is nil")
	}
	if opt.Now == nil {
		return nil, errors.New("workflow.New: Options.Now is nil")
	}
	pb, err := Parse(cfg)
	if err != nil {
		return nil, err
	}
	books, urgent, err := pb.compile()
	if err != nil {
		return nil, err
	}
	if opt.Poll <= 0 {
		opt.Poll = time.Second
	}
	if opt.HTTP == nil {
		opt.HTTP = &http.Client{Timeout: 10 * time.Second}
	}
	e := &Engine{st: st, cfg: cfg, pb: pb, books: books, urgent: urgent, apps: map[string]config.App{}, opt: opt, initialImp: map[string]bool{},
		notes: notify.NewPlanner(st, cfg)}
	if cfg != nil {
		for _, a := range cfg.Apps {
			e.apps[a.Name] = a
		}
	}
	if pb.Assets.File != "" {
		if _, err := e.loadAssets(); err != nil {
			return nil, err
		}
	}
	return e, nil
}

// Playbooks returns the playbooks in use.
func (e *Engine) Playbooks() *Config { return e.pb }

// Job is the engine's background work for the runner: each pass opens
// cases, completes automated steps, reminds owners of near deadlines and
// escalates overdue tasks.
func (e *Engine) Job() runner.Job {
	return runner.Job{Name: "workflow", RunOnce: e.RunOnce, Poll: e.opt.Poll, MaxBackoff: 30 * time.Second}
}

// RunOnce makes one pass; it returns how many things changed.
func (e *Engine) RunOnce(ctx context.Context) (int, error) {
	var errs []error
	opened, err := e.OpenCases(ctx)
	errs = append(errs, err)
	auto, err := e.AdvanceAuto(ctx)
	errs = append(errs, err)
	rem, err := e.Remind(ctx, e.opt.Now())
	errs = append(errs, err)
	esc, err := e.Escalate(ctx, e.opt.Now())
	errs = append(errs, err)
	cancelled, err := CloseCancelledCases(ctx, e.st, Actor, e.opt.Now())
	errs = append(errs, err)
	return opened + auto + rem + esc + len(cancelled), errors.Join(errs...)
}

func (e *Engine) loadAssets() ([]Asset, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	path := e.pb.Assets.File
	if path == "" {
		return nil, nil
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("playbooks.assets.file: %w", err)
	}
	if !fi.ModTime().Equal(e.assetsMod) || e.assets == nil {
		as, err := LoadAssets(path)
		if err != nil {
			return nil, err
		}
		e.assets, e.assetsMod = as, fi.ModTime()
	}
	return e.assets, nil
}

// kindOf is the case kind an event opens, or "" for none. Events of a
// source's first import (the initial load) open no case: those people were
// already there.
func (e *Engine) kindOf(ctx context.Context, ev store.Event) (string, error) {
	var kind string
	switch ev.Type {
	case store.EventJoiner, store.EventRehire:
		kind = store.CaseJoiner
	case store.EventMover:
		kind = store.CaseMover
	case store.EventLeaver:
		kind = store.CaseLeaver
	default:
		return "", nil
	}
	if ev.ImportID != "" {
		initial, ok := e.initialImp[ev.ImportID]
		if !ok {
			imp, err := e.st.Import(ctx, ev.ImportID)
			switch {
			case errors.Is(err, store.ErrNotFound):
			case err != nil:
				return "", err
			default:
				initial = imp.BaseSerial == 0
			}
			e.initialImp[ev.ImportID] = initial
		}
		if initial {
			return "", nil
		}
	}
	if kind == store.CaseLeaver && ev.After != nil {
		ok, err := eval(e.urgent, policy.Input{Person: ev.After}, ev.Effective)
		if err != nil {
			e.opt.Log.Warn("workflow: urgent condition", "person", ev.EmployeeID, "err", err)
		}
		if ok {
			kind = store.CaseLeaverUrgent
		}
	}
	return kind, nil
}

func eval(p cel.Program, in policy.Input, now time.Time) (bool, error) {
	if p == nil {
		return true, nil
	}
	out, _, err := p.Eval(map[string]any{"person": policy.Activation(in, now)})
	if err != nil {
		return false, err
	}
	b, ok := out.Value().(bool)
	return ok && b, nil
}

// OpenCases opens one case per pending lifecycle event.
func (e *Engine) OpenCases(ctx context.Context) (int, error) {
	opened := 0
	for {
		evs, err := e.st.PendingCaseEvents(ctx, 200)
		if err != nil || len(evs) == 0 {
			return opened, err
		}
		var skip []int64
		for _, ev := range evs {
			kind, err := e.kindOf(ctx, ev)
			if err != nil {
				return opened, err
			}
			if kind == "" || ev.After == nil {
				skip = append(skip, ev.ID)
				continue
			}
			c, tasks, err := e.Plan(ctx, kind, ev)
			if err != nil {
				return opened, fmt.Errorf("workflow: event %d (%s of %s): %w", ev.ID, ev.Type, ev.EmployeeID, err)
			}
			var notes []store.Notification
			if e.notes != nil {
				// Told in the case's own transaction: the owners of its
				// tasks, and whom its notify steps name.
				if notes, err = e.notes.Opened(ctx, c, ev.After, tasks); err != nil {
					return opened, fmt.Errorf("workflow: notifications of event %d (%s of %s): %w", ev.ID, ev.Type, ev.EmployeeID, err)
				}
			}
			if _, _, err := OpenCase(ctx, e.st, c, tasks, Actor, notes...); errors.Is(err, store.ErrConflict) {
				continue // another process opened it
			} else if err != nil {
				return opened, err
			}
			opened++
		}
		if err := e.st.SkipCaseEvents(ctx, skip); err != nil {
			return opened, err
		}
	}
}

// Plan builds the case and tasks a playbook makes for an event.
func (e *Engine) Plan(ctx context.Context, kind string, ev store.Event) (store.Case, []store.CaseTask, error) {
	now := e.opt.Now().UTC().Truncate(time.Microsecond)
	p := ev.After
	c := store.Case{Kind: kind, Source: ev.Source, Person: ev.EmployeeID, EventID: ev.ID, Effective: ev.Effective, OpenedAt: now}
	var mgr *store.Person
	if p.ManagerID != "" {
		if m, err := e.st.Person(ctx, p.Source, p.ManagerID); err == nil {
			mgr = &m
		} else if !errors.Is(err, store.ErrNotFound) {
			return c, nil, err
		}
	}
	in := policy.Input{Person: p, Manager: mgr}
	var apps []string
	var assets []Asset
	cTasks := []store.CaseTask{}
	book := e.books[kind]
	for i, s := range book.steps {
		ok, err := eval(book.when[i], in, ev.Effective)
		if err != nil {
			e.opt.Log.Warn("workflow: condition failed; step left out", "kind", kind, "step", s.Name, "person", p.EmployeeID, "err", err)
		}
		if !ok {
			continue
		}
		base := store.CaseTask{Team: s.Team, Detail: s.Detail, Kind: store.TaskHuman, Status: store.TaskOpen, CreatedAt: now,
			Step: s.Name, Action: s.Action, DependsOn: s.After, EvidenceKind: s.Evidence}
		if s.Action != "" {
			base.Kind, base.EvidenceKind = store.TaskAuto, ""
		} else if base.EvidenceKind == "" {
			base.EvidenceKind = store.EvidenceText
		}
		if book.hasDue[i] {
			base.Due = ev.Effective.Add(book.due[i])
			if base.Due.Before(now) {
				base.Due = now
			}
		}
		if s.Team == TeamManager {
			base.Team = TeamManager
			base.Assignee = p.ManagerID
			if p.ManagerID == "" {
				base.Team, base.Detail = "hr", strings.TrimSpace(base.Detail+" (no manager on record: HR takes it)")
			}
		}
		title := func(app, asset string) string {
			return strings.NewReplacer("{name}", p.DisplayName, "{id}", p.EmployeeID, "{app}", app, "{asset}", asset).Replace(s.Title)
		}
		switch s.ForEach {
		case "app":
			if apps == nil {
				if apps, err = e.appsOf(ctx, p); err != nil {
					return c, nil, err
				}
			}
			for _, app := range apps {
				t := base
				t.App, t.Title = app, title(app, "")
				if s.Team == TeamAppOwner {
					t.Team = e.owner(app)
				}
				if r, ok := e.apps[app].Settings["retention"]; ok && s.Name == "data-retention" {
					t.Detail = strings.TrimSpace(fmt.Sprintf("retention rule: %v. %s", r, t.Detail))
				}
				cTasks = append(cTasks, t)
			}
		case "asset":
			if assets == nil {
				all, err := e.loadAssets()
				if err != nil {
					return c, nil, err
				}
				assets = []Asset{}
				for _, a := range all {
					if a.AssignedTo == p.EmployeeID {
						assets = append(assets, a)
					}
				}
			}
			for _, a := range assets {
				t := base
				t.Title = title("", a.String())
				t.Detail = strings.TrimSpace(fmt.Sprintf("asset tag %s, type %s, serial %s. %s", a.Tag, a.Type, a.Serial, t.Detail))
				cTasks = append(cTasks, t)
			}
		default:
			t := base
			t.Title = title("", "")
			if s.Team == TeamAppOwner {
				t.Team = "it"
			}
			cTasks = append(cTasks, t)
		}
	}
	return c, cTasks, nil
}

// appsOf lists the apps the person has or had an account or entitlement in.
func (e *Engine) appsOf(ctx context.Context, p *store.Person) ([]string, error) {
	grants, err := e.st.PersonGrants(ctx, p.Source, p.EmployeeID)
	if err != nil {
		return nil, err
	}
	apps := []string{}
	for _, g := range grants {
		if !slices.Contains(apps, g.App) {
			apps = append(apps, g.App)
		}
	}
	sort.Strings(apps)
	return apps, nil
}

// owner is the team owning an app: its configured owner, else "it".
func (e *Engine) owner(app string) string {
	if o := e.apps[app].Owner; o != "" {
		return o
	}
	return "it"
}

// AdvanceAuto completes the automated tasks whose work is done.
func (e *Engine) AdvanceAuto(ctx context.Context) (int, error) {
	ts, err := e.st.CaseTasks(ctx, store.CaseTaskFilter{Kind: store.TaskAuto, Status: store.TaskOpen})
	if err != nil {
		return 0, err
	}
	if len(ts) == 0 {
		return 0, nil
	}
	cases := map[int64]store.Case{}
	var evIDs []int64
	for _, t := range ts {
		if _, ok := cases[t.Case]; ok || t.Case == 0 {
			continue
		}
		c, err := e.st.Case(ctx, t.Case)
		if err != nil {
			return 0, err
		}
		cases[t.Case] = c
		if c.EventID > 0 {
			evIDs = append(evIDs, c.EventID)
		}
	}
	progress, err := e.st.EventProgress(ctx, evIDs)
	if err != nil {
		return 0, err
	}
	grants := map[string]map[string][]store.GrantRow{} // source → person → grants
	grantsOf := func(source, id string) ([]store.GrantRow, error) {
		if grants[source] == nil {
			rows, err := e.st.Grants(ctx, source)
			if err != nil {
				return nil, err
			}
			m := map[string][]store.GrantRow{}
			for _, g := range rows {
				m[g.EmployeeID] = append(m[g.EmployeeID], g)
			}
			grants[source] = m
		}
		return grants[source][id], nil
	}
	done := 0
	for _, t := range ts {
		if t.Blocked || t.Case == 0 {
			continue
		}
		c := cases[t.Case]
		evidence, ok, err := e.autoDone(ctx, t, c, progress[c.EventID], grantsOf)
		if err != nil {
			e.opt.Log.Warn("workflow: automated step", "task", t.ID, "step", t.Step, "err", err)
			continue
		}
		if !ok {
			continue
		}
		if _, err := task.Complete(ctx, e.st, t.ID, evidence, Actor, e.opt.Now()); err != nil {
			if errors.Is(err, store.ErrConflict) {
				continue // done by another process, or a dependency reopened
			}
			return done, err
		}
		done++
	}
	return done, nil
}

// autoDone checks whether an automated step's work is done, and says how.
func (e *Engine) autoDone(ctx context.Context, t store.CaseTask, c store.Case, ev store.EventProgress,
	grantsOf func(source, id string) ([]store.GrantRow, error)) (string, bool, error) {
	switch t.Action {
	case ActionNotify:
		return e.notified(ctx, t)
	case ActionWebhook:
		return e.webhook(ctx, t, c)
	case ActionProvision, ActionDisable, ActionRevokeSessions:
		if c.EventID > 0 && (ev.State != store.EventApplied || !ev.Provisioned) {
			return "", false, nil // not in effect yet, or not planned by provisioning yet
		}
		ops, err := e.st.Ops(ctx, store.OpFilter{EmployeeID: c.Person})
		if err != nil {
			return "", false, err
		}
		kinds := []string{store.OpCreate, store.OpEnable, store.OpUpdate, store.OpGrant}
		switch t.Action {
		case ActionDisable:
			kinds = []string{store.OpDisable}
		case ActionRevokeSessions:
			kinds = []string{store.OpDisable, store.OpRevokeSessions}
		}
		var apps, revoked []string
		for _, o := range ops {
			if o.Source != c.Source || !slices.Contains(kinds, o.Kind) {
				continue
			}
			if o.State != store.OpDone {
				return "", false, nil // pending, running or failed: not done (a failed one escalates at the deadline)
			}
			if o.Kind == store.OpRevokeSessions {
				if !slices.Contains(revoked, o.App) {
					revoked = append(revoked, o.App)
				}
			} else if !slices.Contains(apps, o.App) {
				apps = append(apps, o.App)
			}
		}
		gs, err := grantsOf(c.Source, c.Person)
		if err != nil {
			return "", false, err
		}
		var active, held []string
		for _, g := range gs {
			if g.Entitlement == "" {
				held = append(held, g.App)
				if g.State == "active" {
					active = append(active, g.App)
				}
			}
		}
		sort.Strings(apps)
		switch t.Action {
		case ActionProvision:
			if len(active) == 0 {
				return "no account to provision", true, nil
			}
			return "accounts active: " + strings.Join(active, ", "), true, nil
		case ActionDisable:
			if len(active) > 0 {
				return "", false, nil
			}
			if len(apps) == 0 {
				if len(held) == 0 {
					return e.noAccount(), true, nil
				}
				return "no active account to disable (disabled before: " + strings.Join(held, ", ") + ")", true, nil
			}
			return "accounts disabled: " + strings.Join(apps, ", "), true, nil
		default:
			if len(active) > 0 {
				return "", false, nil
			}
			return e.sessionsEvidence(gs, revoked), true, nil
		}
	}
	return "", false, fmt.Errorf("unknown action %q", t.Action)
}

// noAccount is the evidence of a step with no account to act on.
func (e *Engine) noAccount() string {
	if len(e.apps) == 0 {
		return "no account in any configured app (no app is configured)"
	}
	return "no account in any configured app"
}

// sessionsEvidence says where a leaver's sessions and tokens were revoked
// (revoked: apps with a revoke_sessions operation, all done) and, of the
// other apps they hold an account in, which offer no revocation (sessions
// end with the disabled account) and which do but were not asked (the
// account was disabled before the leave).
func (e *Engine) sessionsEvidence(gs []store.GrantRow, revoked []string) string {
	var none, before []string
	for _, g := range gs {
		if g.Entitlement != "" || slices.Contains(revoked, g.App) || slices.Contains(none, g.App) || slices.Contains(before, g.App) {
			continue
		}
		if e.opt.RevokesSessions != nil && e.opt.RevokesSessions(g.App) {
			before = append(before, g.App)
		} else {
			none = append(none, g.App)
		}
	}
	if len(revoked)+len(none)+len(before) == 0 {
		return e.noAccount() + ": no session to revoke"
	}
	var parts []string
	for _, p := range []struct {
		what string
		apps []string
	}{
		{"sessions and tokens revoked: ", revoked},
		{"no revocation offered (sessions end with the disabled account): ", none},
		{"not revoked (account disabled before the leave): ", before},
	} {
		if len(p.apps) > 0 {
			sort.Strings(p.apps)
			parts = append(parts, p.what+strings.Join(p.apps, ", "))
		}
	}
	return strings.Join(parts, "; ")
}

func (e *Engine) webhook(ctx context.Context, t store.CaseTask, c store.Case) (string, bool, error) {
	url := ""
	if b := e.pb.Book(c.Kind); b != nil {
		for _, s := range b.Steps {
			if s.Name == t.Step {
				url = s.URL
			}
		}
	}
	if url == "" {
		return "", false, fmt.Errorf("step %q has no url in the playbook %s", t.Step, c.Kind)
	}
	body, err := json.Marshal(map[string]any{"case": c, "task": t})
	if err != nil {
		return "", false, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return "", false, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := e.opt.HTTP.Do(req)
	if err != nil {
		return "", false, err
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return "", false, fmt.Errorf("webhook %s: HTTP %d", url, resp.StatusCode)
	}
	return fmt.Sprintf("webhook %s answered HTTP %d", url, resp.StatusCode), true, nil
}

// Escalate marks every open task past its deadline as escalated: a
// manager's task to that manager's own manager, a team's task to the
// team's lead (playbooks.team_leads, default "<team>-lead"). Each is
// recorded on the task (escalated_to) with an audit entry, once.
func (e *Engine) Escalate(ctx context.Context, now time.Time) (int, error) {
	ts, err := e.st.CaseTasks(ctx, store.CaseTaskFilter{Status: store.TaskOpen, DueBefore: now, Unescalated: true})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, t := range ts {
		if t.Action == ActionNotify && e.notes != nil {
			if inFlight, err := e.notesInFlight(ctx, t.ID); err != nil {
				return n, err
			} else if inFlight {
				continue // its messages are on their way: not late yet
			}
		}
		to, err := e.escalationTarget(ctx, t)
		if err != nil {
			return n, err
		}
		var notes []store.Notification
		if e.notes != nil {
			owner := notify.Owner{Team: t.Team, Lead: true, Source: t.Source}
			if id, ok := strings.CutPrefix(to, "person:"); ok {
				owner = notify.Owner{Person: id, Source: t.Source}
			} else if t.Team == TeamManager {
				owner.Team = "hr"
			}
			if notes, err = e.notes.Escalated(ctx, t, owner, now); err != nil {
				return n, err
			}
		}
		if _, err := EscalateTask(ctx, e.st, t.ID, to, Actor, now, notes...); errors.Is(err, store.ErrConflict) {
			continue
		} else if err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

func (e *Engine) escalationTarget(ctx context.Context, t store.CaseTask) (string, error) {
	if t.Team == TeamManager && t.Assignee != "" {
		m, err := e.st.Person(ctx, t.Source, t.Assignee)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return "", err
		}
		if m.ManagerID != "" {
			return "person:" + m.ManagerID, nil
		}
		return e.lead("hr"), nil
	}
	return e.lead(t.Team), nil
}

func (e *Engine) lead(team string) string {
	if l := e.pb.TeamLeads[team]; l != "" {
		return l
	}
	return team + "-lead"
}

// notesInFlight reports whether a task has notifications not yet sent
// nor given up.
func (e *Engine) notesInFlight(ctx context.Context, task int64) (bool, error) {
	ns, err := e.st.Notifications(ctx, store.NotificationFilter{Task: task})
	if err != nil {
		return false, err
	}
	for _, n := range ns {
		if n.State == store.NotifyPending || n.State == store.NotifySending {
			return true, nil
		}
	}
	return false, nil
}

// notified says whether a notify step is done: when its messages were
// delivered (or, with none configured for its owner, at once). While any
// is on its way it waits; when every one was given up it waits for the
// escalation of the step, so that a person tells the owner instead.
func (e *Engine) notified(ctx context.Context, t store.CaseTask) (string, bool, error) {
	to := t.Team
	if t.Assignee != "" {
		to += " " + t.Assignee
	}
	ns, err := e.st.Notifications(ctx, store.NotificationFilter{Task: t.ID, Kind: store.NotifyStep})
	if err != nil {
		return "", false, err
	}
	if len(ns) == 0 {
		return "recorded for " + to + " (visible in their task list; no e-mail address or webhook configured for them)", true, nil
	}
	var sent, failed []string
	for _, n := range ns {
		what := n.Channel + " " + n.Address
		switch n.State {
		case store.NotifySent:
			sent = append(sent, what)
		case store.NotifyFailed:
			failed = append(failed, what+" ("+n.LastError+")")
		default:
			return "", false, nil
		}
	}
	sort.Strings(sent)
	sort.Strings(failed)
	switch {
	case len(sent) > 0 && len(failed) == 0:
		return "told " + to + ": sent " + strings.Join(sent, ", "), true, nil
	case len(sent) > 0:
		return "told " + to + ": sent " + strings.Join(sent, ", ") + "; not delivered: " + strings.Join(failed, ", "), true, nil
	case !t.EscalatedAt.IsZero():
		return "not delivered to " + to + ": " + strings.Join(failed, ", ") + "; escalated to " + t.EscalatedTo, true, nil
	}
	return "", false, nil
}

// Remind tells the owners of open human tasks whose deadline is within
// notifications.reminder_before, once per task. A task created already
// that close to its deadline gets no reminder: its assignment message
// said it.
func (e *Engine) Remind(ctx context.Context, now time.Time) (int, error) {
	if e.notes == nil || e.notes.Reminder() <= 0 {
		return 0, nil
	}
	before := e.notes.Reminder()
	ts, err := e.st.CaseTasks(ctx, store.CaseTaskFilter{Status: store.TaskOpen, Kind: store.TaskHuman, DueBefore: now.Add(before), Unreminded: true, Unescalated: true})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, t := range ts {
		if !t.Due.After(now) || !t.CreatedAt.Before(t.Due.Add(-before)) {
			continue // late already (escalation's business), or assigned this close to the deadline
		}
		notes, err := e.notes.Reminded(ctx, t, now)
		if err != nil {
			return n, err
		}
		if _, err := RemindTask(ctx, e.st, t.ID, Actor, now, notes...); errors.Is(err, store.ErrConflict) {
			continue // another process reminded it
		} else if err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}
