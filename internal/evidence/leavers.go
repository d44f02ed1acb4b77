package evidence

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/tango-iga/tango/internal/domain"
	"github.com/tango-iga/tango/internal/store"
)

// Store is what the offboarding export reads.
type Store interface {
	Person(ctx context.Context, source, employeeID string) (store.Person, error)
	Events(ctx context.Context, f store.EventFilter) ([]store.Event, error)
	Ops(ctx context.Context, f store.OpFilter) ([]store.Operation, error)
	Cases(ctx context.Context, f store.CaseFilter) ([]store.Case, error)
	CaseTasks(ctx context.Context, f store.CaseTaskFilter) ([]store.CaseTask, error)
}

// offboardingKinds are the operations that take access away.
var offboardingKinds = map[string]bool{domain.OpDisable: true, domain.OpRevoke: true}

func stamp(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return ""
	}
	return t.In(loc).Format(time.RFC3339)
}

func seconds(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', 1, 64)
}

// Leavers is the offboarding evidence of every leaver whose leave was
// applied at or after since: each account operation that took their
// access away with the time it took, and each task of their leaver case
// with its evidence. An account still not disabled, a failed operation, a
// late or open task are listed as exceptions.
func Leavers(ctx context.Context, st Store, since, now time.Time, loc *time.Location) (Bundle, error) {
	if loc == nil {
		loc = time.UTC
	}
	b := Bundle{Kind: "leavers", Title: "Offboarding evidence: leavers since " + since.In(loc).Format("2006-01-02"),
		Params: map[string]string{"since": since.UTC().Format(time.RFC3339), "until": now.UTC().Format(time.RFC3339)}}
	people := Table{Name: "leavers", Header: []string{"source", "employee_id", "display_name", "email", "department", "title", "manager_id",
		"left_on", "leave_applied_at", "import_id", "accounts", "accounts_disabled", "last_disabled_at", "time_to_disable_seconds", "case", "case_status", "tasks_open"}}
	accounts := Table{Name: "accounts", Header: []string{"source", "employee_id", "app", "operation", "kind", "entitlement", "account",
		"state", "attempts", "last_error", "queued_at", "finished_at", "time_to_disable_seconds", "reason"}}
	tasks := Table{Name: "tasks", Header: []string{"source", "employee_id", "case", "task", "step", "team", "title", "status", "due",
		"completed_at", "completed_by", "evidence_kind", "evidence", "late"}}

	var leavers []store.Event
	var after int64
	for {
		page, err := st.Events(ctx, store.EventFilter{Type: domain.EventLeaver, State: domain.EventApplied, Limit: 1000, AfterID: after})
		if err != nil {
			return b, err
		}
		for _, e := range page {
			if !e.AppliedAt.Before(since) && !e.AppliedAt.After(now) {
				leavers = append(leavers, e)
			}
		}
		if len(page) < 1000 {
			break
		}
		after = page[len(page)-1].ID
	}
	sort.SliceStable(leavers, func(i, j int) bool { return leavers[i].AppliedAt.Before(leavers[j].AppliedAt) })

	var durations []time.Duration
	var notDisabled, failedOps, lateTasks, openTasks int
	var notes []string
	for _, ev := range leavers {
		p := ev.Before
		if ev.After != nil {
			p = ev.After
		}
		if p == nil {
			if got, err := st.Person(ctx, ev.Source, ev.EmployeeID); err == nil {
				p = &got
			} else {
				p = &store.Person{Source: ev.Source, EmployeeID: ev.EmployeeID}
			}
		}
		// The window: from this leave to the person's next joiner, rehire
		// or leaver (as the lifecycle clocks count it).
		end := time.Time{}
		hist, err := st.Events(ctx, store.EventFilter{Source: ev.Source, EmployeeID: ev.EmployeeID, State: domain.EventApplied})
		if err != nil {
			return b, err
		}
		for _, h := range hist {
			if h.ID > ev.ID && (h.Type == domain.EventJoiner || h.Type == domain.EventRehire || h.Type == domain.EventLeaver) {
				end = h.CreatedAt
				break
			}
		}
		ops, err := st.Ops(ctx, store.OpFilter{EmployeeID: ev.EmployeeID})
		if err != nil {
			return b, err
		}
		n, disabled := 0, 0
		var last time.Time
		for _, o := range ops {
			if o.Source != ev.Source || !offboardingKinds[o.Kind] || o.CreatedAt.Before(ev.CreatedAt) || (!end.IsZero() && !o.CreatedAt.Before(end)) {
				continue
			}
			n++
			finished, took := "", ""
			if o.State == domain.OpDone {
				disabled++
				finished = stamp(o.UpdatedAt, loc)
				took = seconds(o.UpdatedAt.Sub(ev.AppliedAt))
				if o.UpdatedAt.After(last) {
					last = o.UpdatedAt
				}
			} else {
				if o.State == domain.OpFailed {
					failedOps++
				}
				notes = append(notes, fmt.Sprintf("%s: %s of %s in %s is %s%s", ev.EmployeeID, o.Kind, o.Entitlement, o.App, o.State, errSuffix(o.LastError)))
			}
			accounts.Rows = append(accounts.Rows, []string{ev.Source, ev.EmployeeID, o.App, strconv.FormatInt(o.ID, 10), o.Kind, o.Entitlement,
				accountKey(o), o.State, strconv.Itoa(o.Attempts), o.LastError, stamp(o.CreatedAt, loc), finished, took, o.Reason})
		}
		took := ""
		if n > 0 && disabled == n {
			d := last.Sub(ev.AppliedAt)
			durations = append(durations, d)
			took = seconds(d)
		}
		if disabled < n {
			notDisabled++
		}
		caseID, caseStatus, open := "", "", 0
		cs, err := st.Cases(ctx, store.CaseFilter{Person: ev.EmployeeID})
		if err != nil {
			return b, err
		}
		for _, c := range cs {
			if c.Source != ev.Source || c.EventID != ev.ID {
				continue
			}
			caseID, caseStatus = strconv.FormatInt(c.ID, 10), c.Status
			ts, err := st.CaseTasks(ctx, store.CaseTaskFilter{Case: c.ID})
			if err != nil {
				return b, err
			}
			for _, t := range ts {
				late := ""
				switch {
				case t.Status == domain.TaskOpen && !t.Due.IsZero() && now.After(t.Due):
					late = "overdue"
				case t.Status == domain.TaskDone && !t.Due.IsZero() && t.CompletedAt.After(t.Due):
					late = "late"
				}
				if late != "" {
					lateTasks++
				}
				if t.Status == domain.TaskOpen {
					open++
					openTasks++
				}
				tasks.Rows = append(tasks.Rows, []string{ev.Source, ev.EmployeeID, caseID, strconv.FormatInt(t.ID, 10), t.Step, t.Team, t.Title,
					t.Status, stamp(t.Due, loc), stamp(t.CompletedAt, loc), t.CompletedBy, t.EvidenceKind, t.Evidence, late})
			}
		}
		if caseID == "" {
			notes = append(notes, fmt.Sprintf("%s: no leaver case (cases are opened by `tango serve` from the leave event)", ev.EmployeeID))
		}
		people.Rows = append(people.Rows, []string{ev.Source, ev.EmployeeID, p.DisplayName, p.Email, p.Department, p.Title, p.ManagerID,
			stamp(ev.Effective, loc), stamp(ev.AppliedAt, loc), ev.ImportID, strconv.Itoa(n), strconv.Itoa(disabled), stamp(last, loc), took,
			caseID, caseStatus, strconv.Itoa(open)})
	}
	b.Tables = []Table{people, accounts, tasks}
	sort.Slice(durations, func(i, j int) bool { return durations[i] < durations[j] })
	b.Summary = []Line{
		{"Leavers", strconv.Itoa(len(leavers))},
		{"Accounts taken away", strconv.Itoa(len(accounts.Rows))},
		{"Leavers with access left", strconv.Itoa(notDisabled)},
		{"Failed operations", strconv.Itoa(failedOps)},
		{"Playbook tasks", strconv.Itoa(len(tasks.Rows))},
		{"Tasks open", strconv.Itoa(openTasks)},
		{"Tasks late or overdue", strconv.Itoa(lateTasks)},
	}
	if len(durations) > 0 {
		b.Summary = append(b.Summary,
			Line{"Time to disable, median", durations[len(durations)/2].Round(time.Second).String()},
			Line{"Time to disable, worst", durations[len(durations)-1].Round(time.Second).String()})
	}
	if len(notes) > 50 {
		notes = append(notes[:50], fmt.Sprintf("… and %d more (accounts.csv lists every operation)", len(notes)-50))
	}
	b.Notes = notes
	return b, nil
}

func errSuffix(e string) string {
	if e == "" {
		return ""
	}
	return ": " + e
}

func accountKey(o store.Operation) string {
	var a domain.Account
	if o.Account == "" {
		return ""
	}
	if err := jsonUnmarshal(o.Account, &a); err != nil {
		return ""
	}
	if a.ID != "" {
		return a.ID
	}
	if a.Name != "" {
		return a.Name
	}
	return a.Key
}

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }
