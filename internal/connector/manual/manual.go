// Package manual is the connector for apps nobody can automate: every
// change becomes a task for a team (IT by default) that names the exact
// change to make. Each change returns *connector.HandedOff naming its
// task: the operation is done when the task is, not when it is made. Where the app can export its accounts (a CSV file), the
// export is read back, so reconcile checks that the tasks were really done.
package manual

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/tango-iga/tango/internal/connector"
	"github.com/tango-iga/tango/internal/store"
	"github.com/tango-iga/tango/internal/task"
)

// Config configures a manual app.
type Config struct {
	App   string    // app name, shown in tasks
	Team  string    // team that gets the tasks; default "it"
	Tasks TaskStore // where tasks go
	// Notify, when set, composes the messages telling the team of a new
	// task; they are stored with it (the outbox delivers them).
	Notify func(ctx context.Context, t store.Task) ([]store.Notification, error)
	// Due is how long the team has for a task; default 1 day (4 hours for disables).
	Due time.Duration
	// AccountsFile is a CSV export of the app's accounts with the columns
	// key, name, disabled, entitlements (separated by ";") and any others as
	// attributes. Empty: the app cannot be read back.
	AccountsFile string
	Now          func() time.Time // the clock; required
}

// Connector turns changes into tasks.
type Connector struct{ cfg Config }

var (
	_ connector.Connector      = (*Connector)(nil)
	_ connector.SessionRevoker = (*Connector)(nil)
)

// FromConfig checks the configuration.
func FromConfig(cfg Config) (*Connector, error) {
	if cfg.App == "" || cfg.Tasks == nil {
		return nil, errors.New("manual: App and Tasks are required")
	}
	if cfg.Now == nil {
		return nil, errors.New("manual.FromConfig: Config.Now is nil")
	}
	if cfg.Team == "" {
		cfg.Team = "it"
	}
	if cfg.Due <= 0 {
		cfg.Due = 24 * time.Hour
	}
	return &Connector{cfg: cfg}, nil
}

func (c *Connector) task(ctx context.Context, a connector.Account, title, detail string, due time.Duration) error {
	now := c.cfg.Now().UTC()
	t := store.Task{Person: a.Key, Team: c.cfg.Team, App: c.cfg.App,
		Title: c.title(a, title), Detail: detail,
		Status: store.TaskOpen, Kind: store.TaskHuman, Due: now.Add(due), CreatedAt: now}
	var notes []store.Notification
	if c.cfg.Notify != nil {
		var err error
		if notes, err = c.cfg.Notify(ctx, t); err != nil {
			return err
		}
	}
	t, err := task.Create(ctx, c.cfg.Tasks, t, notes...)
	if err != nil {
		return &connector.TemporaryError{Err: fmt.Errorf("manual %s: %w", c.cfg.App, err)}
	}
	// Not done yet: done when a person completes the task.
	return &connector.HandedOff{Task: t.ID}
}

// title is a task's title: what to do, for whom, where.
func (c *Connector) title(a connector.Account, what string) string {
	who := a.Name
	if a.Key != "" && a.Key != a.Name {
		who = fmt.Sprintf("%s (%s)", a.Name, a.Key)
	}
	return fmt.Sprintf("%s %s in %s", what, who, c.cfg.App)
}

func attrs(a connector.Account) string {
	keys := make([]string, 0, len(a.Attributes))
	for k := range a.Attributes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%s; ", k, strings.Join(a.Attributes[k], ", "))
	}
	return strings.TrimSuffix(b.String(), "; ")
}

// Create asks for the account; its ID in the app is its correlation key.
func (c *Connector) Create(ctx context.Context, a connector.Account) (connector.Account, error) {
	if a.ID == "" {
		a.ID = a.Key
	}
	return a, c.task(ctx, a, "Create the account of", "Create the account with: "+attrs(a), c.cfg.Due)
}

func (c *Connector) Update(ctx context.Context, a connector.Account) error {
	return c.task(ctx, a, "Update the account of", "Set: "+attrs(a), c.cfg.Due)
}

func (c *Connector) Disable(ctx context.Context, a connector.Account) error {
	return c.task(ctx, a, "Disable the account of", "Disable (do not delete) the account and end its sessions.", min(c.cfg.Due, 4*time.Hour))
}

func (c *Connector) Enable(ctx context.Context, a connector.Account) error {
	return c.task(ctx, a, "Re-enable the account of", "Enable the account again.", c.cfg.Due)
}

func (c *Connector) Grant(ctx context.Context, a connector.Account, ent string) error {
	return c.task(ctx, a, "Grant "+ent+" to", "Add the entitlement "+ent+".", c.cfg.Due)
}

func (c *Connector) Revoke(ctx context.Context, a connector.Account, ent string) error {
	return c.task(ctx, a, "Revoke "+ent+" from", "Remove the entitlement "+ent+".", c.cfg.Due)
}

// RevokesSessions is true: a person can end the sessions in any app.
func (c *Connector) RevokesSessions() bool { return true }

// RevokeSessions asks the team to end every session and token of the
// account (due as fast as a disable). While such a task is open for the
// account, no second one is made: the operation waits for that one.
func (c *Connector) RevokeSessions(ctx context.Context, a connector.Account) error {
	open, err := c.cfg.Tasks.Tasks(ctx, store.TaskFilter{Person: a.Key, App: c.cfg.App, Team: c.cfg.Team, Status: store.TaskOpen})
	if err != nil {
		return &connector.TemporaryError{Err: fmt.Errorf("manual %s: %w", c.cfg.App, err)}
	}
	title := c.title(a, sessionsTitle)
	for _, t := range open {
		if t.Title == title {
			return &connector.HandedOff{Task: t.ID}
		}
	}
	return c.task(ctx, a, sessionsTitle, "Sign the account out everywhere: end its sessions, revoke its API and personal access tokens, "+
		"app passwords and remembered devices.", min(c.cfg.Due, 4*time.Hour))
}

// sessionsTitle starts the title of a session-revocation task.
const sessionsTitle = "End every session and token of"

func (c *Connector) Get(ctx context.Context, key string) (connector.Account, error) {
	var found *connector.Account
	err := c.List(ctx, func(a connector.Account) error {
		if a.Key == key {
			found = &a
		}
		return nil
	})
	if err != nil {
		return connector.Account{}, err
	}
	if found == nil {
		return connector.Account{}, connector.ErrNotFound
	}
	return *found, nil
}

// List reads the accounts export.
func (c *Connector) List(ctx context.Context, fn func(connector.Account) error) error {
	if c.cfg.AccountsFile == "" {
		return fmt.Errorf("manual app %s has no accounts_file: %w", c.cfg.App, connector.ErrNotReadable)
	}
	f, err := os.Open(c.cfg.AccountsFile)
	if err != nil {
		return fmt.Errorf("manual app %s: accounts export: %w", c.cfg.App, err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	head, err := r.Read()
	if err != nil {
		return fmt.Errorf("manual app %s: %s: header: %w", c.cfg.App, c.cfg.AccountsFile, err)
	}
	col := map[string]int{}
	for i, h := range head {
		col[strings.TrimSpace(strings.ToLower(h))] = i
	}
	if _, ok := col["key"]; !ok {
		return fmt.Errorf("manual app %s: %s: no key column (want key,name,disabled,entitlements)", c.cfg.App, c.cfg.AccountsFile)
	}
	get := func(rec []string, name string) string {
		if i, ok := col[name]; ok && i < len(rec) {
			return strings.TrimSpace(rec[i])
		}
		return ""
	}
	for line := 2; ; line++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		rec, err := r.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("manual app %s: %s line %d: %w", c.cfg.App, c.cfg.AccountsFile, line, err)
		}
		a := connector.Account{Key: get(rec, "key"), Name: get(rec, "name"), ID: get(rec, "key"), Attributes: map[string][]string{}}
		for i, h := range head {
			switch name := strings.TrimSpace(h); strings.ToLower(name) {
			case "key", "name", "disabled", "entitlements":
			default:
				if i < len(rec) && strings.TrimSpace(rec[i]) != "" {
					a.Attributes[name] = strings.Split(strings.TrimSpace(rec[i]), ";")
				}
			}
		}
		switch strings.ToLower(get(rec, "disabled")) {
		case "true", "yes", "1", "disabled":
			a.Disabled = true
		}
		for _, e := range strings.Split(get(rec, "entitlements"), ";") {
			if e = strings.TrimSpace(e); e != "" {
				a.Entitlements = append(a.Entitlements, e)
			}
		}
		if err := fn(a); err != nil {
			return err
		}
	}
}

func (c *Connector) Close() error { return nil }
