package hr

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/google/cel-go/cel"
	celast "github.com/google/cel-go/common/ast"
	"github.com/google/cel-go/common/types"

	"github.com/tango-iga/tango/internal/config"
	"github.com/tango-iga/tango/internal/store"
	"github.com/tango-iga/tango/internal/table"
)

// Record is one mapped row: the person it describes, before the manager
// reference is resolved and the lifecycle status is decided.
type Record struct {
	Row        int
	Person     store.Person
	ManagerRef string // as written in the feed: an employee ID or a display name
}

// Mapper turns rows into records with a source's column mapping: each
// person attribute is a column name or a CEL expression over `row`.
type Mapper struct {
	key     string
	keyIdx  int
	columns []string
	fields  []field
}

type field struct {
	attr   string
	column string      // set when the mapping names a column
	idx    int         // the column's position
	prog   cel.Program // set when it is a CEL expression that reads row
	expr   string
	konst  *string // the value of an expression that does not read row
}

var rowEnv, _ = cel.NewEnv(cel.Variable("row", cel.MapType(cel.StringType, cel.StringType)))

var bareName = regexp.MustCompile(`^[\pL\pN_ .\-]+$`)

// NewMapper compiles the mapping of src against the feed's columns. Every
// problem is returned, each naming the attribute and the column or expression.
func NewMapper(src *config.Source, columns []string) (*Mapper, []RowError) {
	have := make(map[string]bool, len(columns))
	pos := make(map[string]int, len(columns))
	for i, c := range columns {
		have[c] = true
		pos[c] = i
	}
	var errs []RowError
	m := &Mapper{key: src.Key, keyIdx: pos[src.Key], columns: columns}
	if !have[src.Key] {
		errs = append(errs, RowError{Column: src.Key, Message: fmt.Sprintf("key column %q is missing from the feed (columns: %s)", src.Key, strings.Join(columns, ", "))})
	}
	attrs := make([]string, 0, len(src.Mapping))
	for a := range src.Mapping {
		attrs = append(attrs, a)
	}
	sort.Strings(attrs)
	for _, attr := range attrs {
		v := strings.TrimSpace(src.Mapping[attr])
		if have[v] {
			m.fields = append(m.fields, field{attr: attr, column: v, idx: pos[v]})
			continue
		}
		ast, iss := rowEnv.Compile(v)
		if iss.Err() != nil {
			if bareName.MatchString(v) {
				errs = append(errs, RowError{Column: v, Message: fmt.Sprintf("mapped column %q (for %s) is missing from the feed", v, attr)})
			} else {
				errs = append(errs, RowError{Column: attr, Message: fmt.Sprintf("mapping.%s: expression %q does not compile: %v", attr, v, iss.Err())})
			}
			continue
		}
		if ast.OutputType() != types.StringType && ast.OutputType() != types.DynType {
			errs = append(errs, RowError{Column: attr, Message: fmt.Sprintf("mapping.%s: expression %q gives %s, want a string", attr, v, ast.OutputType())})
			continue
		}
		prg, err := rowEnv.Program(ast, cel.CostLimit(100000))
		if err != nil {
			errs = append(errs, RowError{Column: attr, Message: fmt.Sprintf("mapping.%s: %v", attr, err)})
			continue
		}
		f := field{attr: attr, prog: prg, expr: v}
		if !readsRow(ast) {
			// A constant such as "'employee'": evaluate it once.
			out, _, err := prg.Eval(map[string]any{"row": map[string]string{}})
			if s, ok := out.Value().(string); err == nil && ok {
				s = strings.TrimSpace(s)
				f.konst, f.prog = &s, nil
			}
		}
		m.fields = append(m.fields, f)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return m, nil
}

// readsRow reports whether a compiled expression mentions `row`.
func readsRow(ast *cel.Ast) bool {
	found := false
	celast.PreOrderVisit(celast.NavigateAST(ast.NativeRep()), celast.NewExprVisitor(func(e celast.Expr) {
		if e.Kind() == celast.IdentKind && e.AsIdent() == "row" {
			found = true
		}
	}))
	return found
}

// Map maps one row; errors name the row and the attribute.
func (m *Mapper) Map(r table.Row) (Record, []RowError) {
	rec := Record{Row: r.Num}
	p := &rec.Person
	get := func(i int) string {
		if i < len(r.Values) {
			return r.Values[i]
		}
		return ""
	}
	p.EmployeeID = get(m.keyIdx)
	var errs []RowError
	var act map[string]any
	for _, f := range m.fields {
		var v string
		switch {
		case f.konst != nil:
			v = *f.konst
		case f.prog == nil:
			v = get(f.idx)
		default:
			if act == nil {
				row := make(map[string]string, len(m.columns))
				for i, c := range m.columns {
					row[c] = get(i)
				}
				act = map[string]any{"row": row}
			}
			out, _, err := f.prog.Eval(act)
			if err != nil {
				errs = append(errs, RowError{Row: r.Num, Column: f.attr, Message: fmt.Sprintf("expression %q: %v", f.expr, err)})
				continue
			}
			s, ok := out.Value().(string)
			if !ok {
				errs = append(errs, RowError{Row: r.Num, Column: f.attr, Message: fmt.Sprintf("expression %q gave %v, want a string", f.expr, out.Type())})
				continue
			}
			v = strings.TrimSpace(s)
		}
		switch f.attr {
		case "display_name":
			p.DisplayName = v
		case "email":
			p.Email = v
		case "title":
			p.Title = v
		case "department":
			p.Department = v
		case "team":
			p.Team = v
		case "business_unit":
			p.BusinessUnit = v
		case "manager":
			rec.ManagerRef = v
		case "employment_type":
			p.EmploymentType = v
		case "start_date":
			p.StartDate = v
		case "end_date":
			p.EndDate = v
		case "employee_id":
			// the key column decides the ID
		default:
			if v != "" {
				if p.Attributes == nil {
					p.Attributes = map[string]string{}
				}
				p.Attributes[f.attr] = v
			}
		}
	}
	return rec, errs
}

// column names the feed column behind an attribute, for error messages.
func (m *Mapper) column(attr string) string {
	for _, f := range m.fields {
		if f.attr == attr {
			if f.column != "" {
				return f.column
			}
			return attr
		}
	}
	return attr
}
