package bench

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tango-iga/tango/bench/synth"
	"github.com/tango-iga/tango/internal/config"
	"github.com/tango-iga/tango/internal/policy"
	"github.com/tango-iga/tango/internal/store"
)

// planConfig has 10 apps and 20 roles over HR attributes: birthright for
// everyone, by business unit, functional unit, department, title and
// manager, and one separation-of-duties rule.
func planConfig(b *testing.B) *config.Config {
	var sb strings.Builder
	sb.WriteString("org: {name: Bench, timezone: UTC}\napps:\n")
	for i := range 10 {
		fmt.Fprintf(&sb, "  - {name: app%d, connector: manual}\n", i)
	}
	sb.WriteString("roles:\n")
	conds := []string{
		`person.status == "active"`,
		`person.status == "active" && person.employment_type == "employee"`,
		`person.title == "ITAdmin"`,
		`person.title.contains("Engineer")`,
		`person.title == "Manager" || person.title == "Director"`,
		`person.department.startsWith("1 - ")`,
		`person.department.startsWith("2 - ")`,
		`person.department.startsWith("3 - ")`,
		`person.business_unit == "1 - Executive"`,
		`person.business_unit == "2 - Executive"`,
		`person.attributes["functional_unit"] == "2 - ResearchAndEngineering"`,
		`person.attributes["functional_unit"] == "5 - SalesAndMarketing"`,
		`person.manager.title == "Director"`,
		`person.manager_id == ""`,
		`person.team != "" && person.status == "active"`,
		`person.attributes["projects"] != ""`,
		`person.tenure_days > 365 && person.status == "active"`,
		`person.email.endsWith("@dtaa.com") && person.title != "ITAdmin"`,
		`person.title in ["Salesman", "SalesManager", "Technician"]`,
		`person.status == "active" && person.department.contains("Software")`,
	}
	for i, c := range conds {
		fmt.Fprintf(&sb, "  - name: role%02d\n    when: '%s'\n    grants: [{app: app%d}, {app: app%d, entitlements: [e%d, f%d]}]\n", i, c, i%10, (i+3)%10, i, i)
	}
	sb.WriteString("separation_of_duties:\n  - {name: sod, entitlements: ['app3:e0', 'app3:e10']}\n")
	cfg, err := config.Parse([]byte(sb.String()), "bench.yaml")
	if err != nil {
		b.Fatal(err)
	}
	return cfg
}

// BenchmarkPlan100k: desired state and diff for 100,000 persons, 20 roles,
// 10 apps. steady: everyone holds what the roles give, except that a tenth
// hold one stale grant and a twentieth miss one; first: nobody holds
// anything yet (every desired grant is a gain, the largest plan).
func BenchmarkPlan100k(b *testing.B) {
	org := synth.Generate(100000, 1)
	byName := map[string]string{}
	for _, p := range org.Persons {
		byName[p.Name] = p.UserID
	}
	persons := make([]store.Person, len(org.Persons))
	for i, p := range org.Persons {
		persons[i] = store.Person{Source: "hris", EmployeeID: p.UserID, DisplayName: p.Name, Email: p.Email, Title: p.Role,
			Department: p.Department, Team: p.Team, BusinessUnit: p.BusinessUnit, ManagerID: byName[p.Supervisor],
			EmploymentType: "employee", Status: store.StatusActive, StartDate: "2020-01-01", Period: 1,
			Attributes: map[string]string{"functional_unit": p.FunctionalUnit, "projects": p.Projects}}
	}
	pol, err := policy.Compile(planConfig(b))
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	held := make(map[string][]policy.Grant, len(persons))
	byID := map[string]*store.Person{}
	for i := range persons {
		byID[persons[i].EmployeeID] = &persons[i]
	}
	for i := range persons {
		p := &persons[i]
		want, _, err := pol.Desired(policy.Input{Person: p, Manager: byID[p.ManagerID]}, now)
		if err != nil {
			b.Fatal(err)
		}
		var gs []policy.Grant
		for j, w := range want {
			if j == 0 && i%20 == 0 {
				continue // missing one
			}
			gs = append(gs, w.Grant)
		}
		if i%10 == 0 {
			gs = append(gs, policy.Grant{App: "app9", Entitlement: "old"}) // stale
		}
		held[p.EmployeeID] = gs
	}
	for _, c := range []struct {
		name    string
		current policy.Current
	}{
		{"steady", func(src, id string) []policy.Grant { return held[id] }},
		{"first", func(src, id string) []policy.Grant { return nil }},
	} {
		b.Run(c.name, func(b *testing.B) {
			var res policy.Result
			for b.Loop() {
				res, err = pol.Plan(persons, c.current, now)
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(persons))/(b.Elapsed().Seconds()/float64(b.N)), "persons/s")
			b.ReportMetric(float64(res.Desired), "desired-grants")
			b.ReportMetric(float64(res.Totals.Gains), "gains")
			b.ReportMetric(float64(res.Totals.Losses), "losses")
		})
	}
}
