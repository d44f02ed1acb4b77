package table

import (
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/tango-iga/tango/internal/testenv"
)

// allocated is how many bytes f allocates.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestXLSXBombRefused: a workbook whose sheet unpacks to 1 GiB (a 1 MiB
// file) is refused before it is read, naming the file and the limit; one
// whose headers claim a small sheet that really unpacks to much more is
// cut off at what the headers say. Neither allocates more than a few
// times the limit.
func TestXLSXBombRefused(t *testing.T) {
	bomb := testenv.XLSXBomb(t, 1<<30, 0)
	if len(bomb) > 4<<20 {
		t.Fatalf("the bomb is %d bytes, want a small file", len(bomb))
	}
	var err error
	n := allocated(func() { _, err = Parse("bomb.xlsx", "xlsx", bomb, "") })
	if err == nil || !strings.Contains(err.Error(), "bomb.xlsx") || !strings.Contains(err.Error(), fmt.Sprintf("%d MiB", MaxXLSXUnpacked>>20)) {
		t.Fatalf("Parse(bomb) = %v, want an error naming the file and the %d MiB limit", err, MaxXLSXUnpacked>>20)
	}
	if n > 16<<20 {
		t.Fatalf("refusing the bomb allocated %d MiB", n>>20)
	}

	// Headers that lie: the sheet says 4 KiB, it unpacks to twice the limit.
	liar := testenv.XLSXBomb(t, 2*MaxXLSXUnpacked, 4<<10)
	n = allocated(func() { _, err = Parse("liar.xlsx", "xlsx", liar, "") })
	if err == nil || !strings.Contains(err.Error(), "liar.xlsx") || !strings.Contains(err.Error(), "xl/worksheets/sheet1.xml") {
		t.Fatalf("Parse(liar) = %v, want an error naming the file", err)
	}
	if n > 16<<20 {
		t.Fatalf("reading the lying workbook allocated %d MiB", n>>20)
	}
}

// TestXLSXCellLimits: too many columns, or cells, are refused at the row
// that passes the limit, naming the limit.
func TestXLSXCellLimits(t *testing.T) {
	f := excelize.NewFile()
	if err := f.SetCellValue("Sheet1", "A1", "id"); err != nil {
		t.Fatal(err)
	}
	if err := f.SetCellValue("Sheet1", "A2", "1"); err != nil {
		t.Fatal(err)
	}
	far, _ := excelize.CoordinatesToCellName(MaxXLSXColumns+1, 3)
	if err := f.SetCellValue("Sheet1", far, "x"); err != nil {
		t.Fatal(err)
	}
	buf, err := f.WriteToBuffer()
	if err != nil {
		t.Fatal(err)
	}
	_, err = Parse("wide.xlsx", "xlsx", buf.Bytes(), "")
	if err == nil || err.Error() != fmt.Sprintf(`wide.xlsx: sheet "Sheet1" row 3: more than %d columns, the most Tango reads`, MaxXLSXColumns) {
		t.Fatalf("Parse(wide) = %v", err)
	}

	f = excelize.NewFile()
	for i, r := range [][]any{{"id", "name"}, {"1", "Ann"}, {"2", "Bo"}, {"3", "Cy"}} {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow("Sheet1", cell, &r); err != nil {
			t.Fatal(err)
		}
	}
	if buf, err = f.WriteToBuffer(); err != nil {
		t.Fatal(err)
	}
	old := xlsxLimits.cells
	t.Cleanup(func() { xlsxLimits.cells = old })
	xlsxLimits.cells = 7
	_, err = Parse("many.xlsx", "xlsx", buf.Bytes(), "")
	if err == nil || !strings.HasPrefix(err.Error(), `many.xlsx: sheet "Sheet1" row 4: more than 7 cells`) {
		t.Fatalf("Parse(many) = %v", err)
	}
}
