package hr

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/tango-iga/tango/internal/config"
)

// Two persons with every column the built-in config maps.
var certCols = []string{"employee_name", "user_id", "email", "role", "projects", "business_unit", "functional_unit", "department", "team", "supervisor"}
var certRows = [][]string{
	{"Ann Boss", "E1", "ann@dtaa.com", "CEO", "", "1", "1", "Exec", "1", ""},
	{"Bob Admin", "E2", "bob@dtaa.com", "ITAdmin", "", "1", "2", "IT", "2", "Ann Boss"},
}

func certJSON(t *testing.T) []byte {
	var objs []map[string]string
	for _, r := range certRows {
		o := map[string]string{}
		for i, c := range certCols {
			o[c] = r[i]
		}
		objs = append(objs, o)
	}
	b, err := json.Marshal(objs)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func certXLSX(t *testing.T) []byte {
	f := excelize.NewFile()
	defer f.Close()
	for i, r := range append([][]string{certCols}, certRows...) {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow("Sheet1", cell, &r); err != nil {
			t.Fatal(err)
		}
	}
	b, err := f.WriteToBuffer()
	if err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// The format comes from the caller (--format), else the source, else the
// file's extension and content; a pinned format the content contradicts
// is an error naming the format tried and why, not a UTF-8 complaint.
func TestFormatFromFlagSourceOrFile(t *testing.T) {
	ctx := context.Background()
	js, xl := certJSON(t), certXLSX(t)
	example, err := os.ReadFile("../../examples/tango.yaml")
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("LDAP_PASSWORD", "x")
	t.Setenv("CRM_SCIM_TOKEN", "x")
	ex, err := config.Parse(example, "examples/tango.yaml")
	if err != nil {
		t.Fatal(err)
	}
	pinned := config.Default()
	pinned.Sources[0].Format = "csv"
	for _, c := range []struct {
		what      string
		cfg       *config.Config
		name      string
		data      []byte
		opt       Options
		want      string // status, or a part of the one error
		wantAlso  string
		wantRows  int
		wantNotIn string
	}{
		{"built-in config, JSON", config.Default(), "people.json", js, Options{}, "applied", "", 2, ""},
		{"built-in config, XLSX", config.Default(), "people.xlsx", xl, Options{}, "applied", "", 2, ""},
		{"example config, JSON", ex, "people.json", js, Options{}, "applied", "", 2, ""},
		{"example config, XLSX", ex, "people.xlsx", xl, Options{}, "applied", "", 2, ""},
		{"no extension: by content", config.Default(), "people", js, Options{}, "applied", "", 2, ""},
		{"pinned csv, JSON file", pinned, "people.json", js, Options{},
			`tried format csv (format: csv on source "hris"), but the content is JSON; pass --format json`, "", 0, "UTF-8"},
		{"pinned csv, XLSX file", pinned, "people.xlsx", xl, Options{},
			`tried format csv (format: csv on source "hris"), but the content is an XLSX workbook`, "--format xlsx", 0, "UTF-8"},
		{"--format beats the source", pinned, "people.xlsx", xl, Options{Format: "xlsx", FormatFrom: "--format"}, "applied", "", 2, ""},
		{"--format contradicted", config.Default(), "people.json", js, Options{Format: "xlsx", FormatFrom: "--format"},
			"tried format xlsx (--format), but the content is JSON", "", 0, ""},
		{"extension contradicted", config.Default(), "people.csv", xl, Options{},
			"tried format csv (from the file extension), but the content is an XLSX workbook", "", 0, ""},
		{"bad JSON names the format", config.Default(), "people.json", []byte(`[{"user_id": "E1",}]`), Options{},
			"read as json (from the file extension): invalid JSON", "", 0, "people.json"},
	} {
		t.Run(c.what, func(t *testing.T) {
			st := openStore(t)
			c.opt.Actor = "test"
			res, err := ImportFile(ctx, st, c.cfg, &c.cfg.Sources[0], c.name, c.data, c.opt)
			if err != nil {
				t.Fatal(err)
			}
			if c.want == "applied" {
				if res.Status != "applied" || res.Rows != c.wantRows || len(res.Errors) != 0 {
					t.Fatalf("%+v", res)
				}
				return
			}
			if res.Status != "rejected" || len(res.Errors) != 1 {
				t.Fatalf("want one error, got %+v", res)
			}
			msg := res.Errors[0].Message
			if !strings.Contains(msg, c.want) || !strings.Contains(msg, c.wantAlso) || (c.wantNotIn != "" && strings.Contains(msg, c.wantNotIn)) {
				t.Fatalf("error %q\nwant it to contain %q and %q, not %q", msg, c.want, c.wantAlso, c.wantNotIn)
			}
		})
	}
}
