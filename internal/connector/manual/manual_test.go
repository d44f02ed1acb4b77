package manual_test

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tango-iga/tango/internal/connector"
	"github.com/tango-iga/tango/internal/connector/connectortest"
	"github.com/tango-iga/tango/internal/connector/manual"
	"github.com/tango-iga/tango/internal/store"
	"github.com/tango-iga/tango/internal/store/sqlite"
	taskrule "github.com/tango-iga/tango/internal/task"
)

// itPerson stands for the IT engineer: after each change the connector
// asks for, it finds the task naming that change, makes the change in the
// app (whose accounts export is a CSV file) and completes the task.
type itPerson struct {
	*manual.Connector
	t     *testing.T
	st    store.Store
	file  string
	mu    sync.Mutex
	state map[string]*connector.Account
}

// handedOff is the task a change was handed to; any other error is returned.
func handedOff(err error) (int64, error) {
	var h *connector.HandedOff
	if errors.As(err, &h) && h.Task > 0 {
		return h.Task, nil
	}
	if err == nil {
		return 0, errors.New("the change returned no task: a manual change is not done until its task is")
	}
	return 0, err
}

func (p *itPerson) do(ctx context.Context, a connector.Account, handed error, want string, change func(*connector.Account)) error {
	id, err := handedOff(handed)
	if err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	tasks, err := p.st.Tasks(ctx, store.TaskFilter{App: "payroll", Status: store.TaskOpen})
	if err != nil {
		return err
	}
	var task *store.Task
	for i := range tasks {
		if strings.Contains(tasks[i].Title, want) && strings.Contains(tasks[i].Title, a.Name) {
			task = &tasks[i]
		}
	}
	if task == nil || task.ID != id {
		p.t.Errorf("no open task %d %q for %s among %+v", id, want, a.Name, tasks)
		return errors.New("no task")
	}
	acc := p.state[a.Key]
	if acc == nil {
		acc = &connector.Account{Key: a.Key, Name: a.Name, ID: a.Key}
		p.state[a.Key] = acc
	}
	change(acc)
	if err := p.write(); err != nil {
		return err
	}
	_, err = taskrule.Complete(ctx, p.st, task.ID, "done in the payroll admin console", "it-engineer", time.Now())
	return err
}

func (p *itPerson) write() error {
	keys := make([]string, 0, len(p.state))
	for k := range p.state {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	f, err := os.Create(p.file)
	if err != nil {
		return err
	}
	w := csv.NewWriter(f)
	cols := map[string]bool{}
	for _, a := range p.state {
		for n := range a.Attributes {
			cols[n] = true
		}
	}
	var extra []string
	for n := range cols {
		extra = append(extra, n)
	}
	sort.Strings(extra)
	w.Write(append([]string{"key", "name", "disabled", "entitlements"}, extra...))
	for _, k := range keys {
		a := p.state[k]
		rec := []string{a.Key, a.Name, fmt.Sprint(a.Disabled), strings.Join(a.Entitlements, ";")}
		for _, n := range extra {
			rec = append(rec, strings.Join(a.Attributes[n], ";"))
		}
		w.Write(rec)
	}
	w.Flush()
	if err := w.Error(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func (p *itPerson) Create(ctx context.Context, a connector.Account) (connector.Account, error) {
	a, err := p.Connector.Create(ctx, a)
	return a, p.do(ctx, a, err, "Create", func(x *connector.Account) { x.Attributes = a.Attributes })
}
func (p *itPerson) Update(ctx context.Context, a connector.Account) error {
	if _, err := p.Connector.Get(ctx, a.Key); err != nil {
		return err
	}
	err := p.Connector.Update(ctx, a)
	return p.do(ctx, a, err, "Update", func(x *connector.Account) { x.Attributes = a.Attributes })
}
func (p *itPerson) Disable(ctx context.Context, a connector.Account) error {
	err := p.Connector.Disable(ctx, a)
	return p.do(ctx, a, err, "Disable", func(x *connector.Account) { x.Disabled = true })
}
func (p *itPerson) Enable(ctx context.Context, a connector.Account) error {
	err := p.Connector.Enable(ctx, a)
	return p.do(ctx, a, err, "Re-enable", func(x *connector.Account) { x.Disabled = false })
}
func (p *itPerson) Grant(ctx context.Context, a connector.Account, e string) error {
	err := p.Connector.Grant(ctx, a, e)
	return p.do(ctx, a, err, "Grant "+e, func(x *connector.Account) {
		if !slices.Contains(x.Entitlements, e) {
			x.Entitlements = append(x.Entitlements, e)
		}
	})
}
func (p *itPerson) Revoke(ctx context.Context, a connector.Account, e string) error {
	err := p.Connector.Revoke(ctx, a, e)
	return p.do(ctx, a, err, "Revoke "+e, func(x *connector.Account) {
		x.Entitlements = slices.DeleteFunc(x.Entitlements, func(s string) bool { return s == e })
	})
}

func TestConformance(t *testing.T) {
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	file := filepath.Join(t.TempDir(), "payroll-accounts.csv")
	c, err := manual.FromConfig(manual.Config{App: "payroll", Tasks: st, AccountsFile: file, Now: time.Now})
	if err != nil {
		t.Fatal(err)
	}
	p := &itPerson{Connector: c, t: t, st: st, file: file, state: map[string]*connector.Account{}}
	if err := p.write(); err != nil {
		t.Fatal(err)
	}
	connectortest.Run(t, func(t *testing.T) connector.Connector { return p }, connectortest.Options{
		NewAccount: func(n int) connector.Account {
			return connector.Account{Key: fmt.Sprintf("E%04d", n), Name: fmt.Sprintf("user%04d", n), Attributes: map[string][]string{"title": {"Clerk"}}}
		},
		UpdateAttribute: "title",
		Entitlements:    []string{"payroll-approver", "payroll-viewer"},
		PageSize:        10,
		// The app is the team's task list: a task asks them to end the sessions.
		SessionsRevoked: func(t *testing.T, a connector.Account) bool {
			tasks, err := st.Tasks(context.Background(), store.TaskFilter{App: "payroll", Person: a.Key})
			if err != nil {
				t.Fatal(err)
			}
			for _, tk := range tasks {
				if strings.HasPrefix(tk.Title, "End every session and token of ") {
					return true
				}
			}
			return false
		},
	})
	tasks, _ := st.Tasks(context.Background(), store.TaskFilter{App: "payroll"})
	if len(tasks) == 0 {
		t.Fatal("no tasks were made")
	}
	for _, tk := range tasks {
		if tk.Team != "it" || tk.Kind != store.TaskHuman || tk.Due.IsZero() {
			t.Fatalf("task %+v", tk)
		}
	}
}

func TestUnreadableAndTaskDetail(t *testing.T) {
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	c, _ := manual.FromConfig(manual.Config{App: "badge-system", Team: "facilities", Tasks: st, Now: time.Now})
	ctx := context.Background()
	if err := c.List(ctx, func(connector.Account) error { return nil }); !errors.Is(err, connector.ErrNotReadable) {
		t.Fatalf("List without an export: %v", err)
	}
	if _, err := c.Get(ctx, "E1"); !errors.Is(err, connector.ErrNotReadable) {
		t.Fatalf("Get without an export: %v", err)
	}
	a := connector.Account{Key: "E1", Name: "jdoe", Attributes: map[string][]string{"mail": {"j@dtaa.com"}, "title": {"Clerk"}}}
	_, err = c.Create(ctx, a)
	created, err := handedOff(err)
	if err != nil {
		t.Fatal(err)
	}
	disabled, err := handedOff(c.Disable(ctx, a))
	if err != nil {
		t.Fatal(err)
	}
	tasks, _ := st.Tasks(ctx, store.TaskFilter{Team: "facilities"})
	if len(tasks) != 2 || tasks[0].ID != created || tasks[1].ID != disabled || tasks[0].Title != "Create the account of jdoe (E1) in badge-system" ||
		tasks[0].Detail != "Create the account with: mail=j@dtaa.com; title=Clerk" ||
		!strings.HasPrefix(tasks[1].Title, "Disable the account of jdoe (E1)") || tasks[1].Due.Sub(tasks[1].CreatedAt) > 4*time.Hour {
		t.Fatalf("tasks %+v", tasks)
	}
}

// A session revocation is one task for the owning team, due as fast as a
// disable; asking again while it is open makes no second task.
func TestRevokeSessionsTask(t *testing.T) {
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	c, _ := manual.FromConfig(manual.Config{App: "badge-system", Team: "facilities", Tasks: st, Now: time.Now})
	if connector.RevokerOf(c) == nil {
		t.Fatal("the manual connector offers no session revocation")
	}
	ctx := context.Background()
	a := connector.Account{Key: "E1", Name: "jdoe"}
	var ids []int64
	for range 2 {
		id, err := handedOff(c.RevokeSessions(ctx, a))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if ids[0] != ids[1] {
		t.Fatalf("asking twice handed the change to tasks %v, want the open one both times", ids)
	}
	other := connector.Account{Key: "E2", Name: "asmith"}
	if _, err := handedOff(c.RevokeSessions(ctx, other)); err != nil {
		t.Fatal(err)
	}
	tasks, _ := st.Tasks(ctx, store.TaskFilter{Team: "facilities", Person: "E1"})
	if len(tasks) != 1 || tasks[0].Title != "End every session and token of jdoe (E1) in badge-system" ||
		!strings.Contains(tasks[0].Detail, "tokens") || tasks[0].Due.Sub(tasks[0].CreatedAt) > 4*time.Hour || tasks[0].App != "badge-system" {
		t.Fatalf("tasks for E1 %+v", tasks)
	}
	// Once done, a new request is a new task.
	if _, err := taskrule.Complete(ctx, st, tasks[0].ID, "signed out in the badge console", "facilities-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	if id, err := handedOff(c.RevokeSessions(ctx, a)); err != nil || id == ids[0] {
		t.Fatalf("asking again after the task was done: task %d, %v (want a new task)", id, err)
	}
	if tasks, _ = st.Tasks(ctx, store.TaskFilter{Team: "facilities", Person: "E1"}); len(tasks) != 2 {
		t.Fatalf("after the first was done, asking again made %d tasks in all, want 2", len(tasks))
	}
}

// RevokeSessions leaves the task open: the suite checks it was asked for.
func (p *itPerson) RevokeSessions(ctx context.Context, a connector.Account) error {
	_, err := handedOff(p.Connector.RevokeSessions(ctx, a))
	return err
}
