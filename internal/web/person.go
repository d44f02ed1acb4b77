package web

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/tango-iga/tango/internal/audit"
	"github.com/tango-iga/tango/internal/authz"
	"github.com/tango-iga/tango/internal/request"
	"github.com/tango-iga/tango/internal/store"
)

// attrRow is one attribute Tango holds about a person and where it came
// from: the HR source and the import (or push) that last set it.
type attrRow struct {
	Name, Key, Value string
	Source           string
	Import           string
	At               time.Time
}

// roleWhy is a role of the policy that gives a grant, with its condition
// over HR attributes.
type roleWhy struct {
	Name, When string
}

// accessRow is an account or entitlement Tango gave and why: the roles
// (and their conditions) and the approved requests that give it, the event
// that planned it, and the last operation that carried it to the app.
type accessRow struct {
	store.GrantRow
	Roles    []roleWhy
	Requests []int64
	// ReviewItems made the requests: a reviewer's modify decision.
	ReviewItems []int64
	Event       string
	LastOp      *store.Operation
}

type personData struct {
	Person   store.Person
	Self     bool
	Attrs    []attrRow
	Access   []accessRow
	Findings []store.Finding
	Events   []store.Event
	Cases    []store.Case
	Requests []store.Request
	Reads    []audit.Entry
}

// loadPerson gathers what a person page shows. The caller has passed
// SeePerson for p.
func (pg *Pages) loadPerson(ctx context.Context, p store.Person, reads bool) (personData, error) {
	d := personData{Person: p}
	evs, err := pg.o.Store.Events(ctx, store.EventFilter{Source: p.Source, EmployeeID: p.EmployeeID, Limit: 1000})
	if err != nil {
		return d, err
	}
	d.Events = evs
	d.Attrs = attributes(p, evs)
	if d.Access, err = pg.access(ctx, p); err != nil {
		return d, err
	}
	if d.Findings, err = pg.o.Store.FindingsAbout(ctx, p.EmployeeID, "open"); err != nil {
		return d, err
	}
	if d.Cases, err = pg.o.Store.Cases(ctx, store.CaseFilter{Person: p.EmployeeID, Limit: 200}); err != nil {
		return d, err
	}
	seen := map[int64]bool{}
	for _, f := range []store.RequestFilter{{Requester: p.EmployeeID, Limit: 200}, {Beneficiary: p.EmployeeID, Limit: 200}} {
		rs, err := pg.o.Store.Requests(ctx, f)
		if err != nil {
			return d, err
		}
		for _, r := range rs {
			if !seen[r.ID] {
				seen[r.ID] = true
				d.Requests = append(d.Requests, r)
			}
		}
	}
	sort.Slice(d.Requests, func(i, j int) bool { return d.Requests[i].ID > d.Requests[j].ID })
	if reads {
		es, err := pg.o.Store.AuditQuery(ctx, store.AuditFilter{Subject: p.EmployeeID, Action: "person.read", Limit: 1000})
		if err != nil {
			return d, err
		}
		slices.Reverse(es)
		d.Reads = es[:min(len(es), 50)]
	}
	return d, nil
}

// attributes lists every attribute held, each with the import that last
// set it: the newest applied event that changed it, or the joiner or
// rehire that brought the person in.
func attributes(p store.Person, evs []store.Event) []attrRow {
	rows := []attrRow{
		{Name: "Employee ID", Key: "employee_id", Value: p.EmployeeID},
		{Name: "Name", Key: "display_name", Value: p.DisplayName},
		{Name: "E-mail", Key: "email", Value: p.Email},
		{Name: "Title", Key: "title", Value: p.Title},
		{Name: "Department", Key: "department", Value: p.Department},
		{Name: "Team", Key: "team", Value: p.Team},
		{Name: "Business unit", Key: "business_unit", Value: p.BusinessUnit},
		{Name: "Manager", Key: "manager_id", Value: p.ManagerID},
		{Name: "Employment type", Key: "employment_type", Value: p.EmploymentType},
		{Name: "Status", Key: "status", Value: p.Status},
		{Name: "Start date", Key: "start_date", Value: p.StartDate},
		{Name: "End date", Key: "end_date", Value: p.EndDate},
		{Name: "Employment period", Key: "period", Value: strconv.Itoa(p.Period)},
	}
	keys := make([]string, 0, len(p.Attributes))
	for k := range p.Attributes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		rows = append(rows, attrRow{Name: k, Key: k, Value: p.Attributes[k]})
	}
	for i := range rows {
		rows[i].Source = p.Source
		for j := len(evs) - 1; j >= 0; j-- {
			e := evs[j]
			if e.State != store.EventApplied {
				continue
			}
			whole := e.Type == store.EventJoiner || e.Type == store.EventRehire
			if whole || slices.Contains(e.Changed, rows[i].Key) || slices.Contains(e.Changed, "attributes."+rows[i].Key) {
				rows[i].Import, rows[i].At = e.ImportID, e.AppliedAt
				break
			}
		}
	}
	return rows
}

// access is the person's grant rows with the reasons behind each.
func (pg *Pages) access(ctx context.Context, p store.Person) ([]accessRow, error) {
	grants, err := pg.o.Store.PersonGrants(ctx, p.Source, p.EmployeeID)
	if err != nil {
		return nil, err
	}
	ops, err := pg.o.Store.Ops(ctx, store.OpFilter{EmployeeID: p.EmployeeID})
	if err != nil {
		return nil, err
	}
	when := map[string]string{}
	for _, r := range pg.o.Config.Roles {
		when[r.Name] = r.When
	}
	var out []accessRow
	for _, g := range grants {
		row := accessRow{GrantRow: g}
		for part := range strings.SplitSeq(g.Reason, "; ") {
			switch {
			case strings.HasPrefix(part, "role "):
				for name := range strings.SplitSeq(strings.TrimPrefix(part, "role "), ", ") {
					row.Roles = append(row.Roles, roleWhy{Name: name, When: when[name]})
				}
			case strings.HasPrefix(part, "request #"):
				if id, err := strconv.ParseInt(strings.TrimPrefix(part, "request #"), 10, 64); err == nil {
					row.Requests = append(row.Requests, id)
				}
			case strings.HasPrefix(part, "access review item #"):
				if id, err := strconv.ParseInt(strings.TrimPrefix(part, "access review item #"), 10, 64); err == nil {
					row.ReviewItems = append(row.ReviewItems, id)
				}
			case strings.HasPrefix(part, "event "):
				row.Event = strings.TrimPrefix(part, "event ")
			}
		}
		for i := len(ops) - 1; i >= 0; i-- {
			if o := ops[i]; o.App == g.App && o.Source == g.Source && o.Entitlement == g.Entitlement {
				row.LastOp = &ops[i]
				break
			}
		}
		out = append(out, row)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].App != out[j].App {
			return out[i].App < out[j].App
		}
		return out[i].Entitlement < out[j].Entitlement
	})
	return out, nil
}

// me is everything Tango holds about the caller, where it came from, what
// access they have and why, their requests and who read their data.
func (pg *Pages) me(w http.ResponseWriter, r *http.Request) {
	c, ok := pg.caller(w, r)
	if !ok {
		return
	}
	d, err := pg.loadPerson(r.Context(), c.Person, true)
	if err != nil {
		pg.fail(w, r, err)
		return
	}
	d.Self = true
	pg.render(w, r, http.StatusOK, "person", "What Tango holds about me", d)
}

// person is one person's page: attributes, history, cases, access. Only
// who may see the person (authz.SeePerson: themself, their manager,
// persons.read) gets it; anyone else gets 403, audited.
func (pg *Pages) person(w http.ResponseWriter, r *http.Request) {
	me := authz.From(r.Context())
	id := r.PathValue("id")
	p, err := request.FindPerson(r.Context(), pg.o.Store, pg.o.Config, id)
	if errors.Is(err, store.ErrNotFound) && !me.Can(authz.PersonsRead) {
		// Whether someone exists is itself personal data.
		pg.o.Host.Deny(w, r, me.SeePerson(store.Person{EmployeeID: id}))
		return
	}
	if err != nil {
		pg.fail(w, r, err)
		return
	}
	if err := me.SeePerson(p); err != nil {
		pg.o.Host.Deny(w, r, err)
		return
	}
	if p.EmployeeID != me.Person {
		// Reading someone's data is on the record: it shows on their /me.
		e := audit.New(pg.o.Now(), me.Actor(), "person.read", p.Source, "", p.EmployeeID, nil, map[string]string{"via": "web", "path": r.URL.Path})
		if err := pg.o.Store.InTx(r.Context(), func(tx store.Tx) error { return tx.AppendAudit(e) }); err != nil {
			pg.fail(w, r, err)
			return
		}
	}
	d, err := pg.loadPerson(r.Context(), p, p.EmployeeID == me.Person || me.Can(authz.AuditRead))
	if err != nil {
		pg.fail(w, r, err)
		return
	}
	d.Self = p.EmployeeID == me.Person
	title := p.DisplayName
	if title == "" {
		title = p.EmployeeID
	}
	pg.render(w, r, http.StatusOK, "person", title, d)
}

type peopleData struct {
	Q, Status string
	Reports   bool // only the caller's reports (no persons.read)
	People    []store.Person
	Pager     pager
}

// people searches the workforce (?q= over name, e-mail, employee ID and
// department; ?status=), a page at a time (?page=). Without persons.read
// a manager sees their own reports only.
func (pg *Pages) people(w http.ResponseWriter, r *http.Request) {
	me := authz.From(r.Context())
	q := r.URL.Query()
	n, err := pageParam(r)
	if err != nil {
		pg.fail(w, r, err)
		return
	}
	status := q.Get("status")
	if status != "" && !slices.Contains([]string{store.StatusActive, store.StatusPrehire, store.StatusLeft}, status) {
		pg.fail(w, r, invalid("status %q: want active, prehire or left", status))
		return
	}
	d := peopleData{Q: strings.TrimSpace(q.Get("q")), Status: status}
	f := store.PersonFilter{Query: d.Q, Status: status, Limit: n*PageSize + 1}
	if !me.Can(authz.PersonsRead) {
		if !me.Has(authz.Manager) {
			pg.o.Host.Deny(w, r, me.Need(authz.PersonsRead, "searching people (a manager may list their reports)"))
			return
		}
		f.ManagerID, d.Reports = me.Person, true
	}
	ps, err := pg.o.Store.Persons(r.Context(), f)
	if err != nil {
		pg.fail(w, r, err)
		return
	}
	d.People, d.Pager = cut(r, ps, n)
	title := "People"
	if d.Reports {
		title = "My reports"
	}
	pg.render(w, r, http.StatusOK, "people", title, d)
}
