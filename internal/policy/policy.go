// Package policy decides who should have access to what: roles grant apps
// and entitlements when a CEL condition over the person holds, and
// separation-of-duties rules withhold a grant that would complete a
// forbidden combination.
package policy

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/cel-go/cel"
	celast "github.com/google/cel-go/common/ast"

	"github.com/tango-iga/tango/internal/config"
	"github.com/tango-iga/tango/internal/store"
)

// Fields a role condition may read from `person`.
var Fields = []string{"employee_id", "display_name", "email", "title", "department", "team",
	"business_unit", "manager_id", "employment_type", "status", "start_date", "end_date",
	"period", "tenure_days", "attributes", "manager", "source"}

// Fields of `person.manager`.
var ManagerFields = []string{"employee_id", "display_name", "email", "title", "department", "status"}

// Grant is one piece of access: an account in an app, or an entitlement in
// it (Entitlement empty: the account itself).
type Grant struct {
	App         string `json:"app"`
	Entitlement string `json:"entitlement,omitempty"`
}

// Compare orders grants by app, then entitlement (the account first).
func (g Grant) Compare(o Grant) int {
	if c := strings.Compare(g.App, o.App); c != 0 {
		return c
	}
	return strings.Compare(g.Entitlement, o.Entitlement)
}

func (g Grant) String() string {
	if g.Entitlement == "" {
		return g.App
	}
	return g.App + ":" + g.Entitlement
}

// Violation is a grant withheld because it would break a
// separation-of-duties rule.
type Violation struct {
	Rule     string   `json:"rule"`
	Withheld Grant    `json:"withheld"`
	Role     string   `json:"role"`
	Holds    []string `json:"holds"` // the other entitlements of the rule the person gets
}

type role struct {
	name   string
	names  []string // []string{name} with cap 1: shared, since appending to it copies
	prog   cel.Program
	grants []Grant
}

type sod struct {
	name  string
	items []Grant
}

// Policy is a compiled set of roles and rules.
type Policy struct {
	roles []role
	sod   []sod
	apps  []string
}

var env, _ = cel.NewEnv(cel.Variable("person", cel.MapType(cel.StringType, cel.DynType)))

// Compile checks every role of the config; errors name the role and the
// position in its expression.
func Compile(cfg *config.Config) (*Policy, error) {
	p := &Policy{}
	for _, a := range cfg.Apps {
		p.apps = append(p.apps, a.Name)
	}
	for _, r := range cfg.Roles {
		prog, err := compileRole(r.Name, r.When)
		if err != nil {
			return nil, err
		}
		ro := role{name: r.Name, names: []string{r.Name}[:1:1], prog: prog}
		for _, g := range r.Grants {
			if !slices.Contains(p.apps, g.App) {
				return nil, fmt.Errorf("role %q: grants unknown app %q", r.Name, g.App)
			}
			ro.grants = append(ro.grants, Grant{App: g.App})
			for _, e := range g.Entitlements {
				ro.grants = append(ro.grants, Grant{App: g.App, Entitlement: e})
			}
		}
		p.roles = append(p.roles, ro)
	}
	for _, r := range cfg.SoD {
		s := sod{name: r.Name}
		for _, e := range r.Entitlements {
			app, ent, _ := strings.Cut(e, ":")
			s.items = append(s.items, Grant{App: app, Entitlement: ent})
		}
		p.sod = append(p.sod, s)
	}
	return p, nil
}

func compileRole(name, expr string) (cel.Program, error) {
	if strings.TrimSpace(expr) == "" {
		return nil, fmt.Errorf("role %q: when is empty; write a condition such as person.status == \"active\"", name)
	}
	ast, iss := env.Compile(expr)
	if iss.Err() != nil {
		return nil, fmt.Errorf("role %q: when: %s", name, strings.ReplaceAll(iss.Err().Error(), "<input>", "when"))
	}
	if ast.OutputType() != cel.BoolType && ast.OutputType() != cel.DynType {
		return nil, fmt.Errorf("role %q: when gives %s, want a boolean", name, ast.OutputType())
	}
	if err := checkFields(ast); err != nil {
		return nil, fmt.Errorf("role %q: when: %w", name, err)
	}
	// Conditions come from the config, not from outside input: no cost
	// tracking (it doubles evaluation time); constants folded once.
	return env.Program(ast, cel.EvalOptions(cel.OptOptimize))
}

// checkFields rejects `person.x` and `person.manager.x` for unknown x, so a
// typo is a load error, not a role that silently never matches.
func checkFields(ast *cel.Ast) error {
	native := ast.NativeRep()
	info := native.SourceInfo()
	var err error
	celast.PreOrderVisit(celast.NavigateAST(native), celast.NewExprVisitor(func(e celast.Expr) {
		if err != nil || e.Kind() != celast.SelectKind {
			return
		}
		sel := e.AsSelect()
		op := sel.Operand()
		known := []string(nil)
		path := ""
		switch {
		case op.Kind() == celast.IdentKind && op.AsIdent() == "person":
			known, path = Fields, "person."
		case op.Kind() == celast.SelectKind && op.AsSelect().FieldName() == "manager" &&
			op.AsSelect().Operand().Kind() == celast.IdentKind && op.AsSelect().Operand().AsIdent() == "person":
			known, path = ManagerFields, "person.manager."
		}
		if known != nil && !slices.Contains(known, sel.FieldName()) {
			loc := info.GetStartLocation(e.ID())
			err = fmt.Errorf("%d:%d: unknown attribute %s%s (known: %s)", loc.Line(), loc.Column()+1, path, sel.FieldName(), strings.Join(known, ", "))
		}
	}))
	return err
}

// Input is a person with what a condition may need besides its own record.
type Input struct {
	Person  *store.Person
	Manager *store.Person // nil when none
	// Requests are the person's approved access requests: each grants its
	// entitlement (and the app's account) as long as it is active.
	Requests []Requested
}

// Requested is an entitlement an approved access request grants.
type Requested struct {
	Grant
	Request   int64     // the request's ID
	DecidedAt time.Time // when it was approved
	// ReviewItem is the access review item whose modify decision made
	// the request (0: a person asked).
	ReviewItem int64
}

// FromRequests turns approved requests into the grants they give.
func FromRequests(rs []store.Request) []Requested {
	var out []Requested
	for _, r := range rs {
		if r.State == store.RequestApproved {
			out = append(out, Requested{Grant: Grant{App: r.App, Entitlement: r.Entitlement}, Request: r.ID, DecidedAt: r.DecidedAt, ReviewItem: r.ReviewItem})
		}
	}
	return out
}

// WithoutRevoked takes out of want what access reviews revoked (revs, the
// person's revocations): the grant itself or, for a revoked account, every
// grant of the app, whether a role or a request gives it. A revocation
// gives way to an access request approved after it (reqs: the person asked
// again and was granted it). It also returns the review's reason for each
// revoked grant, for the operations that remove it.
func WithoutRevoked(want []Reasoned, reqs []Requested, revs []store.Revocation) ([]Reasoned, map[Grant]string) {
	if len(revs) == 0 {
		return want, nil
	}
	why := func(r store.Revocation) string {
		return fmt.Sprintf("access review item #%d revoked it: %s", r.Item, r.Reason)
	}
	reasons := make(map[Grant]string, len(revs))
	for _, r := range revs {
		reasons[Grant{App: r.App, Entitlement: r.Entitlement}] = why(r)
	}
	out := want[:0:0]
	for _, w := range want {
		keep := true
		for _, r := range revs {
			if r.App != w.App || (r.Entitlement != "" && !strings.EqualFold(r.Entitlement, w.Entitlement)) {
				continue
			}
			later := slices.ContainsFunc(reqs, func(q Requested) bool {
				return slices.Contains(w.Requests, q.Request) && q.DecidedAt.After(r.CreatedAt)
			})
			if !later {
				keep = false
				reasons[w.Grant] = why(r)
			}
		}
		if keep {
			out = append(out, w)
		}
	}
	return out, reasons
}

// Activation builds the `person` value for CEL.
func Activation(in Input, now time.Time) map[string]any {
	m := make(map[string]any, 17)
	fill(m, make(map[string]any, 6), in, now)
	return m
}

// fill writes the `person` value into m (and its manager into mgr),
// overwriting what an earlier person left there.
func fill(m, mgr map[string]any, in Input, now time.Time) {
	p := in.Person
	attrs := p.Attributes
	if attrs == nil {
		attrs = map[string]string{}
	}
	tenure := int64(0)
	if p.StartDate != "" {
		if t, err := time.Parse("2006-01-02", p.StartDate); err == nil {
			tenure = int64(now.Sub(t).Hours() / 24)
		}
	}
	m["employee_id"], m["display_name"], m["email"], m["title"] = p.EmployeeID, p.DisplayName, p.Email, p.Title
	m["department"], m["team"], m["business_unit"], m["manager_id"] = p.Department, p.Team, p.BusinessUnit, p.ManagerID
	m["employment_type"], m["status"], m["start_date"], m["end_date"] = p.EmploymentType, p.Status, p.StartDate, p.EndDate
	m["period"], m["tenure_days"], m["attributes"], m["source"] = int64(p.Period), tenure, attrs, p.Source
	var mp store.Person
	if in.Manager != nil {
		mp = *in.Manager
	}
	mgr["employee_id"], mgr["display_name"], mgr["email"] = mp.EmployeeID, mp.DisplayName, mp.Email
	mgr["title"], mgr["department"], mgr["status"] = mp.Title, mp.Department, mp.Status
	m["manager"] = mgr
}

// Reasoned is a grant with the roles and approved requests that give it.
type Reasoned struct {
	Grant
	Roles    []string `json:"roles"`
	Requests []int64  `json:"requests,omitempty"`
}

// Desired is the access a person should have: every grant of every role
// whose condition holds and of every approved request (in.Requests), minus
// grants withheld by separation of duties. A person who has left gets
// nothing, whatever the roles and requests say.
func (p *Policy) Desired(in Input, now time.Time) ([]Reasoned, []Violation, error) {
	return p.desired(in, now, newScratch())
}

// scratch is an activation reused from one person to the next.
type scratch struct {
	act     map[string]any
	person  map[string]any
	manager map[string]any
}

func newScratch() *scratch {
	s := &scratch{person: make(map[string]any, 17), manager: make(map[string]any, 6)}
	s.act = map[string]any{"person": s.person}
	return s
}

func (p *Policy) desired(in Input, now time.Time, sc *scratch) ([]Reasoned, []Violation, error) {
	if in.Person.Status == store.StatusLeft {
		return nil, nil, nil
	}
	fill(sc.person, sc.manager, in, now)
	act := sc.act
	out := make([]Reasoned, 0, 16)
	var violations []Violation
	for _, r := range p.roles {
		v, _, err := r.prog.Eval(act)
		if err != nil {
			return nil, nil, fmt.Errorf("role %q for %s: %v", r.name, in.Person.EmployeeID, err)
		}
		if b, ok := v.Value().(bool); !ok || !b {
			continue
		}
	grants:
		for _, g := range r.grants {
			for i := range out {
				if out[i].Grant == g {
					out[i].Roles = append(out[i].Roles, r.name)
					continue grants
				}
			}
			if v := p.breaks(g, out); v != nil {
				v.Role = r.name
				violations = append(violations, *v)
				continue
			}
			out = append(out, Reasoned{Grant: g, Roles: r.names})
		}
	}
	for _, rq := range in.Requests {
		for _, g := range []Grant{{App: rq.App}, rq.Grant} {
			if !slices.Contains(p.apps, g.App) {
				continue
			}
			if i := slices.IndexFunc(out, func(r Reasoned) bool { return r.Grant == g }); i >= 0 {
				if !slices.Contains(out[i].Requests, rq.Request) {
					out[i].Requests = append(slices.Clip(out[i].Requests), rq.Request)
				}
				continue
			}
			if v := p.breaks(g, out); v != nil {
				v.Role = fmt.Sprintf("request #%d", rq.Request)
				violations = append(violations, *v)
				continue
			}
			out = append(out, Reasoned{Grant: g, Roles: []string{}, Requests: []int64{rq.Request}})
		}
	}
	slices.SortFunc(out, func(a, b Reasoned) int { return a.Grant.Compare(b.Grant) })
	return out, violations, nil
}

// breaks reports the rule g would complete given the grants already held.
func (p *Policy) breaks(g Grant, held []Reasoned) *Violation {
	for _, s := range p.sod {
		if !slices.Contains(s.items, g) {
			continue
		}
		var holds []string
		complete := true
		for _, it := range s.items {
			if it == g {
				continue
			}
			if !slices.ContainsFunc(held, func(r Reasoned) bool { return r.Grant == it }) {
				complete = false
				break
			}
			holds = append(holds, it.String())
		}
		if complete {
			return &Violation{Rule: s.name, Withheld: g, Holds: holds}
		}
	}
	return nil
}

// Check reports the separation-of-duties rule that adding g to held would
// break, if any (used when an access request is made and before each
// approval).
func (p *Policy) Check(g Grant, held []Grant) *Violation {
	if !slices.ContainsFunc(p.sod, func(s sod) bool { return slices.Contains(s.items, g) }) {
		return nil // in no rule (most grants): nothing to allocate
	}
	rs := make([]Reasoned, len(held))
	for i, h := range held {
		rs[i].Grant = h
	}
	return p.breaks(g, rs)
}

// Condition is a compiled CEL condition over `person` (and
// `person.manager`), as role conditions are: what the authorization layer
// uses to give Tango's own roles from HR data.
type Condition struct {
	prog cel.Program
}

// CompileCondition compiles a condition; errors name what (such as
// `authorization.roles.hr`) and the position in the expression.
func CompileCondition(what, expr string) (*Condition, error) {
	prog, err := compileRole(what, expr)
	if err != nil {
		return nil, err
	}
	return &Condition{prog: prog}, nil
}

// Holds evaluates the condition for a person; an error or a non-boolean
// answer is false with the error.
func (c *Condition) Holds(in Input, now time.Time) (bool, error) {
	v, _, err := c.prog.Eval(map[string]any{"person": Activation(in, now)})
	if err != nil {
		return false, err
	}
	b, ok := v.Value().(bool)
	return ok && b, nil
}
