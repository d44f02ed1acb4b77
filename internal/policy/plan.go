package policy

import (
	"runtime"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/tango-iga/tango/internal/store"
)

// Change is what one person gains and loses.
type Change struct {
	Source     string      `json:"source"`
	EmployeeID string      `json:"employee_id"`
	Name       string      `json:"display_name"`
	Status     string      `json:"status"`
	Gains      []Reasoned  `json:"gains,omitempty"`
	Losses     []Loss      `json:"losses,omitempty"`
	Violations []Violation `json:"violations,omitempty"`
}

// Loss is access a person holds that nothing grants any more.
type Loss struct {
	Grant
	Reason string `json:"reason"`
}

// Totals summarise a plan.
type Totals struct {
	Persons    int            `json:"persons"`
	Changed    int            `json:"persons_changed"`
	Gains      int            `json:"gains"`
	Losses     int            `json:"losses"`
	Violations int            `json:"violations"`
	GainsByApp map[string]int `json:"gains_by_app"`
	LossByApp  map[string]int `json:"losses_by_app"`
}

// Result is a whole plan: the changes per person (only persons with a
// change or a violation) and the totals.
type Result struct {
	Changes []Change `json:"changes"`
	Totals  Totals   `json:"totals"`
	Desired int      `json:"desired_grants"`
}

// Current returns the access a person holds now.
type Current func(source, employeeID string) []Grant

// Requests returns a person's approved access requests (nil: none).
type Requests func(source, employeeID string) []Requested

// Plan evaluates every person against the policy and compares with what
// they hold, on every core.
func (p *Policy) Plan(persons []store.Person, current Current, now time.Time) (Result, error) {
	return p.PlanWith(persons, current, nil, now)
}

// FirstDay is the person policy decides for: a pre-hire as on their
// first day (active), so that their access is made ready before the start
// date; anyone else as they are.
func FirstDay(p *store.Person) *store.Person {
	if p.Status != store.StatusPrehire {
		return p
	}
	first := *p
	first.Status = store.StatusActive
	return &first
}

// Revoked returns what access reviews revoked of a person (nil: none).
type Revoked func(source, employeeID string) []store.Revocation

// PlanWith is Plan counting each person's approved access requests.
func (p *Policy) PlanWith(persons []store.Person, current Current, requests Requests, now time.Time) (Result, error) {
	return p.PlanReviewed(persons, current, requests, nil, now)
}

// PlanReviewed is PlanWith leaving out what access reviews revoked
// (WithoutRevoked), as provisioning does.
func (p *Policy) PlanReviewed(persons []store.Person, current Current, requests Requests, revoked Revoked, now time.Time) (Result, error) {
	byID := make(map[string]*store.Person, len(persons))
	for i := range persons {
		byID[persons[i].Source+"\x00"+persons[i].EmployeeID] = &persons[i]
	}
	changes := make([]Change, len(persons))
	desired := make([]int, len(persons))
	workers := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	next := 0
	const chunk = 256
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sc := newScratch()
			for {
				mu.Lock()
				start := next
				next += chunk
				failed := firstErr != nil
				mu.Unlock()
				if start >= len(persons) || failed {
					return
				}
				for i := start; i < min(start+chunk, len(persons)); i++ {
					per := &persons[i]
					in := Input{Person: FirstDay(per), Manager: byID[per.Source+"\x00"+per.ManagerID]}
					if requests != nil {
						in.Requests = requests(per.Source, per.EmployeeID)
					}
					want, viol, err := p.desired(in, now, sc)
					if err != nil {
						mu.Lock()
						if firstErr == nil {
							firstErr = err
						}
						mu.Unlock()
						return
					}
					if revoked != nil {
						want, _ = WithoutRevoked(want, in.Requests, revoked(per.Source, per.EmployeeID))
					}
					desired[i] = len(want)
					changes[i] = diff(per, want, viol, current(per.Source, per.EmployeeID))
				}
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return Result{}, firstErr
	}
	res := Result{Changes: []Change{}, Totals: Totals{Persons: len(persons), GainsByApp: map[string]int{}, LossByApp: map[string]int{}}}
	for i, c := range changes {
		res.Desired += desired[i]
		if len(c.Gains) == 0 && len(c.Losses) == 0 && len(c.Violations) == 0 {
			continue
		}
		res.Changes = append(res.Changes, c)
		res.Totals.Changed++
		res.Totals.Gains += len(c.Gains)
		res.Totals.Losses += len(c.Losses)
		res.Totals.Violations += len(c.Violations)
		for _, g := range c.Gains {
			res.Totals.GainsByApp[g.App]++
		}
		for _, l := range c.Losses {
			res.Totals.LossByApp[l.App]++
		}
	}
	sort.Slice(res.Changes, func(a, b int) bool { return res.Changes[a].EmployeeID < res.Changes[b].EmployeeID })
	return res, nil
}

func diff(p *store.Person, want []Reasoned, viol []Violation, have []Grant) Change {
	c := Change{Source: p.Source, EmployeeID: p.EmployeeID, Name: p.DisplayName, Status: p.Status, Violations: viol}
	// A person holds a few dozen grants at most: slices beat maps here.
	for _, w := range want {
		if !slices.Contains(have, w.Grant) {
			c.Gains = append(c.Gains, w)
		}
	}
	wanted := func(g Grant) bool {
		return slices.ContainsFunc(want, func(r Reasoned) bool { return r.Grant == g })
	}
	reason := "no role grants it any more"
	if p.Status == store.StatusLeft {
		reason = "person has left"
	}
	for _, g := range have {
		if !wanted(g) {
			c.Losses = append(c.Losses, Loss{Grant: g, Reason: reason})
		}
	}
	sort.Slice(c.Losses, func(a, b int) bool { return c.Losses[a].String() < c.Losses[b].String() })
	return c
}
