package authz

import (
	"slices"

	"github.com/tango-iga/tango/internal/store"
)

// The rules over single records: whose data a caller may see, which tasks
// they may complete or hand on. Handlers ask these after the route's
// permission has let the caller in.

// MaySeePerson: persons.read, the person themself, or their manager.
func (p Principal) MaySeePerson(target store.Person) bool {
	if p.Can(PersonsRead) {
		return true
	}
	return p.Person != "" && (target.EmployeeID == p.Person || target.ManagerID == p.Person)
}

// SeePerson is MaySeePerson as an error naming the rule.
func (p Principal) SeePerson(target store.Person) error {
	if p.MaySeePerson(target) {
		return nil
	}
	return Forbidden("%s may not see person %s: only the person, their manager and the roles with %s (%s) may",
		p.Describe(), target.EmployeeID, PersonsRead, joinRoles(roleNamesWith(PersonsRead)))
}

// ActOnTask says whether the caller may complete or reassign a task: a
// team's task only that team (or its lead); a manager's task only that
// manager, the one it was escalated to, or a stand-in (the manager's own
// manager while they are away or gone: standIns). Nobody acts on a task
// about themself.
func (p Principal) ActOnTask(t store.Task, standIns []string) error {
	if p.Person != "" && t.Person == p.Person {
		return Forbidden("task %d is about %s: nobody completes or hands on a task about themself (four eyes)", t.ID, p.Person)
	}
	if p.Person != "" && (p.Person == t.EscalatedTo || (t.Assignee != "" && p.Person == t.Assignee)) {
		return nil
	}
	if t.Team == "manager" {
		if p.Person != "" && slices.Contains(standIns, p.Person) {
			return nil
		}
		return Forbidden("task %d belongs to the manager %s: only they, a stand-in while they are away, or whom it was escalated to may act on it; not %s",
			t.ID, t.Assignee, p.Describe())
	}
	if slices.Contains(p.Teams, t.Team) || slices.Contains(p.Leads, t.Team) {
		return nil
	}
	return Forbidden("task %d belongs to team %s: only its members and its lead may act on it; %s is not one (members of hr, it and security hold those roles; other teams are authorization.teams)",
		t.ID, t.Team, p.Describe())
}

func joinRoles(rs []string) string {
	out := ""
	for i, r := range rs {
		if i > 0 {
			out += ", "
		}
		out += r
	}
	return out
}
