package authz

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/tango-iga/tango/internal/config"
	"github.com/tango-iga/tango/internal/domain"
	"github.com/tango-iga/tango/internal/policy"
	"github.com/tango-iga/tango/internal/store"
)

// Directory is what role resolution reads of the workforce.
type Directory interface {
	Person(ctx context.Context, source, employeeID string) (store.Person, error)
	Persons(ctx context.Context, f store.PersonFilter) ([]store.Person, error)
}

// holders is a compiled config.Holders.
type holders struct {
	cond   *policy.Condition
	groups []string
	people []string
	lead   string
}

func compileHolders(where string, h config.Holders) (holders, error) {
	out := holders{groups: h.Groups, people: h.People, lead: h.Lead}
	if strings.TrimSpace(h.When) != "" {
		c, err := policy.CompileCondition(where, h.When)
		if err != nil {
			return out, err
		}
		out.cond = c
	}
	return out, nil
}

func (h holders) hold(in policy.Input, groups []string, now time.Time) (bool, error) {
	if slices.Contains(h.people, in.Person.EmployeeID) {
		return true, nil
	}
	for _, g := range groups {
		if slices.Contains(h.groups, g) {
			return true, nil
		}
	}
	if h.cond == nil {
		return false, nil
	}
	return h.cond.Holds(in, now)
}

// Resolver gives a person the roles and teams the config and HR data say
// they hold now.
type Resolver struct {
	roles  map[Role]holders
	teams  map[string]holders
	owners map[string]bool // employee IDs owning a requestable entitlement
	dir    Directory
	now    func() time.Time
}

// NewResolver compiles the config's authorization section; errors name the
// key and the position in a condition.
func NewResolver(cfg *config.Config, dir Directory, now func() time.Time) (*Resolver, error) {
	r := &Resolver{roles: map[Role]holders{}, teams: map[string]holders{}, owners: map[string]bool{}, dir: dir, now: now}
	var errs []error
	for name, h := range cfg.Authorization.Roles {
		c, err := compileHolders("authorization.roles."+name, h)
		errs = append(errs, err)
		r.roles[Role(name)] = c
	}
	for name, h := range cfg.Authorization.Teams {
		c, err := compileHolders("authorization.teams."+name, h)
		errs = append(errs, err)
		r.teams[name] = c
	}
	for _, a := range cfg.Apps {
		for _, q := range a.Requestable {
			if q.Owner != "" {
				r.owners[q.Owner] = true
			}
		}
	}
	return r, errors.Join(errs...)
}

// ErrLeft: the person of a session or token is no longer in the workforce.
var ErrLeft = domain.E(domain.KindUnauthorized, "the person has left")

// ForPerson is the principal of a person: employee always, manager when
// someone active reports to them, app-owner when they own a requestable
// entitlement, and the config's roles and teams. A person who has left,
// or is not yet active, holds nothing: ErrLeft.
func (r *Resolver) ForPerson(ctx context.Context, p store.Person, groups []string, via string) (Principal, error) {
	if p.Status == store.StatusLeft {
		return Principal{}, fmt.Errorf("%w: %s left on %s; their sessions and tokens no longer work", ErrLeft, p.EmployeeID, p.EndDate)
	}
	pr := Principal{Person: p.EmployeeID, Source: p.Source, Via: via, Roles: []Role{Employee}}
	in := policy.Input{Person: &p}
	if p.ManagerID != "" {
		if m, err := r.dir.Person(ctx, p.Source, p.ManagerID); err == nil {
			in.Manager = &m
		}
	}
	now := r.now()
	names := make([]string, 0, len(r.roles))
	for role := range r.roles {
		names = append(names, string(role))
	}
	sort.Strings(names)
	for _, name := range names {
		ok, err := r.roles[Role(name)].hold(in, groups, now)
		if err != nil {
			return Principal{}, fmt.Errorf("authorization.roles.%s for %s: %w", name, p.EmployeeID, err)
		}
		if ok {
			pr.Roles = append(pr.Roles, Role(name))
		}
	}
	reports, err := r.dir.Persons(ctx, store.PersonFilter{Source: p.Source, ManagerID: p.EmployeeID, Status: store.StatusActive, Limit: 1})
	if err != nil {
		return Principal{}, err
	}
	if len(reports) > 0 {
		pr.Roles = append(pr.Roles, Manager)
	}
	if r.owners[p.EmployeeID] {
		pr.Roles = append(pr.Roles, AppOwner)
	}
	pr.Teams = teamsOf(pr.Roles)
	teamNames := make([]string, 0, len(r.teams))
	for t := range r.teams {
		teamNames = append(teamNames, t)
	}
	sort.Strings(teamNames)
	for _, t := range teamNames {
		h := r.teams[t]
		if h.lead == p.EmployeeID {
			pr.Leads = append(pr.Leads, t)
		}
		ok, err := h.hold(in, groups, now)
		if err != nil {
			return Principal{}, fmt.Errorf("authorization.teams.%s for %s: %w", t, p.EmployeeID, err)
		}
		if ok && !slices.Contains(pr.Teams, t) {
			pr.Teams = append(pr.Teams, t)
		}
	}
	return pr, nil
}

// ForService is the principal of a service token: exactly its roles.
func ForService(roles []Role, via string) Principal {
	rs := slices.Clone(roles)
	return Principal{Roles: rs, Teams: teamsOf(rs), Via: via}
}

// teamsOf: holding hr, it or security makes one a member of that team.
func teamsOf(roles []Role) []string {
	var out []string
	for _, r := range []Role{HR, IT, Security} {
		if slices.Contains(roles, r) {
			out = append(out, string(r))
		}
	}
	return out
}
