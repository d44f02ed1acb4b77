package table

import (
	"reflect"
	"testing"

	"github.com/xuri/excelize/v2"
)

func TestParseCSVQuotingBOMAndNewlines(t *testing.T) {
	data := "\xEF\xBB\xBFid,name,note\n1,\"Kline, Maisie\",\"line one\nline \"\"two\"\"\"\n2,Bob,\n"
	tab, err := ParseCSV([]byte(data))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(tab.Columns, []string{"id", "name", "note"}) {
		t.Fatalf("columns %q (BOM not stripped?)", tab.Columns)
	}
	if len(tab.Rows) != 2 || tab.Value(tab.Rows[0], "name") != "Kline, Maisie" || tab.Value(tab.Rows[0], "note") != "line one\nline \"two\"" {
		t.Fatalf("rows %+v", tab.Rows)
	}
	if tab.Rows[1].Num != 3 {
		t.Fatalf("second record is spreadsheet row %d, want 3", tab.Rows[1].Num)
	}
	for _, bad := range []string{"", "id,name\n1,\"unterminated\n", "id,id\n1,2\n", "id,name\n1\n", "id,name\n\xff\xfe,x\n"} {
		if _, err := ParseCSV([]byte(bad)); err == nil {
			t.Errorf("ParseCSV(%q) succeeded", bad)
		}
	}
}

func TestParseJSONAndXLSX(t *testing.T) {
	tab, err := ParseJSON([]byte(`[{"id":"1","name":"Ann","n":3,"ok":true,"x":null},{"id":"2","name":"Bo"}]`))
	if err != nil {
		t.Fatal(err)
	}
	if len(tab.Rows) != 2 || tab.Value(tab.Rows[0], "n") != "3" || tab.Value(tab.Rows[0], "ok") != "true" || tab.Value(tab.Rows[1], "n") != "" || tab.Rows[1].Num != 2 {
		t.Fatalf("json rows %+v", tab.Rows)
	}
	for _, bad := range []string{`{"id":1}`, `[1,2]`, `[{"id":"1"}] junk`, `[{"id":`} {
		if _, err := ParseJSON([]byte(bad)); err == nil {
			t.Errorf("ParseJSON(%q) succeeded", bad)
		}
	}
	f := excelize.NewFile()
	rows := [][]any{{"id", "name"}, {"1", "Ann"}, {}, {"2", "Bo"}}
	for i, r := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow("Sheet1", cell, &r); err != nil {
			t.Fatal(err)
		}
	}
	buf, err := f.WriteToBuffer()
	if err != nil {
		t.Fatal(err)
	}
	tab, err = ParseXLSX(buf.Bytes(), "")
	if err != nil {
		t.Fatal(err)
	}
	if len(tab.Rows) != 2 || tab.Value(tab.Rows[1], "name") != "Bo" || tab.Rows[1].Num != 4 {
		t.Fatalf("xlsx rows %+v", tab.Rows)
	}
	if _, err := ParseXLSX([]byte("not a zip"), ""); err == nil {
		t.Fatal("garbage parsed as XLSX")
	}
}

func TestParseJSONRefusesDuplicateKeys(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`[{"user_id":"1","user_id":"2"}]`, `row 1: key "user_id" appears twice`},
		{`[{"id":"1"},{"id":"2","name":"a","name":"b"}]`, `row 2: key "name" appears twice`},
	} {
		tab, err := ParseJSON([]byte(c.in))
		if err == nil || err.Error() != c.want {
			t.Errorf("ParseJSON(%s) = %+v, %v; want error %q", c.in, tab, err, c.want)
		}
	}
	// The same key in different rows, or nested, is no duplicate.
	tab, err := ParseJSON([]byte(`[{"id":"1","x":{"id":2}},{"id":"2"}]`))
	if err != nil || len(tab.Rows) != 2 || tab.Value(tab.Rows[0], "x") != `{"id":2}` {
		t.Fatalf("ParseJSON = %+v, %v", tab, err)
	}
	for _, bad := range []string{`[null]`, `[{"a":1}`, `[{"a":1},]`, `[{"a" 1}]`, `[]]`, `[{}] [`, `[{1:2}]`} {
		if _, err := ParseJSON([]byte(bad)); err == nil {
			t.Errorf("ParseJSON(%q) succeeded", bad)
		}
	}
}
