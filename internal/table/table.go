// Package table reads tabular files (CSV, JSON arrays of objects, XLSX
// workbooks) into a table of named columns and numbered rows: it tells
// the format from a flag, the file name or the content, and reports
// problems by row and column as a person sees them. HR feeds and the
// assets register are read with it.
package table

import (
	"archive/zip"
	"bytes"
	"cmp"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
)

// Table is a parsed feed: column names and rows of values by column.
type Table struct {
	Columns []string
	Rows    []Row
}

// Row is one record of a feed. Num is the number a person sees: the
// spreadsheet row for CSV and XLSX (the header is row 1), the 1-based
// position in the array for JSON. Values are in the order of the table's
// Columns.
type Row struct {
	Num    int
	Values []string
}

// Value returns the row's value in the named column ("" if there is none).
func (t *Table) Value(r Row, column string) string {
	for i, c := range t.Columns {
		if c == column && i < len(r.Values) {
			return r.Values[i]
		}
	}
	return ""
}

// Formats are the feed formats Tango reads.
var Formats = []string{"csv", "json", "xlsx"}

// sniff tells a feed's format from its first bytes: "xlsx" for a ZIP
// archive (an XLSX workbook is one), "json" for text starting with [ or {,
// "csv" for other UTF-8 text, "" for other binary data.
func sniff(data []byte) string {
	if bytes.HasPrefix(data, []byte("PK\x03\x04")) {
		return "xlsx"
	}
	head := bytes.TrimLeft(bytes.TrimPrefix(data, bom), " \t\r\n")
	if len(head) > 0 && (head[0] == '[' || head[0] == '{') {
		return "json"
	}
	if len(head) > 4096 {
		head = head[:4096]
	}
	for len(head) > 0 {
		r, n := utf8.DecodeRune(head)
		if r == utf8.RuneError && n == 1 && len(head) >= utf8.UTFMax {
			return ""
		}
		head = head[n:]
	}
	return "csv"
}

var describe = map[string]string{"xlsx": "an XLSX workbook (a ZIP archive)", "json": "JSON", "csv": "text (CSV)", "": "binary data, neither text nor XLSX"}

// ChooseFormat decides how to read a feed named name: format when it is
// set (why says who set it, such as "--format" or "format: csv on source
// \"hris\""), else the file's extension, else its content. It returns the
// format and the reason for it. A chosen format that the content plainly
// contradicts (a workbook read as CSV, JSON read as XLSX) is an error that
// names the format tried, why, and what the content is.
func ChooseFormat(format, why, name string, data []byte) (string, string, error) {
	content := sniff(data)
	if format == "" {
		switch strings.ToLower(filepath.Ext(name)) {
		case ".csv", ".txt":
			format, why = "csv", "from the file extension"
		case ".json":
			format, why = "json", "from the file extension"
		case ".xlsx":
			format, why = "xlsx", "from the file extension"
		default:
			if content == "" {
				return "", "", fmt.Errorf("cannot tell the format: the file extension is not .csv, .json or .xlsx and the content is %s; pass --format csv, json or xlsx", describe[content])
			}
			return content, "from the content", nil
		}
	}
	if !slices.Contains(Formats, format) {
		return "", "", fmt.Errorf("format %q (%s): want csv, json or xlsx", format, why)
	}
	// Content that is plainly another format: a workbook or a JSON document
	// read as anything else, or text read as a workbook.
	if content != format && (content == "xlsx" || content == "json" || format == "xlsx") {
		return "", "", fmt.Errorf("tried format %s (%s), but the content is %s; pass --format %s, or leave format unset on the source to go by the file",
			format, why, describe[content], cmp.Or(content, "csv|json|xlsx"))
	}
	return format, why, nil
}

// Parse reads a whole feed in the given format. The error names the
// file and, where it can, the row.
func Parse(name, format string, data []byte, sheet string) (*Table, error) {
	var t *Table
	var err error
	switch format {
	case "csv":
		t, err = ParseCSV(data)
	case "json":
		t, err = ParseJSON(data)
	case "xlsx":
		t, err = ParseXLSX(data, sheet)
	default:
		err = fmt.Errorf("unknown format %q", format)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return t, nil
}

var bom = []byte{0xEF, 0xBB, 0xBF}

// ParseCSV reads RFC 4180 CSV (quoted commas, quotes and newlines), UTF-8
// with or without a byte-order mark. The first record is the header.
func ParseCSV(data []byte) (*Table, error) {
	data = bytes.TrimPrefix(data, bom)
	if !utf8.Valid(data) {
		return nil, errors.New("not valid UTF-8 text; export the file as UTF-8")
	}
	r := csv.NewReader(bytes.NewReader(data))
	r.ReuseRecord = true
	header, err := r.Read()
	if err == io.EOF {
		return nil, errors.New("empty file: no header row")
	}
	if err != nil {
		return nil, csvErr(err)
	}
	cols, err := columns(header)
	if err != nil {
		return nil, err
	}
	t := &Table{Columns: cols}
	num := 1
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		num++
		if err != nil {
			return nil, csvErr(err)
		}
		if len(rec) == 1 && rec[0] == "" {
			continue // blank line
		}
		if len(rec) != len(cols) {
			return nil, fmt.Errorf("row %d: has %d fields, the header has %d", num, len(rec), len(cols))
		}
		vals := make([]string, len(cols))
		for i := range cols {
			vals[i] = strings.TrimSpace(rec[i])
		}
		t.Rows = append(t.Rows, Row{Num: num, Values: vals})
	}
	return t, nil
}

func csvErr(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return fmt.Errorf("line %d, column %d: %v", pe.Line, pe.Column, pe.Err)
	}
	return err
}

func columns(header []string) ([]string, error) {
	cols := make([]string, len(header))
	seen := map[string]bool{}
	for i, h := range header {
		h = strings.TrimSpace(h)
		if h == "" {
			return nil, fmt.Errorf("header: column %d has no name", i+1)
		}
		if seen[h] {
			return nil, fmt.Errorf("header: column %q appears twice", h)
		}
		seen[h] = true
		cols[i] = h
	}
	return cols, nil
}

// ParseJSON reads an array of objects. Values may be strings, numbers,
// booleans or null; nested values are kept as their JSON text. A key that
// appears twice in one object is an error naming the row and the key
// (which of the two values was meant cannot be told).
func ParseJSON(data []byte) (*Table, error) {
	data = bytes.TrimPrefix(data, bom)
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, jsonErr(err)
	}
	if tok != json.Delim('[') {
		return nil, fmt.Errorf("want an array of objects, found %s at byte %d", jsonKind(tok), dec.InputOffset())
	}
	var objs []map[string]string
	colSet := map[string]bool{}
	t := &Table{}
	for dec.More() {
		row := len(objs) + 1
		if tok, err = dec.Token(); err != nil {
			return nil, jsonErr(err)
		}
		if tok != json.Delim('{') {
			return nil, fmt.Errorf("row %d: want an object, found %s at byte %d", row, jsonKind(tok), dec.InputOffset())
		}
		obj := map[string]string{}
		for dec.More() {
			if tok, err = dec.Token(); err != nil {
				return nil, jsonErr(err)
			}
			k := tok.(string) // the decoder only gives a string where a key belongs
			if _, dup := obj[k]; dup {
				return nil, fmt.Errorf("row %d: key %q appears twice", row, k)
			}
			var v any
			if err := dec.Decode(&v); err != nil {
				return nil, jsonErr(err)
			}
			obj[k] = jsonValue(v)
			if !colSet[k] {
				colSet[k] = true
				t.Columns = append(t.Columns, k)
			}
		}
		if _, err := dec.Token(); err != nil { // the closing }
			return nil, jsonErr(err)
		}
		objs = append(objs, obj)
	}
	if _, err := dec.Token(); err != nil { // the closing ]
		return nil, jsonErr(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("invalid JSON: data after the array")
	}
	sort.Strings(t.Columns)
	for i, obj := range objs {
		vals := make([]string, len(t.Columns))
		for j, k := range t.Columns {
			vals[j] = obj[k]
		}
		t.Rows = append(t.Rows, Row{Num: i + 1, Values: vals})
	}
	return t, nil
}

func jsonErr(err error) error {
	var se *json.SyntaxError
	switch {
	case errors.As(err, &se):
		return fmt.Errorf("invalid JSON at byte %d: %v", se.Offset, se)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return errors.New("invalid JSON: it ends too soon")
	}
	return fmt.Errorf("invalid JSON: %v", err)
}

// jsonKind names what a JSON token starts.
func jsonKind(tok json.Token) string {
	switch x := tok.(type) {
	case json.Delim:
		if x == '{' {
			return "an object"
		}
		return "an array"
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	}
	return "null"
}

// jsonValue is a JSON value as a cell: strings trimmed, numbers and
// booleans as written, null empty, nested values as JSON text.
func jsonValue(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return strings.TrimSpace(x)
	case json.Number:
		return x.String()
	case bool:
		return strconv.FormatBool(x)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// Limits on a workbook: an XLSX file is a ZIP archive, and a small one can
// unpack to gigabytes (a "zip bomb") or hold a sheet of millions of empty
// cells. Feeds past them are refused before they are read, or at the row
// that passes them, with an error naming the limit.
const (
	// MaxXLSXUnpacked bounds the unpacked size of the whole workbook, as
	// its ZIP headers declare it (Go's archive/zip refuses an entry that
	// unpacks to more than its header says, so the headers cannot lie
	// upwards).
	MaxXLSXUnpacked = 128 << 20
	// MaxXLSXEntries bounds the number of files in the archive.
	MaxXLSXEntries = 10000
	// MaxXLSXColumns bounds the columns of a row (header included).
	MaxXLSXColumns = 1000
	// MaxXLSXCells bounds the cells read from a sheet (rows times their
	// columns up to the last filled one).
	MaxXLSXCells = 10_000_000
)

// xlsxLimits are the limits in force (tests lower them).
var xlsxLimits = struct {
	unpacked int64
	entries  int
	columns  int
	cells    int
}{MaxXLSXUnpacked, MaxXLSXEntries, MaxXLSXColumns, MaxXLSXCells}

// checkZip refuses a workbook whose archive declares more than the limits,
// before anything is unpacked.
func checkZip(data []byte) error {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return fmt.Errorf("not a readable XLSX workbook: %v", err)
	}
	if len(zr.File) > xlsxLimits.entries {
		return fmt.Errorf("the workbook holds %d files, more than the %d Tango reads", len(zr.File), xlsxLimits.entries)
	}
	var total uint64
	for _, f := range zr.File {
		total += f.UncompressedSize64
		if f.UncompressedSize64 > uint64(xlsxLimits.unpacked) || total > uint64(xlsxLimits.unpacked) {
			return fmt.Errorf("the workbook unpacks to more than %d MiB (%s alone is %d MiB), the most Tango reads; export the feed as CSV or split it",
				xlsxLimits.unpacked>>20, f.Name, f.UncompressedSize64>>20)
		}
	}
	// Headers can lie. Unpack every entry once, counting, into nothing:
	// archive/zip stops an entry at the size its header declares (and
	// checks its CRC), and the reader below would take a cut-off sheet for
	// a short one, so a lie is refused here.
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			return fmt.Errorf("not a readable XLSX workbook: %s: %v", f.Name, err)
		}
		n, err := io.Copy(io.Discard, io.LimitReader(rc, xlsxLimits.unpacked+1))
		rc.Close()
		switch {
		case n > xlsxLimits.unpacked:
			return fmt.Errorf("the workbook unpacks to more than %d MiB (%s), the most Tango reads; export the feed as CSV or split it", xlsxLimits.unpacked>>20, f.Name)
		case err != nil:
			return fmt.Errorf("not a readable XLSX workbook: %s does not unpack to what the archive says (%v)", f.Name, err)
		}
	}
	return nil
}

// ParseXLSX reads the named sheet (or the first) of a workbook; the first
// row is the header.
func ParseXLSX(data []byte, sheet string) (*Table, error) {
	if err := checkZip(data); err != nil {
		return nil, err
	}
	// Big sheets are unpacked to temporary files rather than memory
	// (excelize's UnzipXMLSizeLimit); the size limit is checked again there.
	f, err := excelize.OpenReader(bytes.NewReader(data), excelize.Options{UnzipSizeLimit: xlsxLimits.unpacked})
	if err != nil {
		return nil, fmt.Errorf("not a readable XLSX workbook: %v", err)
	}
	defer f.Close()
	if sheet == "" {
		sheets := f.GetSheetList()
		if len(sheets) == 0 {
			return nil, errors.New("workbook has no sheets")
		}
		sheet = sheets[0]
	}
	rows, err := f.Rows(sheet)
	if err != nil {
		return nil, fmt.Errorf("sheet %q: %v", sheet, err)
	}
	defer rows.Close()
	var t *Table
	num, cells := 0, 0
	for rows.Next() {
		num++
		rec, err := rows.Columns()
		if err != nil {
			return nil, fmt.Errorf("sheet %q row %d: %v", sheet, num, err)
		}
		if len(rec) > xlsxLimits.columns {
			return nil, fmt.Errorf("sheet %q row %d: more than %d columns, the most Tango reads", sheet, num, xlsxLimits.columns)
		}
		if cells += max(len(rec), 1); cells > xlsxLimits.cells {
			return nil, fmt.Errorf("sheet %q row %d: more than %d cells, the most Tango reads; export the feed as CSV or split it", sheet, num, xlsxLimits.cells)
		}
		if t == nil {
			cols, err := columns(rec)
			if err != nil {
				return nil, fmt.Errorf("sheet %q: %w", sheet, err)
			}
			t = &Table{Columns: cols}
			continue
		}
		empty := true
		vals := make([]string, len(t.Columns))
		for i := range t.Columns {
			if i < len(rec) {
				vals[i] = strings.TrimSpace(rec[i])
			}
			if vals[i] != "" {
				empty = false
			}
		}
		if len(rec) > len(t.Columns) {
			for _, extra := range rec[len(t.Columns):] {
				if strings.TrimSpace(extra) != "" {
					return nil, fmt.Errorf("sheet %q row %d: has values beyond the %d header columns", sheet, num, len(t.Columns))
				}
			}
		}
		if empty {
			continue
		}
		t.Rows = append(t.Rows, Row{Num: num, Values: vals})
	}
	if err := rows.Error(); err != nil {
		return nil, fmt.Errorf("sheet %q: %v", sheet, err)
	}
	if t == nil {
		return nil, fmt.Errorf("sheet %q is empty: no header row", sheet)
	}
	return t, nil
}
