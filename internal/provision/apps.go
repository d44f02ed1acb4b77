// Package provision turns desired access into changes in the real systems:
// it plans operations (desired minus what Tango has granted), queues them
// durably, runs them through connectors with retries, rate limits and
// quarantine, and reconciles what the apps actually hold.
package provision

import (
	"crypto/x509"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/google/cel-go/cel"
	"gopkg.in/yaml.v3"

	"github.com/tango-iga/tango/internal/config"
	"github.com/tango-iga/tango/internal/connector"
	"github.com/tango-iga/tango/internal/connector/ldap"
	"github.com/tango-iga/tango/internal/connector/manual"
	"github.com/tango-iga/tango/internal/connector/scim"
	"github.com/tango-iga/tango/internal/connector/webhook"
	"github.com/tango-iga/tango/internal/notify"
	"github.com/tango-iga/tango/internal/policy"
)

// Settings are the connector keys of an app in tango.yaml.
type Settings struct {
	URL                string  `yaml:"url"`
	BindDN             string  `yaml:"bind_dn"`
	BindPassword       string  `yaml:"bind_password"`
	BaseDN             string  `yaml:"base_dn"`
	GroupBaseDN        string  `yaml:"group_base_dn"`
	StartTLS           bool    `yaml:"start_tls"`
	InsecureSkipVerify bool    `yaml:"insecure_skip_verify"`
	CAFile             string  `yaml:"ca_file"`
	Token              string  `yaml:"token"`
	PageSize           int     `yaml:"page_size"`
	RateLimit          float64 `yaml:"rate_limit"` // operations per second; 0: unlimited
	Drift              string  `yaml:"drift"`      // report | remediate
	// ReconcileTimeout overrides provisioning.reconcile_timeout for this app ("90s", "10m").
	ReconcileTimeout string `yaml:"reconcile_timeout"`
	Account          struct {
		DN            string            `yaml:"dn"`
		ObjectClasses []string          `yaml:"object_classes"`
		Attributes    map[string]string `yaml:"attributes"`
	} `yaml:"account"`
	Correlate struct {
		AccountAttribute string `yaml:"account_attribute"`
		Person           string `yaml:"person"`
	} `yaml:"correlate"`
	Disable struct {
		Replace         map[string][]string `yaml:"replace"`
		MoveTo          string              `yaml:"move_to"`
		ActiveDirectory bool                `yaml:"active_directory"`
	} `yaml:"disable"`
	Retention string `yaml:"retention"`
	// SCIM apps: the app's own session-revocation endpoint, a path below
	// url with {id} for the User's id (POSTed with the token). Webhook and
	// manual apps always revoke sessions (an event, a task); LDAP cannot.
	RevokeSessionsPath string `yaml:"revoke_sessions_path"`
	// Webhook apps: the HMAC secret, an optional endpoint listing accounts, extra headers.
	Secret  string            `yaml:"secret"`
	ListURL string            `yaml:"list_url"`
	Headers map[string]string `yaml:"headers"`
	// Manual apps: the team that gets the tasks, and an accounts export to read back.
	Team         string `yaml:"team"`
	AccountsFile string `yaml:"accounts_file"`
}

// App is a configured app with its compiled account template and connector.
type App struct {
	Name     string
	Kind     string
	Owner    string
	Settings Settings
	Conn     connector.Connector
	// ReconcileTimeout is the app's own reconcile_timeout; 0: the engine's.
	ReconcileTimeout time.Duration
	nameAttr         string
	dn               cel.Program
	attrs            map[string]cel.Program
	attrOrder        []string
	key              cel.Program
	limiter          *limiter
	planner          *notify.Planner // tells a manual app's team of its tasks; nil without notifications
}

var personEnv, _ = cel.NewEnv(cel.Variable("person", cel.MapType(cel.StringType, cel.DynType)))

// Factory builds a connector for an app; tests and new connector kinds
// register theirs in Factories.
type Factory func(a *App, st Store) (connector.Connector, error)

// Factories by connector kind.
var Factories = map[string]Factory{
	"ldap":    newLDAP,
	"scim":    newSCIM,
	"manual":  newManual,
	"webhook": newWebhook,
}

// LoadApps compiles every app of the config and builds its connector
// (connecting lazily). Errors name the app and the setting.
func LoadApps(cfg *config.Config, st Store) (map[string]*App, error) {
	apps := map[string]*App{}
	planner := notify.NewPlanner(st, cfg)
	for _, ca := range cfg.Apps {
		a, err := loadApp(ca, st, planner)
		if err != nil {
			for _, b := range apps {
				b.Conn.Close()
			}
			return nil, err
		}
		apps[a.Name] = a
	}
	return apps, nil
}

// CheckApps checks every app of cfg as LoadApps would (connector,
// settings, CEL expressions) without connecting to any, and returns every
// problem.
func CheckApps(cfg *config.Config) []error {
	var errs []error
	for _, ca := range cfg.Apps {
		if _, err := prepareApp(ca, nil); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

func loadApp(ca config.App, st Store, planner *notify.Planner) (*App, error) {
	a, err := prepareApp(ca, planner)
	if err != nil {
		return nil, err
	}
	if a.Conn, err = Factories[a.Kind](a, st); err != nil {
		return nil, fmt.Errorf("app %q: %w", ca.Name, err)
	}
	return a, nil
}

// prepareApp reads and compiles an app's settings; its connector is known
// but not made.
func prepareApp(ca config.App, planner *notify.Planner) (*App, error) {
	a := &App{Name: ca.Name, Kind: ca.Connector, Owner: ca.Owner, attrs: map[string]cel.Program{}, planner: planner}
	raw, err := yaml.Marshal(ca.Settings)
	if err != nil {
		return nil, fmt.Errorf("app %q: %v", ca.Name, err)
	}
	dec := yaml.NewDecoder(strings.NewReader(string(raw)))
	dec.KnownFields(true)
	if err := dec.Decode(&a.Settings); err != nil && err.Error() != "EOF" {
		return nil, fmt.Errorf("app %q: %v", ca.Name, err)
	}
	s := &a.Settings
	switch s.Drift {
	case "":
		s.Drift = "report"
	case "report", "remediate":
	default:
		return nil, fmt.Errorf("app %q: drift %q: want report or remediate", ca.Name, s.Drift)
	}
	if s.ReconcileTimeout != "" {
		d, err := config.ParseDuration(s.ReconcileTimeout)
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("app %q: reconcile_timeout %q: want a duration such as \"90s\" or \"10m\"", ca.Name, s.ReconcileTimeout)
		}
		a.ReconcileTimeout = d
	}
	compile := func(what, expr string) (cel.Program, error) {
		ast, iss := personEnv.Compile(expr)
		if iss.Err() != nil {
			return nil, fmt.Errorf("app %q: %s: %s", ca.Name, what, strings.ReplaceAll(iss.Err().Error(), "<input>", what))
		}
		return personEnv.Program(ast)
	}
	if s.Account.DN != "" {
		if a.dn, err = compile("account.dn", s.Account.DN); err != nil {
			return nil, err
		}
	}
	for k, v := range s.Account.Attributes {
		if a.attrs[k], err = compile("account.attributes."+k, v); err != nil {
			return nil, err
		}
		a.attrOrder = append(a.attrOrder, k)
	}
	sort.Strings(a.attrOrder)
	if s.Correlate.Person == "" {
		s.Correlate.Person = "person.employee_id"
	}
	if a.key, err = compile("correlate.person", s.Correlate.Person); err != nil {
		return nil, err
	}
	if s.RevokeSessionsPath != "" && a.Kind != "scim" {
		return nil, fmt.Errorf("app %q: revoke_sessions_path is for connector scim (webhook and manual apps always revoke sessions, ldap cannot)", ca.Name)
	}
	a.nameAttr = map[string]string{"ldap": "uid", "scim": "userName", "webhook": "name"}[a.Kind]
	a.limiter = newLimiter(s.RateLimit)
	if Factories[a.Kind] == nil {
		return nil, fmt.Errorf("app %q: connector %q is not available (known: %s)", ca.Name, a.Kind, strings.Join(kinds(), ", "))
	}
	return a, nil
}

func kinds() []string {
	var k []string
	for n := range Factories {
		k = append(k, n)
	}
	sort.Strings(k)
	return k
}

func newLDAP(a *App, _ Store) (connector.Connector, error) {
	s := a.Settings
	cfg := ldap.Config{URL: s.URL, BindDN: s.BindDN, Password: s.BindPassword, BaseDN: s.BaseDN,
		GroupBaseDN: s.GroupBaseDN, StartTLS: s.StartTLS, InsecureSkipVerify: s.InsecureSkipVerify,
		ObjectClasses: s.Account.ObjectClasses, KeyAttribute: s.Correlate.AccountAttribute, PageSize: s.PageSize}
	if cfg.KeyAttribute == "" {
		cfg.KeyAttribute = "employeeNumber"
	}
	cfg.Disable.Replace = s.Disable.Replace
	cfg.Disable.MoveTo = s.Disable.MoveTo
	cfg.Disable.ActiveDirectory = s.Disable.ActiveDirectory
	if s.CAFile != "" {
		pem, err := os.ReadFile(s.CAFile)
		if err != nil {
			return nil, fmt.Errorf("ca_file: %v", err)
		}
		cfg.RootCAs = x509.NewCertPool()
		if !cfg.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("ca_file %s: no PEM certificate", s.CAFile)
		}
	}
	return ldap.New(cfg)
}

func newSCIM(a *App, _ Store) (connector.Connector, error) {
	s := a.Settings
	key := s.Correlate.AccountAttribute
	if key == "" {
		key = "externalId"
	}
	return scim.New(scim.Config{BaseURL: s.URL, Token: s.Token, PageSize: s.PageSize, KeyAttribute: key,
		MaxRetries: 2, MaxRetryWait: 5 * time.Second, RevokeSessionsPath: s.RevokeSessionsPath})
}

func newWebhook(a *App, _ Store) (connector.Connector, error) {
	s := a.Settings
	return webhook.New(webhook.Config{URL: s.URL, Secret: s.Secret, ListURL: s.ListURL, Headers: s.Headers,
		AppName: a.Name, PageSize: s.PageSize, MaxRetries: 2, MaxRetryWait: 5 * time.Second})
}

func newManual(a *App, st Store) (connector.Connector, error) {
	team := a.Settings.Team
	if team == "" {
		team = a.Owner
	}
	mc := manual.Config{App: a.Name, Team: team, Tasks: st, AccountsFile: a.Settings.AccountsFile}
	if a.planner != nil {
		mc.Notify = a.planner.ManualTask
	}
	return manual.New(mc)
}

// Account computes the account a person should have in the app.
func (a *App) Account(in policy.Input, now time.Time) (connector.Account, error) {
	act := map[string]any{"person": policy.Activation(in, now)}
	acc := connector.Account{Attributes: map[string][]string{}}
	str := func(p cel.Program, what string) ([]string, error) {
		v, _, err := p.Eval(act)
		if err != nil {
			return nil, fmt.Errorf("app %q: %s for %s: %v", a.Name, what, in.Person.EmployeeID, err)
		}
		switch x := v.Value().(type) {
		case string:
			if x == "" {
				return nil, nil
			}
			return []string{x}, nil
		case []string:
			return x, nil
		case []any:
			var out []string
			for _, e := range x {
				out = append(out, fmt.Sprint(e))
			}
			return out, nil
		}
		return []string{fmt.Sprint(v.Value())}, nil
	}
	for _, k := range a.attrOrder {
		vals, err := str(a.attrs[k], "account.attributes."+k)
		if err != nil {
			return acc, err
		}
		if len(vals) > 0 {
			acc.Attributes[k] = vals
		}
	}
	if a.dn != nil {
		v, err := str(a.dn, "account.dn")
		if err != nil {
			return acc, err
		}
		if len(v) > 0 {
			acc.ID = v[0]
		}
	}
	k, err := str(a.key, "correlate.person")
	if err != nil {
		return acc, err
	}
	if len(k) > 0 {
		acc.Key = k[0]
	}
	if a.nameAttr != "" && len(acc.Attributes[a.nameAttr]) > 0 {
		acc.Name = acc.Attributes[a.nameAttr][0]
	}
	if len(a.attrOrder) == 0 && a.Kind == "manual" {
		// A person does the change: tell them who it is for.
		for k, v := range map[string]string{"display_name": in.Person.DisplayName, "email": in.Person.Email} {
			if v != "" {
				acc.Attributes[k] = []string{v}
			}
		}
		acc.Name = in.Person.DisplayName
	}
	if acc.Name == "" {
		acc.Name = in.Person.EmployeeID
	}
	return acc, nil
}

// RevokesSessions reports whether the app's connector can end an
// account's sessions and tokens (connector.RevokerOf): leavers then get a
// revoke_sessions operation after their disable.
func (a *App) RevokesSessions() bool { return a.Conn != nil && connector.RevokerOf(a.Conn) != nil }

// Key computes the correlation value of a person for the app.
func (a *App) Key(in policy.Input, now time.Time) string {
	v, _, err := a.key.Eval(map[string]any{"person": policy.Activation(in, now)})
	if err != nil {
		return ""
	}
	s, _ := v.Value().(string)
	return s
}

// limiter spaces calls to an app: at most rate per second.
type limiter struct {
	mu    sync.Mutex
	every time.Duration
	next  time.Time
}

func newLimiter(rate float64) *limiter {
	if rate <= 0 {
		return &limiter{}
	}
	return &limiter{every: time.Duration(float64(time.Second) / rate)}
}

// reserve returns how long to wait before the next call.
func (l *limiter) reserve(now time.Time) time.Duration {
	if l.every == 0 {
		return 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.next.Before(now) {
		l.next = now
	}
	wait := l.next.Sub(now)
	l.next = l.next.Add(l.every)
	return wait
}

// status of a grant row for an account.
const (
	grantActive   = "active"
	grantDisabled = "disabled"
)

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // connector.Account always marshals
	}
	return string(b)
}
