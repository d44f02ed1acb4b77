// Package provision turns desired access into changes in the real systems:
// it plans operations (desired minus what Tango has granted), queues them
// durably, runs them through connectors with retries, rate limits and
// quarantine, and reconciles what the apps actually hold.
package provision

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"github.com/tango-iga/tango/internal/config"
	"github.com/tango-iga/tango/internal/connector"
	"github.com/tango-iga/tango/internal/policy"
)

// AppSettings are the keys of an app in tango.yaml that are
// provisioning's, whatever its connector: how the account is computed and
// correlated, how the app is paced and reconciled. The connector's own
// keys are its package's Settings; the wiring (internal/app) reads both.
type AppSettings struct {
	RateLimit float64 `yaml:"rate_limit"` // operations per second; 0: unlimited
	Drift     string  `yaml:"drift"`      // report | remediate
	// ReconcileTimeout overrides provisioning.reconcile_timeout for this app ("90s", "10m").
	ReconcileTimeout string `yaml:"reconcile_timeout"`
	Account          struct {
		DN         string            `yaml:"dn"`
		Attributes map[string]string `yaml:"attributes"`
	} `yaml:"account"`
	Correlate struct {
		Person string `yaml:"person"`
	} `yaml:"correlate"`
	// Retention is read by the leaver playbook (workflow).
	Retention string `yaml:"retention"`
}

// App is a configured app with its compiled account template and connector.
type App struct {
	Name     string
	Kind     string
	Owner    string
	Settings AppSettings
	Conn     connector.Connector
	// ReconcileTimeout is the app's own reconcile_timeout; 0: the engine's.
	ReconcileTimeout time.Duration
	nameAttr         string
	dn               cel.Program
	attrs            map[string]cel.Program
	attrOrder        []string
	key              cel.Program
	limiter          *limiter
}

// personEnv compiles account templates: person, and dn.escape(string)
// for HR values put in an LDAP DN.
var personEnv, _ = cel.NewEnv(cel.Variable("person", cel.MapType(cel.StringType, cel.DynType)),
	cel.Function("dn.escape", cel.Overload("dn_escape_string", []*cel.Type{cel.StringType}, cel.StringType,
		cel.UnaryBinding(func(v ref.Val) ref.Val {
			s, ok := v.Value().(string)
			if !ok {
				return types.MaybeNoSuchOverloadErr(v)
			}
			return types.String(EscapeDN(s))
		}))))

// EscapeDN escapes s as an RFC 4514 attribute value, so that an HR value
// put in a DN ("uid=" + dn.escape(person.employee_id) + ",ou=people,…")
// stays one value of one RDN: "EVIL1,ou=admins" becomes
// "EVIL1\,ou=admins", not two RDNs, and "a+cn=b" no multi-valued RDN.
// It backslash-escapes " + , ; < > \ = anywhere, a leading space or #,
// a trailing space, and writes NUL as \00. In account templates it is
// the CEL function dn.escape(string).
func EscapeDN(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == 0:
			b.WriteString(`\00`)
			continue
		case strings.IndexByte(`"+,;<>\=`, c) >= 0,
			i == 0 && (c == ' ' || c == '#'),
			i == len(s)-1 && c == ' ':
			b.WriteByte('\\')
		}
		b.WriteByte(c)
	}
	return b.String()
}

// AppSpec is an app as the wiring read it: its config entry, its
// provisioning settings and its connector.
type AppSpec struct {
	Config   config.App
	Settings AppSettings
	// Conn is the app's connector; nil when the config is only checked.
	Conn connector.Connector
	// NameAttribute is the account attribute holding the login
	// (Account.Name): uid, userName; "": the person's display name for a
	// manual app, else the employee ID.
	NameAttribute string
}

// NewApp checks and compiles an app's provisioning settings (drift,
// reconcile_timeout, the CEL expressions) and returns every problem found,
// each naming the app.
func NewApp(spec AppSpec) (*App, []error) {
	ca := spec.Config
	a := &App{Name: ca.Name, Kind: ca.Connector, Owner: ca.Owner, Settings: spec.Settings, Conn: spec.Conn,
		nameAttr: spec.NameAttribute, attrs: map[string]cel.Program{}}
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("app %q: "+format, append([]any{ca.Name}, args...)...))
	}
	s := &a.Settings
	switch s.Drift {
	case "":
		s.Drift = "report"
	case "report", "remediate":
	default:
		bad("drift %q: want report or remediate", s.Drift)
	}
	if s.ReconcileTimeout != "" {
		d, err := config.ParseDuration(s.ReconcileTimeout)
		if err != nil || d <= 0 {
			bad("reconcile_timeout %q: want a duration such as \"90s\" or \"10m\"", s.ReconcileTimeout)
		}
		a.ReconcileTimeout = d
	}
	compile := func(what, expr string) cel.Program {
		ast, iss := personEnv.Compile(expr)
		if iss.Err() != nil {
			bad("%s: %s", what, strings.ReplaceAll(iss.Err().Error(), "<input>", what))
			return nil
		}
		p, err := personEnv.Program(ast)
		if err != nil {
			bad("%s: %v", what, err)
		}
		return p
	}
	if s.Account.DN != "" {
		a.dn = compile("account.dn", s.Account.DN)
	}
	for k := range s.Account.Attributes {
		a.attrOrder = append(a.attrOrder, k)
	}
	sort.Strings(a.attrOrder)
	for _, k := range a.attrOrder {
		a.attrs[k] = compile("account.attributes."+k, s.Account.Attributes[k])
	}
	if s.Correlate.Person == "" {
		s.Correlate.Person = "person.employee_id"
	}
	a.key = compile("correlate.person", s.Correlate.Person)
	a.limiter = newLimiter(s.RateLimit)
	if len(errs) > 0 {
		return nil, errs
	}
	return a, nil
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
