package hr

import (
	"fmt"
	"net/mail"
	"sort"
	"strings"
	"time"
	"unicode"

	"github.com/tango-iga/tango/internal/store"
)

// DateLayout is how effective dates are written in a feed.
const DateLayout = "2006-01-02"

// Validate checks every mapped record of a feed, resolves managers (by
// employee ID, else by exactly one display name in the same feed) and
// detects manager cycles. It returns every problem found, sorted by row;
// the records are usable only when there are none.
func Validate(m *Mapper, recs []Record) []RowError {
	var errs []RowError
	keyCol, emailCol, nameCol := m.key, m.column("email"), m.column("display_name")
	first := make(map[string]int, len(recs))
	byName := make(map[string][]int, len(recs))
	for i := range recs {
		r := &recs[i]
		p := &r.Person
		switch {
		case p.EmployeeID == "":
			errs = append(errs, RowError{Row: r.Row, Column: keyCol, Message: "employee ID is empty"})
		case strings.ContainsFunc(p.EmployeeID, unicode.IsControl):
			// It names accounts (LDAP DNs, SCIM userNames) and log lines.
			errs = append(errs, RowError{Row: r.Row, Column: keyCol, Message: fmt.Sprintf("employee ID %q holds a control character", p.EmployeeID)})
		case first[p.EmployeeID] != 0:
			errs = append(errs, RowError{Row: r.Row, Column: keyCol, Message: fmt.Sprintf("employee ID %q also on row %d", p.EmployeeID, first[p.EmployeeID])})
		default:
			first[p.EmployeeID] = r.Row
		}
		if p.DisplayName == "" {
			errs = append(errs, RowError{Row: r.Row, Column: nameCol, Message: "display name is empty"})
		} else {
			byName[strings.ToLower(p.DisplayName)] = append(byName[strings.ToLower(p.DisplayName)], i)
		}
		if p.Email != "" && !validEmail(p.Email) {
			errs = append(errs, RowError{Row: r.Row, Column: emailCol, Message: fmt.Sprintf("%q is not a valid email address", p.Email)})
		}
		for _, d := range [...]struct{ attr, v string }{{"start_date", p.StartDate}, {"end_date", p.EndDate}} {
			if d.v != "" {
				if _, err := time.Parse(DateLayout, d.v); err != nil {
					errs = append(errs, RowError{Row: r.Row, Column: m.column(d.attr), Message: fmt.Sprintf("%q is not a date in the form YYYY-MM-DD", d.v)})
				}
			}
		}
		if p.StartDate != "" && p.EndDate != "" && p.EndDate < p.StartDate {
			errs = append(errs, RowError{Row: r.Row, Column: m.column("end_date"), Message: fmt.Sprintf("end date %s is before start date %s", p.EndDate, p.StartDate)})
		}
	}
	// Resolve managers.
	mgrCol := m.column("manager")
	idx := make(map[string]int, len(recs))
	for i, r := range recs {
		if _, dup := idx[r.Person.EmployeeID]; !dup {
			idx[r.Person.EmployeeID] = i
		}
	}
	for i := range recs {
		r := &recs[i]
		ref := r.ManagerRef
		if ref == "" {
			continue
		}
		if _, ok := idx[ref]; ok {
			r.Person.ManagerID = ref
			continue
		}
		cands := byName[strings.ToLower(ref)]
		switch len(cands) {
		case 0:
			errs = append(errs, RowError{Row: r.Row, Column: mgrCol, Message: fmt.Sprintf("manager %q matches no employee ID or display name in the feed", ref)})
		case 1:
			r.Person.ManagerID = recs[cands[0]].Person.EmployeeID
		default:
			var rows []string
			for _, c := range cands {
				rows = append(rows, fmt.Sprintf("%s (row %d)", recs[c].Person.EmployeeID, recs[c].Row))
			}
			errs = append(errs, RowError{Row: r.Row, Column: mgrCol, Message: fmt.Sprintf("manager %q is ambiguous: %d people have that name: %s; use the employee ID", ref, len(cands), strings.Join(rows, ", "))})
		}
	}
	errs = append(errs, cycles(recs, idx, mgrCol)...)
	sort.SliceStable(errs, func(a, b int) bool { return errs[a].Row < errs[b].Row })
	return errs
}

// cycles finds every manager chain that loops, reporting it once at the
// row of its first member.
func cycles(recs []Record, idx map[string]int, col string) []RowError {
	const (
		unseen = iota
		onPath
		done
	)
	state := make([]uint8, len(recs))
	var errs []RowError
	for start := range recs {
		if state[start] != unseen {
			continue
		}
		var path []int
		i := start
		for {
			if state[i] == done {
				break
			}
			if state[i] == onPath {
				// the loop is path[k:], where path[k] == i
				k := 0
				for path[k] != i {
					k++
				}
				loop := path[k:]
				names := make([]string, 0, len(loop)+1)
				row := recs[loop[0]].Row
				for _, j := range loop {
					names = append(names, recs[j].Person.EmployeeID)
					row = min(row, recs[j].Row)
				}
				names = append(names, recs[loop[0]].Person.EmployeeID)
				errs = append(errs, RowError{Row: row, Column: col, Message: "manager cycle: " + strings.Join(names, " -> ")})
				break
			}
			state[i] = onPath
			path = append(path, i)
			next, ok := idx[recs[i].Person.ManagerID]
			if recs[i].Person.ManagerID == "" || !ok {
				break
			}
			i = next
		}
		for _, j := range path {
			state[j] = done
		}
	}
	return errs
}

func validEmail(s string) bool {
	if simpleEmail(s) {
		return true // the common case, without the full RFC 5322 parser
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" {
		return false
	}
	at := strings.LastIndexByte(s, '@')
	return at > 0 && strings.Contains(s[at+1:], ".") && !strings.ContainsAny(s, " <>")
}

// simpleEmail accepts local@domain.tld made only of letters, digits and
// ".-_+" (no leading, trailing or doubled dots); anything else goes to the
// full parser.
func simpleEmail(s string) bool {
	at := strings.IndexByte(s, '@')
	if at <= 0 || at == len(s)-1 || strings.IndexByte(s[at+1:], '@') >= 0 {
		return false
	}
	ok := func(part string, extra string) bool {
		if part[0] == '.' || part[len(part)-1] == '.' || strings.Contains(part, "..") {
			return false
		}
		for i := 0; i < len(part); i++ {
			c := part[i]
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || strings.IndexByte(extra, c) >= 0) {
				return false
			}
		}
		return true
	}
	domain := s[at+1:]
	return ok(s[:at], "-_+") && ok(domain, "-") && strings.IndexByte(domain, '.') > 0
}

// CheckPerson lists what Validate would find wrong with one mapped person
// on its own: an empty display name, a malformed e-mail address, dates
// not in the form YYYY-MM-DD or an end before the start. (Keys and
// managers are checked against a whole feed, so not here.) Pushes use it
// for the persons a source's mapping makes.
func CheckPerson(p *store.Person) []string {
	var out []string
	if p.DisplayName == "" {
		out = append(out, "display_name: display name is empty")
	}
	if p.Email != "" && !validEmail(p.Email) {
		out = append(out, fmt.Sprintf("email: %q is not a valid email address", p.Email))
	}
	for _, d := range [...]struct{ attr, v string }{{"start_date", p.StartDate}, {"end_date", p.EndDate}} {
		if d.v != "" {
			if _, err := time.Parse(DateLayout, d.v); err != nil {
				out = append(out, fmt.Sprintf("%s: %q is not a date in the form YYYY-MM-DD", d.attr, d.v))
			}
		}
	}
	if p.StartDate != "" && p.EndDate != "" && p.EndDate < p.StartDate {
		out = append(out, fmt.Sprintf("end_date: end date %s is before start date %s", p.EndDate, p.StartDate))
	}
	return out
}

// RowError is one problem with one row (Row 0: the feed as a whole).
type RowError struct {
	Row     int    `json:"row"`
	Column  string `json:"column,omitempty"`
	Message string `json:"message"`
}

func (e RowError) Error() string {
	switch {
	case e.Row == 0 && e.Column == "":
		return e.Message
	case e.Row == 0:
		return fmt.Sprintf("column %q: %s", e.Column, e.Message)
	case e.Column == "":
		return fmt.Sprintf("row %d: %s", e.Row, e.Message)
	}
	return fmt.Sprintf("row %d: column %q: %s", e.Row, e.Column, e.Message)
}
