package scim

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/tango-iga/tango/internal/config"
	"github.com/tango-iga/tango/internal/hr"
	"github.com/tango-iga/tango/internal/store"
	"github.com/tango-iga/tango/internal/table"
)

// A scim source's mapping works as a file source's (internal/hr: each
// person attribute is a column name or a CEL expression over `row`); the
// row of a pushed User is its document flattened to SCIM attribute paths:
//
//	userName, displayName, title, userType, active ("true"/"false"), externalId, id, ...
//	name.givenName, name.familyName, ...                 complex sub-attributes
//	emails.value                                         the primary value, else the first
//	emails[primary eq true].value                        the primary value only
//	emails[type eq "work"].value                         the first of that type (canonical types)
//	urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department
//	urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value
//
// Absent attributes are empty strings. Attributes the mapping does not
// name keep Tango's default reading of a User (toPerson); the mapping's
// key, when set, is the path holding the employee ID (default:
// employeeNumber, else externalId, else the SCIM id).

// scimPath looks like an attribute path (as opposed to a CEL expression).
var scimPath = regexp.MustCompile(`^(urn:[\w.:\-]+:)?[A-Za-z$][\w$]*(\[[^\]]*\])?(\.[A-Za-z$][\w$]*)?$`)

// rowColumns are the row keys a User becomes, in a fixed order.
var rowColumns = userColumns()

func userColumns() []string {
	cols := []string{"id", "externalId"}
	walk := func(prefix string, attrs []*Attr) {
		for _, a := range attrs {
			if a.Mutability == mWriteOnly || a.Name == "groups" {
				continue
			}
			p := prefix + a.Name
			switch {
			case a.Type != tComplex:
				cols = append(cols, p)
			case !a.Multi:
				for _, s := range a.Sub {
					cols = append(cols, p+"."+s.Name)
				}
			default:
				var types []string
				if t := findAttr(a.Sub, "type"); t != nil {
					types = t.Canonical
				}
				for _, s := range a.Sub {
					cols = append(cols, p+"."+s.Name, p+"[primary eq true]."+s.Name)
					for _, t := range types {
						cols = append(cols, p+`[type eq "`+t+`"].`+s.Name)
					}
				}
			}
		}
	}
	walk("", userSchema.Attrs)
	walk(URNEnterprise+":", enterpriseSchema.Attrs)
	return cols
}

// userRow flattens a normalized User document to rowColumns' keys.
func userRow(doc map[string]any, id string) map[string]string {
	row := map[string]string{"id": id, "externalId": getStr(doc, "externalId")}
	str := func(v any) string {
		switch x := v.(type) {
		case nil:
			return ""
		case string:
			return x
		case bool:
			if x {
				return "true"
			}
			return "false"
		}
		return fmt.Sprint(v)
	}
	// subs puts the schema's sub-attributes of one value under prefix:
	// only keys rowColumns has, whatever else a client sent.
	subs := func(prefix string, a *Attr, e map[string]any) {
		for _, sa := range a.Sub {
			if sv, ok := e[sa.Name]; ok {
				row[prefix+sa.Name] = str(sv)
			}
		}
	}
	walk := func(prefix string, m map[string]any, attrs []*Attr) {
		for _, a := range attrs {
			v, ok := m[a.Name]
			if !ok || a.Mutability == mWriteOnly || a.Name == "groups" {
				continue
			}
			p := prefix + a.Name
			switch {
			case a.Type != tComplex:
				row[p] = str(v)
			case !a.Multi:
				sub, _ := v.(map[string]any)
				subs(p+".", a, sub)
			default:
				vals := complexValues(v)
				if len(vals) == 0 {
					continue
				}
				pick := vals[0]
				for _, e := range vals {
					if e["primary"] == true {
						pick = e
						subs(p+"[primary eq true].", a, e)
						break
					}
				}
				subs(p+".", a, pick)
				var types []string
				if t := findAttr(a.Sub, "type"); t != nil {
					types = t.Canonical
				}
				for i := len(vals) - 1; i >= 0; i-- { // the first of each type wins
					if t, _ := vals[i]["type"].(string); slices.Contains(types, strings.ToLower(t)) {
						subs(p+`[type eq "`+strings.ToLower(t)+`"].`, a, vals[i])
					}
				}
			}
		}
	}
	walk("", doc, userSchema.Attrs)
	walk(URNEnterprise+":", getMap(doc, URNEnterprise), enterpriseSchema.Attrs)
	return row
}

// userMapper applies a scim source's mapping to pushed Users.
type userMapper struct {
	src    *config.Source
	m      *hr.Mapper // nil without a mapping
	mapped []string   // the person attributes the mapping sets
}

// newUserMapper compiles src's mapping against rowColumns; the errors
// name the attribute and the path or expression.
func newUserMapper(src *config.Source) (*userMapper, error) {
	um := &userMapper{src: src}
	if len(src.Mapping) == 0 && src.Key == "" {
		return um, nil
	}
	// Name unknown paths plainly (the file importer's message would list
	// every column, and a URN path is no CEL expression either).
	known := make(map[string]bool, len(rowColumns))
	for _, c := range rowColumns {
		known[c] = true
	}
	var bad []string
	if src.Key != "" && !known[src.Key] {
		bad = append(bad, fmt.Sprintf("key %q is not a SCIM attribute path of a User", src.Key))
	}
	for attr, v := range src.Mapping {
		v = strings.TrimSpace(v)
		if !known[v] && scimPath.MatchString(v) && !strings.Contains(v, "row") {
			bad = append(bad, fmt.Sprintf("mapping.%s: %q is not a SCIM attribute path of a User", attr, v))
		}
	}
	if len(bad) > 0 {
		sort.Strings(bad)
		return nil, fmt.Errorf("source %q: %s (paths: userName, name.givenName, emails[type eq \"work\"].value, %s:department, ...; see README)",
			src.Name, strings.Join(bad, "; "), URNEnterprise)
	}
	c := *src
	if c.Key == "" {
		c.Key = "id" // only to compile; the default key chain applies
	}
	m, errs := hr.NewMapper(&c, rowColumns)
	if len(errs) > 0 {
		msgs := make([]string, len(errs))
		for i, e := range errs {
			msgs[i] = e.Message
		}
		return nil, fmt.Errorf("source %q: mapping over SCIM attribute paths: %s", src.Name, strings.Join(msgs, "; "))
	}
	um.m = m
	for a := range src.Mapping {
		um.mapped = append(um.mapped, a)
	}
	return um, nil
}

// person is the person a normalized User document feeds, with the
// manager reference (a SCIM id or an employee ID) and the employee ID
// the source's key gives ("" when the key is not set or empty).
func (um *userMapper) person(doc map[string]any, id string) (p store.Person, managerRef, employee string, err error) {
	p, managerRef = toPerson(doc)
	if um.m == nil {
		return p, managerRef, "", nil
	}
	row := userRow(doc, id)
	vals := make([]string, len(rowColumns))
	for i, c := range rowColumns {
		vals[i] = row[c]
	}
	rec, errs := um.m.Map(table.Row{Num: 1, Values: vals})
	if len(errs) > 0 {
		msgs := make([]string, len(errs))
		for i, e := range errs {
			msgs[i] = e.Column + ": " + e.Message
		}
		return p, "", "", fmt.Errorf("%s", strings.Join(msgs, "; "))
	}
	if um.src.Key != "" {
		employee = strings.TrimSpace(row[um.src.Key])
	}
	q := rec.Person
	for _, a := range um.mapped {
		switch a {
		case "display_name":
			p.DisplayName = q.DisplayName
		case "email":
			p.Email = q.Email
		case "title":
			p.Title = q.Title
		case "department":
			p.Department = q.Department
		case "team":
			p.Team = q.Team
		case "business_unit":
			p.BusinessUnit = q.BusinessUnit
		case "manager":
			managerRef = rec.ManagerRef
		case "employment_type":
			p.EmploymentType = q.EmploymentType
		case "start_date":
			p.StartDate = q.StartDate
		case "end_date":
			p.EndDate = q.EndDate
		case "employee_id":
		default:
			if v := q.Attributes[a]; v != "" {
				p.Attributes[a] = v
			} else {
				delete(p.Attributes, a)
			}
		}
	}
	if bad := hr.CheckPerson(&p); len(bad) > 0 {
		return p, "", "", fmt.Errorf("%s", strings.Join(bad, "; "))
	}
	return p, managerRef, employee, nil
}

// CheckConfig compiles the mapping of every scim source of cfg, so that a
// mapping naming an unknown SCIM attribute path is a config error at
// startup rather than a failure of every push.
func CheckConfig(cfg *config.Config) error {
	for i := range cfg.Sources {
		if cfg.Sources[i].Kind == "scim" {
			if _, err := newUserMapper(&cfg.Sources[i]); err != nil {
				return err
			}
		}
	}
	return nil
}
