package hr

import (
	"context"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/tango-iga/tango/internal/store"
	"github.com/tango-iga/tango/internal/testenv"
)

// TestImportRefusesXLSXBomb: the import (tango hr import and POST
// /api/v1/imports both come here) rejects a workbook that unpacks to 1 GiB
// with the limit named, writing no person.
func TestImportRefusesXLSXBomb(t *testing.T) {
	st := openStore(t)
	o := Options{Actor: "test", Now: func() time.Time { return now }}
	res, err := ImportFile(context.Background(), st, cfg(), src(), "bomb.xlsx", testenv.XLSXBomb(t, 1<<30, 0), o)
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != store.ImportRejected || len(res.Errors) != 1 || !strings.Contains(res.Errors[0].Message, "more than 128 MiB") {
		t.Fatalf("import of a bomb: %s %+v", res.Status, res.Errors)
	}
	if ps, _ := st.Persons(context.Background(), store.PersonFilter{}); len(ps) != 0 {
		t.Fatalf("%d persons written", len(ps))
	}
}

// TestEmployeeIDControlCharacters: an employee ID holding a control
// character (NUL, tab, DEL, NEL) is a row error naming the row and the
// key column, and the feed is rejected.
func TestEmployeeIDControlCharacters(t *testing.T) {
	st := openStore(t)
	feed := header +
		"E1,Ann Boss,ann@dtaa.com,CEO,Exec,,,,\n" +
		"E\x002,Nul,n@dtaa.com,Eng,Eng,E1,,,\n" + // row 3
		"\"E\t3\",Tab,t@dtaa.com,Eng,Eng,E1,,,\n" + // row 4
		"E4\x7f,Del,d@dtaa.com,Eng,Eng,E1,,,\n" + // row 5
		"E5\u0085x,Nel,l@dtaa.com,Eng,Eng,E1,,,\n" + // row 6
		"\"EVIL1,ou=admins\",Fine,f@dtaa.com,Eng,Eng,E1,,,\n" // row 7: odd but printable
	res := run(t, st, feed)
	if res.Status != store.ImportRejected {
		t.Fatalf("status %s, want rejected; errors %+v", res.Status, res.Errors)
	}
	got := map[int]string{}
	for _, e := range res.Errors {
		got[e.Row] = e.Column
		if !strings.Contains(e.Message, "control character") {
			t.Errorf("row %d: message %q does not say why", e.Row, e.Message)
		}
	}
	if want := map[int]string{3: "id", 4: "id", 5: "id", 6: "id"}; !maps.Equal(got, want) {
		t.Fatalf("errors by row %v, want %v; all %+v", got, want, res.Errors)
	}
}
