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

// ActOnReviewItem says whether the caller may decide an access-review
// item: its reviewer, a stand-in for them (their own manager while they
// are away or gone: standIns), the person the item was escalated to near
// the campaign's deadline (EscalatedTo: the reviewer's manager), or, for
// an item a team reviews, a member or lead of that team. Nobody decides
// on their own access (four eyes), whatever their roles.
func (p Principal) ActOnReviewItem(it store.ReviewItem, standIns []string) error {
	if p.Person == "" {
		return Forbidden("review item %d is decided by a person (its reviewer), not by %s", it.ID, p.Describe())
	}
	if it.EmployeeID == p.Person {
		return Forbidden("review item %d is %s's own access: nobody reviews their own access (four eyes)", it.ID, p.Person)
	}
	if it.Reviewer != "" && (p.Person == it.Reviewer || slices.Contains(standIns, p.Person)) {
		return nil
	}
	if it.EscalatedTo != "" && p.Person == it.EscalatedTo {
		return nil
	}
	if it.Team != "" && (slices.Contains(p.Teams, it.Team) || slices.Contains(p.Leads, it.Team)) {
		return nil
	}
	who := "reviewer " + it.Reviewer + " (or a stand-in while they are away)"
	if it.EscalatedTo != "" {
		who = "reviewer " + it.Reviewer + " or " + it.EscalatedTo + " (escalated to), or a stand-in while they are away"
	}
	if it.Reviewer == "" {
		who = "a member or the lead of team " + it.Team
	}
	return Forbidden("review item %d is decided by %s; not by %s", it.ID, who, p.Describe())
}
