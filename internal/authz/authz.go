// Package authz is Tango's one permission model: the roles a caller holds,
// the permissions each role gives, and the rules over single records (whose
// person data, whose task). Every door in (the /api/v1 route table, the web
// pages, the CLI table) names a Permission; the HTTP middleware in
// internal/api and the CLI's check both ask Principal.Can, and handlers ask
// the record rules below. Nothing else decides who may do what.
package authz

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/tango-iga/tango/internal/domain"
)

// Role is a set of permissions a caller holds.
type Role string

// The roles. hr, it, security, auditor and admin are held by config
// (authorization.roles: CEL over the person, identity-provider groups,
// named people) or, for service tokens, by the token itself. manager,
// app-owner and employee follow from HR data and the catalogue. hr-feed is
// for service tokens that only bring HR snapshots in.
const (
	HR       Role = "hr"
	IT       Role = "it"
	Security Role = "security"
	Auditor  Role = "auditor"
	Admin    Role = "admin"
	AppOwner Role = "app-owner"
	Manager  Role = "manager"
	Employee Role = "employee"
	HRFeed   Role = "hr-feed"
)

// Configurable are the roles the config gives to persons.
var Configurable = []Role{HR, IT, Security, Auditor, Admin}

// ServiceRoles are the roles a service token may carry.
var ServiceRoles = []Role{HR, IT, Security, Auditor, Admin, HRFeed}

// Roles lists every role, for tables and tests.
var Roles = []Role{HR, IT, Security, Auditor, Admin, AppOwner, Manager, Employee, HRFeed}

// ParseRole reads a role name as given to `tango token create --role`.
func ParseRole(s string) (Role, error) {
	r := Role(strings.TrimSpace(strings.ToLower(s)))
	if slices.Contains(ServiceRoles, r) {
		return r, nil
	}
	names := make([]string, len(ServiceRoles))
	for i, x := range ServiceRoles {
		names[i] = string(x)
	}
	return "", domain.E(domain.KindInvalid, fmt.Sprintf("role %q: a token may carry %s", s, strings.Join(names, ", ")))
}

// Permission is what an action asks of its caller.
type Permission string

// The permissions. Public and SignedIn are checked by the middleware
// alone; the others are held through roles. "Self" actions (a person's own
// data, requests, tasks) are SignedIn plus a record rule in the handler.
const (
	Public   Permission = "public"    // anyone, signed in or not
	SignedIn Permission = "signed-in" // any live caller; the handler applies a record rule

	PersonsRead   Permission = "persons.read"   // everyone's HR data
	ImportsRead   Permission = "imports.read"   // HR feeds and their results
	ImportsWrite  Permission = "imports.write"  // bring an HR snapshot in
	ImportsDecide Permission = "imports.decide" // approve or reject a held import
	EventsRead    Permission = "events.read"    // everyone's lifecycle events
	AuditRead     Permission = "audit.read"     // the audit trail
	AppsRead      Permission = "apps.read"      // apps, their health and queues
	OpsRead       Permission = "operations.read"
	OpsWrite      Permission = "operations.write" // reconcile, retry, release
	FindingsRead  Permission = "findings.read"
	CasesRead     Permission = "cases.read" // every case
	TasksRead     Permission = "tasks.read" // every task
	NotesRead     Permission = "notifications.read"
	MetricsRead   Permission = "metrics.read"  // lifecycle and Prometheus metrics
	RequestsRead  Permission = "requests.read" // every access request
	RequestsAct   Permission = "requests.act"  // ask for access, decide one's approvals (a person)
	AwayAny       Permission = "away.any"      // mark anyone away
	TokensAdmin   Permission = "tokens.admin"  // tokens, local accounts, sessions
	PolicyRead    Permission = "policy.read"   // the plan of who should have what
	EvidenceRead  Permission = "evidence.read" // evidence bundles for auditors

	// Access reviews (internal/review). Reviewers decide their own items
	// as signed-in persons under the record rule ActOnReviewItem.
	ReviewsRead   Permission = "reviews.read"   // every campaign and item
	ReviewsManage Permission = "reviews.manage" // start and close campaigns
)

// Permissions lists every permission, for the route table's test.
var Permissions = []Permission{Public, SignedIn, PersonsRead, ImportsRead, ImportsWrite, ImportsDecide,
	EventsRead, AuditRead, AppsRead, OpsRead, OpsWrite, FindingsRead, CasesRead, TasksRead, NotesRead,
	MetricsRead, RequestsRead, RequestsAct, AwayAny, TokensAdmin, PolicyRead, EvidenceRead,
	ReviewsRead, ReviewsManage}

// grants is the one table of what each role may do.
var grants = map[Role][]Permission{
	HR:       {PersonsRead, ImportsRead, ImportsWrite, ImportsDecide, EventsRead, CasesRead, TasksRead, MetricsRead, AwayAny, PolicyRead},
	IT:       {AppsRead, OpsRead, OpsWrite, FindingsRead, CasesRead, TasksRead, MetricsRead, PolicyRead},
	Security: {PersonsRead, EventsRead, AuditRead, AppsRead, OpsRead, FindingsRead, CasesRead, TasksRead, MetricsRead, RequestsRead, PolicyRead, EvidenceRead},
	Auditor: {PersonsRead, ImportsRead, EventsRead, AuditRead, AppsRead, OpsRead, FindingsRead, CasesRead, TasksRead,
		NotesRead, MetricsRead, RequestsRead, PolicyRead, EvidenceRead},
	Admin:    {TokensAdmin, NotesRead, MetricsRead, AwayAny},
	HRFeed:   {ImportsRead, ImportsWrite},
	AppOwner: {RequestsAct},
	Manager:  {RequestsAct},
	Employee: {RequestsAct},
}

// reviewGrants are the access-review permissions: reviews are Security's
// control, so Security starts and closes campaigns and auditors read them.
// HR does not manage them, not even the manager kind: the reviewers are
// the managers themselves, who decide their items as signed-in persons.
var reviewGrants = map[Role][]Permission{
	Security: {ReviewsRead, ReviewsManage},
	Auditor:  {ReviewsRead},
}

func init() {
	for r, ps := range reviewGrants {
		grants[r] = append(grants[r], ps...)
	}
}

// Grants returns the permissions a role gives, sorted.
func Grants(r Role) []Permission {
	out := slices.Clone(grants[r])
	slices.Sort(out)
	return out
}

// Principal is who calls: a person (through a session or a token bound to
// them) or a service (a token with its own roles).
type Principal struct {
	// Person is the employee ID acted as; empty for a service.
	Person string
	Source string
	// Roles held now; a person always holds employee.
	Roles []Role
	// Teams the caller completes and reassigns tasks for (hr, it and
	// security from those roles, others from authorization.teams), and
	// the teams they lead.
	Teams []string
	Leads []string
	// Via is how the caller came in: "token:NAME", "session:ID".
	Via string
}

// IsPerson reports whether the caller acts as a person.
func (p Principal) IsPerson() bool { return p.Person != "" }

// Has reports whether the caller holds a role.
func (p Principal) Has(r Role) bool { return slices.Contains(p.Roles, r) }

// Can reports whether the caller holds a permission.
func (p Principal) Can(perm Permission) bool {
	switch perm {
	case Public:
		return true
	case SignedIn:
		return p.Person != "" || len(p.Roles) > 0
	}
	for _, r := range p.Roles {
		if slices.Contains(grants[r], perm) {
			return true
		}
	}
	return false
}

// Actor is how the caller is named in the audit trail.
func (p Principal) Actor() string {
	if p.Person == "" {
		return p.Via
	}
	a := "person:" + p.Person
	if p.Via != "" {
		a += " via " + p.Via
	}
	return a
}

// Describe names the caller and its roles for an error message.
func (p Principal) Describe() string {
	names := make([]string, len(p.Roles))
	for i, r := range p.Roles {
		names[i] = string(r)
	}
	sort.Strings(names)
	who := p.Via
	if p.Person != "" {
		who = "person " + p.Person
	}
	if len(names) == 0 {
		return who + " (no role)"
	}
	return who + " (roles: " + strings.Join(names, ", ") + ")"
}

// Forbidden is the error of a refused action, of kind forbidden (403).
func Forbidden(format string, a ...any) error {
	return domain.E(domain.KindForbidden, fmt.Sprintf(format, a...))
}

// Need refuses a caller without perm, naming the action.
func (p Principal) Need(perm Permission, action string) error {
	if p.Can(perm) {
		return nil
	}
	return Forbidden("%s needs the permission %s, which %s does not hold (roles giving it: %s)",
		action, perm, p.Describe(), strings.Join(roleNamesWith(perm), ", "))
}

// holders lists the roles giving a permission.
func roleNamesWith(perm Permission) []string {
	var out []string
	for _, r := range Roles {
		if slices.Contains(grants[r], perm) {
			out = append(out, string(r))
		}
	}
	if len(out) == 0 {
		return []string{"none"}
	}
	return out
}

// Intersect keeps the roles of held that are also in allowed: a token
// bound to a person never does more than the person.
func Intersect(held, allowed []Role) []Role {
	var out []Role
	for _, r := range held {
		if slices.Contains(allowed, r) {
			out = append(out, r)
		}
	}
	return out
}

type ctxKey struct{}

// WithPrincipal is ctx carrying the caller the HTTP middleware let in.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, ctxKey{}, p)
}

// From is the caller ctx carries (the zero Principal, who may do nothing
// beyond Public, when none).
func From(ctx context.Context) Principal {
	p, _ := ctx.Value(ctxKey{}).(Principal)
	return p
}
