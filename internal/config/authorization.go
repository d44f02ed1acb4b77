package config

import (
	"fmt"
	"sort"
	"strings"
)

// Authorization says who holds Tango's own roles and who is in which team.
// Like birthright access, it follows HR: a condition over the person, the
// groups the identity provider puts in the sign-in token, or named people.
//
//	authorization:
//	  roles:
//	    hr:       {when: 'person.department == "HR"', groups: [tango-hr]}
//	    security: {people: [PCK0271]}
//	  teams:
//	    it: {lead: WFV0687}
//	    finance-apps: {when: 'person.team == "Finance Systems"'}
type Authorization struct {
	Roles map[string]Holders `yaml:"roles"`
	Teams map[string]Holders `yaml:"teams"`
}

// Holders is who holds a role or belongs to a team: any of the three.
type Holders struct {
	// When is a CEL condition over `person` (as roles[].when).
	When string `yaml:"when"`
	// Groups are identity-provider groups (from the OIDC groups claim).
	Groups []string `yaml:"groups"`
	// People are employee IDs.
	People []string `yaml:"people"`
	// Lead is the employee ID of a team's lead (teams only): they may
	// complete and reassign the team's tasks too.
	Lead string `yaml:"lead"`
}

// AuthorizationRoles are the role names authorization.roles may give.
var AuthorizationRoles = []string{"hr", "it", "security", "auditor", "admin"}

func (a *Authorization) finish() error {
	errs := &Errors{}
	names := make([]string, 0, len(a.Roles))
	for n := range a.Roles {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		h := a.Roles[n]
		known := false
		for _, r := range AuthorizationRoles {
			known = known || r == n
		}
		if !known {
			errs.Add(fmt.Errorf("authorization.roles.%s: unknown role (the config gives %s; manager, app-owner and employee follow from HR data and the catalogue)", n, strings.Join(AuthorizationRoles, ", ")))
		}
		if h.Lead != "" {
			errs.Add(fmt.Errorf("authorization.roles.%s: lead is for teams (authorization.teams.%s.lead)", n, n))
		}
		errs.Add(h.check("authorization.roles." + n))
	}
	for n, h := range a.Teams {
		if strings.TrimSpace(n) == "" {
			errs.Add(fmt.Errorf("authorization.teams: a team has an empty name"))
		}
		errs.Add(h.check("authorization.teams." + n))
	}
	return errs.Err()
}

func (h Holders) check(where string) error {
	errs := &Errors{}
	for i, g := range h.Groups {
		if strings.TrimSpace(g) == "" {
			errs.Add(fmt.Errorf("%s.groups[%d] is empty", where, i))
		}
	}
	for i, p := range h.People {
		if strings.TrimSpace(p) == "" {
			errs.Add(fmt.Errorf("%s.people[%d] is empty", where, i))
		}
	}
	return errs.Err()
}
