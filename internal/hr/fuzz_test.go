package hr

import (
	"net/mail"
	"testing"
)

// FuzzParseCSV: no input panics or hangs the CSV reader, and every row it
// accepts has exactly the header's columns.
func FuzzParseCSV(f *testing.F) {
	f.Add([]byte("id,name\n1,Ann\n"))
	f.Add([]byte("\xEF\xBB\xBFid,name\n1,\"a,b\"\n2,\"x\ny\"\n"))
	f.Add([]byte("id,name\n1,\"unterminated\n"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, data []byte) {
		tab, err := ParseCSV(data)
		if err != nil {
			return
		}
		for _, r := range tab.Rows {
			if len(r.Values) != len(tab.Columns) {
				t.Fatalf("row %d has %d values for %d columns", r.Num, len(r.Values), len(tab.Columns))
			}
		}
	})
}

// FuzzParseJSON: no input panics the JSON reader; rows are numbered 1..n.
func FuzzParseJSON(f *testing.F) {
	f.Add([]byte(`[{"id":"1","name":"Ann"}]`))
	f.Add([]byte(`[{"id":1,"x":{"a":[1,2]}},{"id":null}]`))
	f.Add([]byte(`{"id":1}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		tab, err := ParseJSON(data)
		if err != nil {
			return
		}
		for i, r := range tab.Rows {
			if r.Num != i+1 {
				t.Fatalf("row %d numbered %d", i, r.Num)
			}
		}
	})
}

// FuzzValidate: any CSV through mapping and validation never panics, and
// a feed without errors has unique, non-empty keys and resolvable managers.
func FuzzValidate(f *testing.F) {
	f.Add([]byte(header + "E1,Ann,ann@dtaa.com,CEO,Exec,,,,\nE2,Bob,b@dtaa.com,Eng,Eng,Ann,,,\n"))
	f.Add([]byte(header + "E1,Ann,ann@dtaa.com,CEO,Exec,E2,,,\nE2,Bob,b@dtaa.com,Eng,Eng,E1,,,\n"))
	f.Add([]byte(header + "E1,A,a@x.io,T,D,,2026-01-01,2025-01-01,\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		tab, err := ParseCSV(data)
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
