// Package config loads tango.yaml: the organisation, HR sources and their
// column mappings, apps and roles. Secrets enter only as ${env:NAME} or
// ${file:PATH} references, resolved at load and never printed.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/tango-iga/tango/internal/duration"
)

// Config is the whole tango.yaml.
type Config struct {
	Org     Org      `yaml:"org"`
	Sources []Source `yaml:"sources"`
	Apps    []App    `yaml:"apps"`
	Roles   []Role   `yaml:"roles"`
	// SoD lists entitlement combinations that must never meet in one person.
	SoD []SoDRule `yaml:"separation_of_duties"`
	// Provisioning tunes how access changes reach the apps.
	Provisioning Provisioning `yaml:"provisioning"`
	// Playbooks are the lifecycle workflows (read by internal/workflow; built-in defaults when empty).
	Playbooks yaml.Node `yaml:"playbooks"`
	// Notifications tell task owners about their work by e-mail and chat webhooks.
	Notifications Notifications `yaml:"notifications"`
	// Requests configures access requests (the catalogue itself is apps[].requestable).
	Requests Requests `yaml:"requests"`
	// Authorization gives Tango's own roles (hr, it, security, auditor,
	// admin) and team membership to persons.
	Authorization Authorization `yaml:"authorization"`
	// Server is how Tango's HTTP server is reached (server.base_url).
	Server Server `yaml:"server"`
	// Audit configures signed checkpoints of the audit trail.
	Audit Audit `yaml:"audit"`
	// SignIn is how people sign in from a browser (OpenID Connect, local
	// accounts) and how long their sessions last.
	SignIn SignIn `yaml:"signin"`
	// Reviews configures access reviews (internal/review).
	Reviews Reviews `yaml:"reviews"`

	path string
	loc  *time.Location
}

// Org names the organisation and the time zone effective dates are read in.
type Org struct {
	Name     string `yaml:"name"`
	Timezone string `yaml:"timezone"`
}

// Source is one HR feed.
type Source struct {
	Name       string            `yaml:"name"`
	Kind       string            `yaml:"kind"`   // file | scim
	Format     string            `yaml:"format"` // csv | json | xlsx (file sources); empty: from the file's extension and content
	Key        string            `yaml:"key"`    // column holding the stable employee ID
	Mapping    map[string]string `yaml:"mapping"`
	Safeguards Safeguards        `yaml:"safeguards"`
	// Sheet is the XLSX sheet to read; empty: the first one.
	Sheet string `yaml:"sheet"`
}

// Safeguards guard a source against mass mistakes.
type Safeguards struct {
	MaxLeavers string `yaml:"max_leavers"` // "25" (count) or "5%" (of active persons)
}

// App is a system people get access to. Connector-specific keys are kept
// in Settings for the connector packages to read.
type App struct {
	Name      string `yaml:"name"`
	Connector string `yaml:"connector"`
	Owner     string `yaml:"owner"`
	// Requestable is the app's catalogue of entitlements people may request.
	Requestable []Requestable  `yaml:"requestable"`
	Settings    map[string]any `yaml:",inline"`
}

// Risk levels of a requestable entitlement.
const (
	RiskLow    = "low"
	RiskMedium = "medium"
	RiskHigh   = "high" // needs Security's approval too
)

// Requestable is one entitlement of an app that people may request.
type Requestable struct {
	Entitlement string `yaml:"entitlement"`
	// Owner is the employee ID of the person who approves it after the
	// beneficiary's manager (apps[].owner, by contrast, is a team).
	Owner string `yaml:"owner"`
	Risk  string `yaml:"risk"` // low | medium | high; default medium
	// MaxDuration bounds how long a grant lasts ("30d", "12h", "90m");
	// empty: grants last until revoked.
	MaxDuration string `yaml:"max_duration"`
	// Max is MaxDuration parsed (0: no limit).
	Max time.Duration `yaml:"-"`
}

// Requests configures access requests.
type Requests struct {
	// SecurityApprovers are the employee IDs of the persons who give
	// Security's approval to high-risk requests; any one of them suffices.
	SecurityApprovers []string `yaml:"security_approvers"`
	// ApprovalDeadline is how long the current step of a pending request
	// may wait ("72h", "3d"; default 72h; "0s": no deadline). Its approvers
	// are reminded notifications.reminder_before it; past it the step is
	// escalated to the approver's manager (Security's step to
	// SecurityLead), who may then approve it too.
	ApprovalDeadline string `yaml:"approval_deadline"`
	// SecurityLead is the employee ID an overdue Security step escalates
	// to (default: the manager of the first security approver).
	SecurityLead string `yaml:"security_lead"`
}

// DefaultApprovalDeadline is how long an approval step may wait unless
// configured.
const DefaultApprovalDeadline = 72 * time.Hour

// Deadline is requests.approval_deadline parsed (0: no deadline); Validate
// has checked it.
func (r Requests) Deadline() time.Duration {
	s := strings.TrimSpace(r.ApprovalDeadline)
	if s == "" {
		return DefaultApprovalDeadline
	}
	if d, err := time.ParseDuration(s); err == nil && d <= 0 {
		return 0
	}
	d, _ := ParseDuration(s)
	return d
}

// ParseDuration reads a Go duration ("36h", "90m") or a number of days ("30d").
func ParseDuration(s string) (time.Duration, error) { return duration.Parse(s) }

// Requestable returns the catalogue entry for an app's entitlement.
func (c *Config) Requestable(app, entitlement string) (*Requestable, error) {
	for i := range c.Apps {
		a := &c.Apps[i]
		if a.Name != app {
			continue
		}
		var names []string
		for j := range a.Requestable {
			if a.Requestable[j].Entitlement == entitlement {
				return &a.Requestable[j], nil
			}
			names = append(names, a.Requestable[j].Entitlement)
		}
		if len(names) == 0 {
			return nil, fmt.Errorf("app %q has nothing requestable (apps[].requestable in the config)", app)
		}
		return nil, fmt.Errorf("entitlement %q of app %q is not requestable (requestable: %s)", entitlement, app, strings.Join(names, ", "))
	}
	return nil, fmt.Errorf("app %q is not in the config", app)
}

// Role grants apps and entitlements when its CEL condition holds.
type Role struct {
	Name   string  `yaml:"name"`
	When   string  `yaml:"when"`
	Grants []Grant `yaml:"grants"`
}

// Grant is one app and, optionally, entitlements in it.
type Grant struct {
	App          string   `yaml:"app"`
	Entitlements []string `yaml:"entitlements"`
}

// Provisioning settings.
type Provisioning struct {
	// MoverGrace is how long a mover keeps access no role grants any more
	// (default 7 days; "0s" removes it at once).
	MoverGrace time.Duration `yaml:"mover_grace"`
	// ReconcileTimeout bounds how long `tango reconcile` waits for one app:
	// for its queued operations, then again for reading its accounts back
	// (default 5 minutes; an app's own reconcile_timeout overrides it).
	ReconcileTimeout time.Duration `yaml:"reconcile_timeout"`
}

// SoDRule names entitlements that one person must never hold together.
// Each item is "app" (the account itself) or "app:entitlement".
type SoDRule struct {
	Name         string   `yaml:"name"`
	Entitlements []string `yaml:"entitlements"`
	Description  string   `yaml:"description"`
}

// Limit is a parsed max_leavers: a count, or a percentage of active persons.
type Limit struct {
	Count   int
	Percent float64 // > 0 when given as a percentage
}

// Allowed returns the number of leavers allowed for the given active count.
func (l Limit) Allowed(active int) int {
	if l.Percent > 0 {
		return int(float64(active) * l.Percent / 100)
	}
	return l.Count
}

// Set reports whether a limit was configured.
func (l Limit) Set() bool { return l.Percent > 0 || l.Count > 0 }

func (l Limit) String() string {
	if l.Percent > 0 {
		return strconv.FormatFloat(l.Percent, 'f', -1, 64) + "%"
	}
	return strconv.Itoa(l.Count)
}

// ParseLimit reads "25" or "5%".
func ParseLimit(s string) (Limit, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Limit{}, nil
	}
	if p, ok := strings.CutSuffix(s, "%"); ok {
		f, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || f <= 0 || f > 100 {
			return Limit{}, fmt.Errorf("max_leavers %q: want a percentage between 0 and 100, such as \"5%%\"", s)
		}
		return Limit{Percent: f}, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return Limit{}, fmt.Errorf("max_leavers %q: want a count such as \"25\" or a percentage such as \"5%%\"", s)
	}
	return Limit{Count: n}, nil
}

// Person attributes a mapping may set. Anything else is kept as a free attribute.
var KnownAttributes = []string{"display_name", "email", "title", "department", "team",
	"business_unit", "manager", "employment_type", "start_date", "end_date"}

// Default is the configuration used when no file exists: one file source
// named "hris" mapped for the CERT-style exports shipped with Tango, read
// as CSV, JSON or XLSX by the file's extension and content.
func Default() *Config {
	c := &Config{
		Org: Org{Name: "DTAA", Timezone: "America/New_York"},
		Sources: []Source{{
			Name: "hris", Kind: "file", Key: "user_id",
			Mapping: map[string]string{
				"display_name": "employee_name", "email": "email", "title": "role",
				"department": "department", "team": "team", "business_unit": "business_unit",
				"functional_unit": "functional_unit", "projects": "projects",
				"manager": "supervisor", "employment_type": "'employee'",
			},
			Safeguards: Safeguards{MaxLeavers: "5%"},
		}},
	}
	if err := c.finish(); err != nil {
		panic("config: the built-in default config is invalid: " + err.Error())
	}
	return c
}

// Load reads and checks a config file. A missing file at the default path
// is not an error when allowMissing is true: the Default config is used.
func Load(path string, allowMissing bool) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		if allowMissing && errors.Is(err, os.ErrNotExist) {
			return Default(), nil
		}
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	return Parse(b, path)
}

// LoadCheck is Load with Check: every problem of the file at once, and
// the config (when it could be decoded) for further checks.
func LoadCheck(path string, allowMissing bool) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		if allowMissing && errors.Is(err, os.ErrNotExist) {
			return Default(), nil
		}
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	return Check(b, path)
}

// Path is the file the config was read from ("" for the built-in one).
func (c *Config) Path() string { return c.path }

var refRE = regexp.MustCompile(`\$\{(env|file):([^}]*)\}`)

// Parse reads a config document; name is used in error messages and to
// resolve relative ${file:} references.
func Parse(b []byte, name string) (*Config, error) {
	c, err := Check(b, name)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// Check reads a config document like Parse and reports every problem of
// it at once as *Errors. The config comes back even with problems (unless
// the document cannot be decoded at all), for further checks to run on.
func Check(b []byte, name string) (*Config, error) {
	var c Config
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
		errs := &Errors{File: name}
		var te *yaml.TypeError
		if errors.As(err, &te) {
			errs.Problems = append(errs.Problems, te.Errors...)
		} else {
			errs.Problems = append(errs.Problems, err.Error())
		}
		return nil, errs
	}
	c.path = name
	errs := &Errors{File: name}
	reported := map[string]bool{}
	expand := func(s string) string {
		return refRE.ReplaceAllStringFunc(s, func(m string) string {
			g := refRE.FindStringSubmatch(m)
			switch g[1] {
			case "env":
				v, ok := os.LookupEnv(g[2])
				if !ok && !reported[m] {
					reported[m] = true
					errs.Add(fmt.Errorf("environment variable %s is not set", g[2]))
				}
				return v
			default:
				p := g[2]
				if !filepath.IsAbs(p) {
					p = filepath.Join(filepath.Dir(name), p)
				}
				v, err := os.ReadFile(p)
				if err != nil && !reported[m] {
					reported[m] = true
					errs.Add(fmt.Errorf("secret file %s: %v", g[2], errors.Unwrap(err)))
				}
				return strings.TrimRight(string(v), "\r\n")
			}
		})
	}
	for i := range c.Apps {
		c.Apps[i].Settings = expandAny(c.Apps[i].Settings, expand).(map[string]any)
	}
	c.Notifications.expand(expand)
	c.Audit.Checkpoint.expand(expand)
	c.SignIn.expand(expand)
	errs.Add(c.finish())
	return &c, errs.Err()
}

func expandAny(v any, f func(string) string) any {
	switch x := v.(type) {
	case string:
		return f(x)
	case map[string]any:
		if x == nil {
			return map[string]any{}
		}
		for k, e := range x {
			x[k] = expandAny(e, f)
		}
		return x
	case []any:
		for i, e := range x {
			x[i] = expandAny(e, f)
		}
		return x
	case nil:
		return map[string]any{}
	}
	return v
}

// Errors is every problem found in one config file, each naming where it is.
type Errors struct {
	File     string
	Problems []string
}

func (e *Errors) Error() string {
	if len(e.Problems) == 1 {
		return fmt.Sprintf("config %s: %s", e.File, e.Problems[0])
	}
	return fmt.Sprintf("config %s: %d errors:\n  %s", e.File, len(e.Problems), strings.Join(e.Problems, "\n  "))
}

// Add records more problems; nil errors are skipped. An *Errors is
// flattened.
func (e *Errors) Add(errs ...error) {
	for _, err := range errs {
		var more *Errors
		switch {
		case err == nil:
		case errors.As(err, &more):
			e.Problems = append(e.Problems, more.Problems...)
		default:
			e.Problems = append(e.Problems, err.Error())
		}
	}
}

// Err is nil without problems, else e.
func (e *Errors) Err() error {
	if len(e.Problems) == 0 {
		return nil
	}
	return e
}

// finish checks the whole config and reports every problem, not only the
// first.
func (c *Config) finish() error {
	errs := &Errors{File: c.path}
	bad := func(format string, args ...any) { errs.Add(fmt.Errorf(format, args...)) }
	c.Reviews.check(c.Apps, bad)
	if c.Org.Timezone == "" {
		c.Org.Timezone = "UTC"
	}
	loc, err := time.LoadLocation(c.Org.Timezone)
	if err != nil {
		bad("org.timezone %q: %v", c.Org.Timezone, err)
		loc = time.UTC
	}
	c.loc = loc
	errs.Add(c.Notifications.finish())
	errs.Add(c.Authorization.finish())
	errs.Add(c.Server.finish())
	dir := ""
	if c.path != "" {
		dir = filepath.Dir(c.path)
	}
	errs.Add(c.Audit.Checkpoint.finish(dir)...)
	errs.Add(c.SignIn.finish())
	seen := map[string]bool{}
	for i := range c.Sources {
		s := &c.Sources[i]
		where := fmt.Sprintf("sources[%d]", i)
		if s.Name == "" {
			bad("%s: name is required", where)
		} else {
			where = fmt.Sprintf("source %q", s.Name)
			if seen[s.Name] {
				bad("%s: defined twice", where)
			}
			seen[s.Name] = true
		}
		if s.Kind == "" {
			s.Kind = "file"
		}
		if s.Kind != "file" && s.Kind != "scim" {
			bad("%s: kind %q: want file or scim", where, s.Kind)
		}
		switch s.Format {
		case "", "csv", "json", "xlsx":
		default:
			bad("%s: format %q: want csv, json or xlsx", where, s.Format)
		}
		if s.Kind == "file" && s.Key == "" {
			bad("%s: key (the column with the employee ID) is required", where)
		}
		if s.Kind == "file" && s.Mapping["display_name"] == "" {
			bad("%s: mapping.display_name is required", where)
		}
		if _, err := ParseLimit(s.Safeguards.MaxLeavers); err != nil {
			bad("%s: safeguards: %v", where, err)
		}
	}
	apps := map[string]bool{}
	for i, a := range c.Apps {
		if a.Name == "" {
			bad("apps[%d]: name is required", i)
		} else if apps[a.Name] {
			bad("app %q: defined twice", a.Name)
		}
		apps[a.Name] = true
		ents := map[string]bool{}
		for j := range a.Requestable {
			q := &c.Apps[i].Requestable[j]
			if strings.TrimSpace(q.Entitlement) == "" {
				bad("app %q: requestable[%d]: entitlement is required", a.Name, j)
				continue
			}
			where := fmt.Sprintf("app %q: requestable entitlement %q", a.Name, q.Entitlement)
			if ents[q.Entitlement] {
				bad("%s: listed twice", where)
			}
			ents[q.Entitlement] = true
			if strings.TrimSpace(q.Owner) == "" {
				bad("%s: owner (the employee ID of the approving owner) is required", where)
			}
			switch q.Risk {
			case "":
				q.Risk = RiskMedium
			case RiskLow, RiskMedium, RiskHigh:
			default:
				bad("%s: risk %q: want low, medium or high", where, q.Risk)
			}
			if q.MaxDuration != "" {
				d, err := ParseDuration(q.MaxDuration)
				if err != nil {
					bad("%s: max_duration: %v", where, err)
				}
				q.Max = d
			}
			if q.Risk == RiskHigh && len(c.Requests.SecurityApprovers) == 0 {
				bad("%s: risk high needs Security's approval, but requests.security_approvers is empty", where)
			}
		}
	}
	if s := strings.TrimSpace(c.Requests.ApprovalDeadline); s != "" {
		if d, err := time.ParseDuration(s); err != nil || d > 0 {
			if _, err := ParseDuration(s); err != nil {
				bad("requests.approval_deadline: %v", err)
			}
		} else if d < 0 {
			bad("requests.approval_deadline %q is negative; \"0s\" turns deadlines off", s)
		}
	}
	for i, id := range c.Requests.SecurityApprovers {
		if strings.TrimSpace(id) == "" {
			bad("requests.security_approvers[%d]: empty employee ID", i)
		}
	}
	for i, r := range c.Roles {
		where := fmt.Sprintf("role %q", r.Name)
		if r.Name == "" {
			where = fmt.Sprintf("roles[%d]", i)
			bad("%s: name is required", where)
		}
		for _, g := range r.Grants {
			if !apps[g.App] {
				bad("%s: grants access to unknown app %q", where, g.App)
			}
		}
	}
	for i, r := range c.SoD {
		where := fmt.Sprintf("separation-of-duties rule %q", r.Name)
		if r.Name == "" {
			where = fmt.Sprintf("separation_of_duties[%d]", i)
			bad("%s: name is required", where)
		}
		if len(r.Entitlements) < 2 {
			bad("%s: needs at least two entitlements", where)
		}
		for _, e := range r.Entitlements {
			app, _, _ := strings.Cut(e, ":")
			if !apps[app] {
				bad("%s: %q names unknown app %q", where, e, app)
			}
		}
	}
	return errs.Err()
}

// Location is the organisation's time zone.
func (c *Config) Location() *time.Location {
	if c.loc == nil {
		return time.UTC
	}
	return c.loc
}

// Source returns the named source; with an empty name, the only (or first
// file) source.
func (c *Config) Source(name string) (*Source, error) {
	if name == "" {
		for i := range c.Sources {
			if c.Sources[i].Kind == "file" {
				return &c.Sources[i], nil
			}
		}
		return nil, fmt.Errorf("config %s: no file source is defined", c.path)
	}
	for i := range c.Sources {
		if c.Sources[i].Name == name {
			return &c.Sources[i], nil
		}
	}
	var names []string
	for _, s := range c.Sources {
		names = append(names, s.Name)
	}
	return nil, fmt.Errorf("source %q is not in the config (known: %s)", name, strings.Join(names, ", "))
}
