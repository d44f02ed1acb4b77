package hr

import (
	"net/mail"
	"testing"

	"github.com/tango-iga/tango/internal/table"
)

// FuzzValidate: any CSV through mapping and validation never panics, and
// a feed without errors has unique, non-empty keys and resolvable managers.
func FuzzValidate(f *testing.F) {
	f.Add([]byte(header + "E1,Ann,ann@dtaa.com,CEO,Exec,,,,\nE2,Bob,b@dtaa.com,Eng,Eng,Ann,,,\n"))
	f.Add([]byte(header + "E1,Ann,ann@dtaa.com,CEO,Exec,E2,,,\nE2,Bob,b@dtaa.com,Eng,Eng,E1,,,\n"))
	f.Add([]byte(header + "E1,A,a@x.io,T,D,,2026-01-01,2025-01-01,\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		tab, err := table.ParseCSV(data)
		if err != nil {
			return
		}
		m, errs := NewMapper(src(), tab.Columns)
		if errs != nil {
			return
		}
		var recs []Record
		for _, r := range tab.Rows {
			rec, errs := m.Map(r)
			if errs != nil {
				return
			}
			recs = append(recs, rec)
		}
		if errs := Validate(m, recs); len(errs) > 0 {
			return
		}
		ids := map[string]bool{}
		for _, r := range recs {
			if r.Person.EmployeeID == "" || ids[r.Person.EmployeeID] {
				t.Fatalf("valid feed with empty or duplicate key %q", r.Person.EmployeeID)
			}
			ids[r.Person.EmployeeID] = true
		}
		for _, r := range recs {
			if r.ManagerRef != "" && !ids[r.Person.ManagerID] {
				t.Fatalf("valid feed with unresolved manager %q", r.ManagerRef)
			}
		}
	})
}

// FuzzEmail: the fast path never accepts what the full parser refuses.
func FuzzEmail(f *testing.F) {
	for _, s := range []string{"a@b.co", "Maisie.Maggy.Kline@dtaa.com", "x..y@d.com", "a@b", "@b.com", "a b@c.com", "a+tag@sub.example.org"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if simpleEmail(s) {
			a, err := mail.ParseAddress(s)
			if err != nil || a.Address != s {
				t.Fatalf("fast path accepted %q, the parser says %v", s, err)
			}
		}
	})
}
