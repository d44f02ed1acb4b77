package manual

import (
	"context"
	"time"

	"github.com/tango-iga/tango/internal/store"
)

// Settings are a manual app's keys in tango.yaml.
type Settings struct {
	// Team gets the tasks; default the app's owner, else "it".
	Team string `yaml:"team"`
	// AccountsFile: see Config.AccountsFile.
	AccountsFile string `yaml:"accounts_file"`
}

// Validate reports what New would refuse: a manual app's settings are all
// optional.
func (s Settings) Validate() error { return nil }

// App is what a manual connector needs of its app beyond its settings.
type App struct {
	Name  string
	Owner string
	Tasks TaskStore
	// Notify, when set, composes the messages telling the team of a task.
	Notify func(ctx context.Context, t store.Task) ([]store.Notification, error)
	// Now is the clock; required.
	Now func() time.Time
}

// New builds the connector of a configured app.
func New(s Settings, app App) (*Connector, error) {
	team := s.Team
	if team == "" {
		team = app.Owner
	}
	return FromConfig(Config{App: app.Name, Team: team, Tasks: app.Tasks, Notify: app.Notify, AccountsFile: s.AccountsFile, Now: app.Now})
}
