package table

import (
	"testing"

	"github.com/xuri/excelize/v2"
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

// FuzzParseJSON: no input panics the JSON reader; rows are numbered 1..n
// and have the table's columns; a key appears once per object.
func FuzzParseJSON(f *testing.F) {
	f.Add([]byte(`[{"id":"1","name":"Ann"}]`))
	f.Add([]byte(`[{"id":"1","id":"2"}]`))
	f.Add([]byte(`[{"id":1,"x":{"a":[1,2]}},{"id":null}]`))
	f.Add([]byte(`{"id":1}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		tab, err := ParseJSON(data)
		if err != nil {
			return
		}
		for i, r := range tab.Rows {
			if r.Num != i+1 || len(r.Values) != len(tab.Columns) {
				t.Fatalf("row %d numbered %d has %d values for %d columns", i, r.Num, len(r.Values), len(tab.Columns))
			}
		}
	})
}

// FuzzParseXLSX: no archive panics or hangs the XLSX reader, and every
// row it accepts has exactly the header's columns.
func FuzzParseXLSX(f *testing.F) {
	wb := excelize.NewFile()
	for i, r := range [][]any{{"id", "name"}, {"1", "Ann"}, {}, {"2", "Bo"}} {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := wb.SetSheetRow("Sheet1", cell, &r); err != nil {
			f.Fatal(err)
		}
	}
	buf, err := wb.WriteToBuffer()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Add([]byte("PK\x03\x04"))
	f.Fuzz(func(t *testing.T, data []byte) {
		tab, err := ParseXLSX(data, "")
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
