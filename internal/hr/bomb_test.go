package hr

import (
	"context"
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
