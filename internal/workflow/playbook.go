// Package workflow turns lifecycle events into cases: one playbook per
// event kind (joiner, mover, leaver, and leaver.urgent for for-cause
// terminations), each a list of steps. A step is automated (the engine
// does it and completes its task) or a human task owned by a team, with a
// deadline relative to the event's effective date, dependencies on other
// steps, a CEL condition over `person`, and the evidence its task needs to
// close.
//
// Dependencies: a task whose dependency step still has an open task is
// "blocked" (store.CaseTask.Blocked): it is listed, counts towards its
// deadline, but cannot be completed until the steps it depends on are done
// or skipped. A dependency on a step that produced no task (its condition
// was false, or it iterates over nothing) is satisfied.
package workflow

import (
	"bytes"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/cel-go/cel"
	"gopkg.in/yaml.v3"

	"github.com/tango-iga/tango/internal/config"
	"github.com/tango-iga/tango/internal/domain"
	"github.com/tango-iga/tango/internal/store"
)

// Automated actions.
const (
	ActionProvision      = "provision"       // the person's accounts are created/enabled (provisioning queue drained)
	ActionDisable        = "disable"         // every account of the person is disabled
	ActionRevokeSessions = "revoke_sessions" // sessions and tokens end, where the app allows
	ActionNotify         = "notify"          // the owner team is told (recorded at once)
	ActionWebhook        = "webhook"         // POST of the case to a URL; done on a 2xx answer
)

// Special owners.
const (
	TeamManager  = "manager"   // the person's manager (task team "manager", assignee the manager's ID)
	TeamAppOwner = "app_owner" // the owner of the app (config apps[].owner), "it" when none
)

// Config is the `playbooks:` section of tango.yaml. A kind left out uses
// the built-in playbook of Default.
type Config struct {
	// Assets is the asset register: a CSV export with the columns
	// asset_tag, type, serial and assigned_to (the employee ID).
	Assets struct {
		File string `yaml:"file"`
	} `yaml:"assets"`
	// Urgent is a CEL condition over `person` (the leaver's last record):
	// when it holds, the leaver.urgent playbook applies.
	Urgent string `yaml:"urgent"`
	// TeamLeads names who a team's overdue task escalates to (default
	// "<team>-lead").
	TeamLeads    map[string]string `yaml:"team_leads"`
	Joiner       *Playbook         `yaml:"joiner"`
	Mover        *Playbook         `yaml:"mover"`
	Leaver       *Playbook         `yaml:"leaver"`
	LeaverUrgent *Playbook         `yaml:"leaver.urgent"`
}

// Playbook is the steps of one case kind.
type Playbook struct {
	Steps []Step `yaml:"steps"`
}

// Step is one piece of work of a playbook.
type Step struct {
	Name  string `yaml:"name"`
	Title string `yaml:"title"` // may use {name}, {id}, {app}, {asset}
	// Action makes the step automated; empty: a human task.
	Action string `yaml:"action"`
	// Team owns the task: hr, it, security, manager, app_owner or any team name.
	Team   string `yaml:"team"`
	Detail string `yaml:"detail"`
	// Due is the deadline relative to the effective date ("72h", "3d",
	// "-1d" before it); empty: no deadline. A deadline before the case
	// opened is the opening time.
	Due Offset `yaml:"due"`
	// After names steps of the same playbook that must be done first.
	After []string `yaml:"after"`
	// When is a CEL condition over `person`; the step applies only when it holds.
	When string `yaml:"when"`
	// Evidence a human task needs to close: attestation, text (default),
	// reference or file.
	Evidence string `yaml:"evidence"`
	// ForEach makes one task per asset assigned to the person ("asset") or
	// per app the person has or had access to ("app").
	ForEach string `yaml:"for_each"`
	URL     string `yaml:"url"` // webhook
}

// Offset is a duration relative to an effective date, written like a Go
// duration with days allowed ("3d", "-1d", "36h"); empty when unset.
type Offset string

// Duration parses the offset; ok is false when it is unset.
func (o Offset) Duration() (d time.Duration, ok bool, err error) {
	s := strings.TrimSpace(string(o))
	if s == "" {
		return 0, false, nil
	}
	if n, found := strings.CutSuffix(s, "d"); found {
		days, err := strconv.ParseFloat(n, 64)
		if err != nil || math.IsNaN(days) || math.Abs(days) > float64(domain.MaxDuration/(24*time.Hour)) {
			return 0, false, fmt.Errorf("due %q: want a duration such as 3d, 36h or -1d, at most 100 years either way", s)
		}
		return time.Duration(days * float64(24*time.Hour)), true, nil
	}
	d, err = time.ParseDuration(s)
	if err != nil || d > domain.MaxDuration || d < -domain.MaxDuration {
		return 0, false, fmt.Errorf("due %q: want a duration such as 3d, 36h or -1d, at most 100 years either way", s)
	}
	return d, true, nil
}

// Kinds lists the case kinds in order.
var Kinds = []string{store.CaseJoiner, store.CaseMover, store.CaseLeaver, store.CaseLeaverUrgent}

var actions = []string{ActionProvision, ActionDisable, ActionRevokeSessions, ActionNotify, ActionWebhook}
var evidenceKinds = []string{store.EvidenceAttestation, store.EvidenceText, store.EvidenceReference, store.EvidenceFile}

// PrivilegedOrRisky is the default condition of the Security review of a
// leaver: a privileged role, or an HR risk flag.
const PrivilegedOrRisky = `person.title == "ITAdmin" || ("risk_flag" in person.attributes && person.attributes.risk_flag in ["true", "yes", "1", "high"])`

// DefaultUrgent marks a for-cause termination.
const DefaultUrgent = `"termination" in person.attributes && person.attributes.termination == "for-cause"`

// Default is the built-in playbooks.
func Default() *Config {
	c := &Config{Urgent: DefaultUrgent}
	c.Joiner = &Playbook{Steps: []Step{
		{Name: "provision", Title: "Accounts of {name} ready before the start date and enabled on it", Action: ActionProvision, Team: "it", Due: "4h"},
		{Name: "equipment", Title: "Issue equipment to {name}", Team: "it", Due: "-1d", Evidence: store.EvidenceReference,
			Detail: "laptop, badge, phone as the role needs; evidence: the asset tag(s) or ticket"},
		{Name: "training", Title: "Assign security-awareness training to {name}", Team: "security", Due: "7d", Evidence: store.EvidenceReference},
		{Name: "notify-manager", Title: "Tell the manager that {name} starts", Action: ActionNotify, Team: TeamManager, Due: "0h"},
	}}
	c.Mover = &Playbook{Steps: []Step{
		{Name: "provision", Title: "Access of {name} for the new job provisioned", Action: ActionProvision, Team: "it", Due: "1d"},
		{Name: "access-attestation", Title: "Attest the access {name} keeps after the move", Team: TeamManager, Due: "14d",
			After: []string{"provision"}, Evidence: store.EvidenceAttestation,
			Detail: "review what the person still holds from the previous job; access no role grants is removed after the mover grace period"},
		{Name: "notify-manager", Title: "Tell the new manager that {name} joins the team", Action: ActionNotify, Team: TeamManager, Due: "0h"},
	}}
	c.Leaver = &Playbook{Steps: leaverSteps(false)}
	c.LeaverUrgent = &Playbook{Steps: leaverSteps(true)}
	return c
}

func leaverSteps(urgent bool) []Step {
	pick := func(normal, fast Offset) Offset {
		if urgent {
			return fast
		}
		return normal
	}
	review := Step{Name: "security-review", Title: "Security review of {name}'s recent access", Team: "security",
		Due: pick("3d", "1d"), After: []string{"disable-accounts"}, Evidence: store.EvidenceText, When: PrivilegedOrRisky,
		Detail: "privileged role or HR risk flag: review the last 90 days of access and activity; evidence: the findings"}
	if urgent {
		review.When = "" // every for-cause termination
	}
	return []Step{
		{Name: "disable-accounts", Title: "Disable every account of {name}", Action: ActionDisable, Team: "it", Due: pick("4h", "15m")},
		{Name: "revoke-sessions", Title: "Revoke {name}'s sessions and tokens where the app allows", Action: ActionRevokeSessions, Team: "it",
			Due: pick("4h", "15m"), After: []string{"disable-accounts"}},
		{Name: "notify-manager", Title: "Tell the manager that {name} leaves", Action: ActionNotify, Team: TeamManager, Due: "0h"},
		{Name: "transfer-data", Title: "Take over ownership of {name}'s data", Team: TeamManager, Due: pick("7d", "2d"),
			After: []string{"disable-accounts"}, Evidence: store.EvidenceReference,
			Detail: "files, mailbox, shared documents and owned resources move to the manager; evidence: the transfer ticket"},
		{Name: "legal-hold", Title: "Decide on a legal hold of {name}'s data", Team: "security", Due: pick("3d", "1d"), Evidence: store.EvidenceText,
			Detail: "evidence: the decision (hold or no hold) and its reason"},
		{Name: "data-retention", Title: "Apply {app}'s retention rule to {name}'s data", Team: TeamAppOwner, ForEach: "app", Due: pick("30d", "30d"),
			After: []string{"legal-hold", "transfer-data"}, Evidence: store.EvidenceReference},
		{Name: "recover-asset", Title: "Recover {asset} from {name}", Team: "it", ForEach: "asset", Due: pick("5d", "1d"), Evidence: store.EvidenceReference,
			Detail: "evidence: the return receipt or ticket"},
		{Name: "reclaim-licence", Title: "Reclaim {name}'s licence in {app}", Team: TeamAppOwner, ForEach: "app", Due: pick("7d", "7d"),
			After: []string{"disable-accounts"}, Evidence: store.EvidenceReference},
		{Name: "hr-attestation", Title: "Attest that {name} holds no company data", Team: "hr", Due: pick("14d", "7d"),
			After: []string{"recover-asset", "transfer-data"}, Evidence: store.EvidenceAttestation},
		review,
	}
}

// Parse reads the playbooks section of a config: the built-in playbooks
// for every kind it leaves out. Unknown keys are errors.
func Parse(cfg *config.Config) (*Config, error) {
	def := Default()
	if cfg == nil || cfg.Playbooks.Kind == 0 {
		return def, nil
	}
	b, err := yaml.Marshal(&cfg.Playbooks)
	if err != nil {
		return nil, fmt.Errorf("playbooks: %w", err)
	}
	var c Config
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("playbooks: %v", err)
	}
	if c.Urgent == "" {
		c.Urgent = def.Urgent
	}
	for _, p := range []struct{ dst, def **Playbook }{{&c.Joiner, &def.Joiner}, {&c.Mover, &def.Mover},
		{&c.Leaver, &def.Leaver}, {&c.LeaverUrgent, &def.LeaverUrgent}} {
		if *p.dst == nil {
			*p.dst = *p.def
		}
	}
	return &c, nil
}

// Book returns the playbook of a case kind.
func (c *Config) Book(kind string) *Playbook {
	switch kind {
	case store.CaseJoiner:
		return c.Joiner
	case store.CaseMover:
		return c.Mover
	case store.CaseLeaver:
		return c.Leaver
	case store.CaseLeaverUrgent:
		return c.LeaverUrgent
	}
	return nil
}

var celEnv, _ = cel.NewEnv(cel.Variable("person", cel.MapType(cel.StringType, cel.DynType)))

func compileCond(where, expr string) (cel.Program, error) {
	ast, iss := celEnv.Compile(expr)
	if iss.Err() != nil {
		return nil, fmt.Errorf("%s: %s", where, strings.ReplaceAll(iss.Err().Error(), "<input>", "when"))
	}
	if ast.OutputType() != cel.BoolType && ast.OutputType() != cel.DynType {
		return nil, fmt.Errorf("%s: gives %s, want a boolean", where, ast.OutputType())
	}
	return celEnv.Program(ast)
}

// compiled is a checked playbook.
type compiled struct {
	steps  []Step
	when   []cel.Program // nil: always
	due    []time.Duration
	hasDue []bool
}

// Check validates every playbook (names, dependencies, actions, teams,
// evidence kinds, conditions, deadlines) and compiles it.
func (c *Config) compile() (map[string]*compiled, cel.Program, error) {
	out := map[string]*compiled{}
	for _, kind := range Kinds {
		b := c.Book(kind)
		cp := &compiled{}
		names := map[string]bool{}
		for i, s := range b.Steps {
			where := fmt.Sprintf("playbooks.%s.steps[%d]", kind, i)
			if s.Name == "" {
				return nil, nil, fmt.Errorf("%s: name is required", where)
			}
			where = fmt.Sprintf("playbook %s step %q", kind, s.Name)
			if names[s.Name] {
				return nil, nil, fmt.Errorf("%s: defined twice", where)
			}
			names[s.Name] = true
			if s.Title == "" {
				return nil, nil, fmt.Errorf("%s: title is required", where)
			}
			if s.Team == "" {
				return nil, nil, fmt.Errorf("%s: team is required (hr, it, security, manager, app_owner or a team name)", where)
			}
			if s.Action != "" && !slices.Contains(actions, s.Action) {
				return nil, nil, fmt.Errorf("%s: action %q: want one of %s (or none for a human task)", where, s.Action, strings.Join(actions, ", "))
			}
			if s.Action == ActionWebhook && s.URL == "" {
				return nil, nil, fmt.Errorf("%s: a webhook needs a url", where)
			}
			if s.Evidence != "" && !slices.Contains(evidenceKinds, s.Evidence) {
				return nil, nil, fmt.Errorf("%s: evidence %q: want one of %s", where, s.Evidence, strings.Join(evidenceKinds, ", "))
			}
			if s.ForEach != "" && s.ForEach != "asset" && s.ForEach != "app" {
				return nil, nil, fmt.Errorf("%s: for_each %q: want asset or app", where, s.ForEach)
			}
			d, ok, err := s.Due.Duration()
			if err != nil {
				return nil, nil, fmt.Errorf("%s: %v", where, err)
			}
			var prog cel.Program
			if strings.TrimSpace(s.When) != "" {
				if prog, err = compileCond(where+": when", s.When); err != nil {
					return nil, nil, err
				}
			}
			cp.steps = append(cp.steps, s)
			cp.when = append(cp.when, prog)
			cp.due = append(cp.due, d)
			cp.hasDue = append(cp.hasDue, ok)
		}
		for _, s := range b.Steps {
			for _, a := range s.After {
				if !names[a] || a == s.Name {
					return nil, nil, fmt.Errorf("playbook %s step %q: after %q: no such other step", kind, s.Name, a)
				}
			}
		}
		if err := cycle(b.Steps); err != nil {
			return nil, nil, fmt.Errorf("playbook %s: %w", kind, err)
		}
		out[kind] = cp
	}
	urgent, err := compileCond("playbooks.urgent", c.Urgent)
	if err != nil {
		return nil, nil, err
	}
	return out, urgent, nil
}

// cycle reports a dependency cycle, which would block a case for ever.
func cycle(steps []Step) error {
	after := map[string][]string{}
	for _, s := range steps {
		after[s.Name] = s.After
	}
	state := map[string]int{} // 1 visiting, 2 done
	var visit func(n string) error
	visit = func(n string) error {
		switch state[n] {
		case 1:
			return fmt.Errorf("steps depend on each other in a cycle through %q", n)
		case 2:
			return nil
		}
		state[n] = 1
		for _, a := range after[n] {
			if err := visit(a); err != nil {
				return err
			}
		}
		state[n] = 2
		return nil
	}
	for _, s := range steps {
		if err := visit(s.Name); err != nil {
			return err
		}
	}
	return nil
}

// Check validates the playbooks of cfg as New would.
func Check(cfg *config.Config) error {
	pb, err := Parse(cfg)
	if err != nil {
		return err
	}
	_, _, err = pb.compile()
	return err
}
