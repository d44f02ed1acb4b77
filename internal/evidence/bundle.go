// Package evidence writes and checks the bundles an auditor takes away: the
// rows of a review campaign or of every leaver's offboarding as CSV and
// XLSX, a PDF summary, and manifest.json naming every file with its
// SHA-256, so that the bundle can be checked offline (`tango evidence
// verify DIR`) without Tango's database.
package evidence

import (
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/go-pdf/fpdf"
	"github.com/xuri/excelize/v2"
)

// Format names the manifest's layout.
const Format = "tango-evidence/1"

// ManifestName is the manifest's file name in a bundle.
const ManifestName = "manifest.json"

// maxManifest bounds the manifest read by Verify.
const maxManifest = 4 << 20

// Table is one list of rows, written as NAME.csv and as a sheet NAME of
// evidence.xlsx.
type Table struct {
	Name   string
	Header []string
	Rows   [][]string
}

// Bundle is what an export writes.
type Bundle struct {
	Kind   string            // "leavers", "campaign"
	Title  string            // the PDF's heading
	Params map[string]string // what was asked: since, campaign …
	// Summary is the PDF's body: label and value lines, then notes.
	Summary []Line
	Notes   []string
	Tables  []Table
	// SnapshotDigest is the digest of the reviewed population (campaigns).
	SnapshotDigest string
	// Checkpoint is a signed head of the audit trail, as the audit
	// package writes it; empty when no signing key is configured.
	Checkpoint json.RawMessage
}

// Line is one "label: value" line of the summary.
type Line struct{ Label, Value string }

// File is one file of a bundle as the manifest lists it.
type File struct {
	Name   string `json:"name"`
	SHA256 string `json:"sha256"`
	Bytes  int64  `json:"bytes"`
}

// Manifest is manifest.json.
type Manifest struct {
	Format         string            `json:"format"`
	Kind           string            `json:"kind"`
	CreatedAt      time.Time         `json:"created_at"`
	Params         map[string]string `json:"params,omitempty"`
	Rows           map[string]int    `json:"rows"`
	Files          []File            `json:"files"`
	SnapshotDigest string            `json:"snapshot_digest,omitempty"`
	Checkpoint     json.RawMessage   `json:"checkpoint,omitempty"`
}

// Write writes the bundle into dir (created if missing; it must hold no
// bundle yet) and returns its manifest.
func Write(dir string, b Bundle, now time.Time) (Manifest, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return Manifest{}, fmt.Errorf("evidence: %w", err)
	}
	if _, err := os.Stat(filepath.Join(dir, ManifestName)); err == nil {
		return Manifest{}, fmt.Errorf("evidence: %s already holds a bundle (%s); choose an empty directory", dir, ManifestName)
	}
	m := Manifest{Format: Format, Kind: b.Kind, CreatedAt: now.UTC(), Params: b.Params, Rows: map[string]int{},
		SnapshotDigest: b.SnapshotDigest, Checkpoint: b.Checkpoint}
	var names []string
	for _, t := range b.Tables {
		m.Rows[t.Name] = len(t.Rows)
		name := t.Name + ".csv"
		if err := writeFile(dir, name, func(w io.Writer) error { return writeCSV(w, t) }); err != nil {
			return m, err
		}
		names = append(names, name)
	}
	if err := writeFile(dir, "evidence.xlsx", func(w io.Writer) error { return writeXLSX(w, b.Tables) }); err != nil {
		return m, err
	}
	names = append(names, "evidence.xlsx")
	if err := writeFile(dir, "summary.pdf", func(w io.Writer) error { return writePDF(w, b, now) }); err != nil {
		return m, err
	}
	names = append(names, "summary.pdf")
	for _, n := range names {
		sum, size, err := digest(filepath.Join(dir, n))
		if err != nil {
			return m, err
		}
		m.Files = append(m.Files, File{Name: n, SHA256: sum, Bytes: size})
	}
	out, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return m, err
	}
	return m, os.WriteFile(filepath.Join(dir, ManifestName), append(out, '\n'), 0o640)
}

func writeFile(dir, name string, fill func(io.Writer) error) error {
	f, err := os.OpenFile(filepath.Join(dir, name), os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o640)
	if err != nil {
		return fmt.Errorf("evidence: %w", err)
	}
	if err := fill(f); err != nil {
		f.Close()
		return fmt.Errorf("evidence: writing %s: %w", name, err)
	}
	return f.Close()
}

// cell keeps a value a spreadsheet would run as a formula (=, +, -, @,
// tab, CR at its start) as text: HR data is outside input.
func cell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

func writeCSV(w io.Writer, t Table) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(t.Header); err != nil {
		return err
	}
	row := make([]string, len(t.Header))
	for _, r := range t.Rows {
		for i := range row {
			row[i] = ""
			if i < len(r) {
				row[i] = cell(r[i])
			}
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func writeXLSX(w io.Writer, tables []Table) error {
	f := excelize.NewFile()
	defer f.Close()
	for i, t := range tables {
		sheet := t.Name
		if i == 0 {
			if err := f.SetSheetName("Sheet1", sheet); err != nil {
				return err
			}
		} else if _, err := f.NewSheet(sheet); err != nil {
			return err
		}
		sw, err := f.NewStreamWriter(sheet)
		if err != nil {
			return err
		}
		put := func(n int, vals []string) error {
			row := make([]any, len(t.Header))
			for j := range row {
				v := ""
				if j < len(vals) {
					v = vals[j]
				}
				row[j] = excelize.Cell{Value: v} // strings: never formulas
			}
			addr, _ := excelize.CoordinatesToCellName(1, n)
			return sw.SetRow(addr, row)
		}
		if err := put(1, t.Header); err != nil {
			return err
		}
		for j, r := range t.Rows {
			if err := put(j+2, r); err != nil {
				return err
			}
		}
		if err := sw.Flush(); err != nil {
			return err
		}
	}
	if len(tables) == 0 {
		if err := f.SetCellStr("Sheet1", "A1", "no rows"); err != nil {
			return err
		}
	}
	_, err := f.WriteTo(w)
	return err
}

// latin1 keeps what the PDF's core fonts can draw.
func latin1(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0xff {
			if r == '\n' {
				return r
			}
			return '?'
		}
		return r
	}, s)
}

func writePDF(w io.Writer, b Bundle, now time.Time) error {
	p := fpdf.New("P", "mm", "A4", "")
	p.SetTitle(latin1(b.Title), false)
	p.SetCreator("Tango", false)
	p.SetCreationDate(now)
	p.SetModificationDate(now)
	p.AddPage()
	p.SetFont("Helvetica", "B", 16)
	p.MultiCell(0, 8, latin1(b.Title), "", "L", false)
	p.SetFont("Helvetica", "", 9)
	p.CellFormat(0, 6, latin1("Generated "+now.UTC().Format(time.RFC3339)+" by Tango; each file's SHA-256 is in manifest.json."), "", 1, "L", false, 0, "")
	p.Ln(3)
	p.SetFont("Helvetica", "", 11)
	for _, l := range b.Summary {
		p.SetFont("Helvetica", "B", 11)
		p.CellFormat(70, 7, latin1(l.Label), "B", 0, "L", false, 0, "")
		p.SetFont("Helvetica", "", 11)
		p.CellFormat(0, 7, latin1(l.Value), "B", 1, "L", false, 0, "")
	}
	if len(b.Notes) > 0 {
		p.Ln(4)
		p.SetFont("Helvetica", "B", 12)
		p.CellFormat(0, 7, "Exceptions and notes", "", 1, "L", false, 0, "")
		p.SetFont("Helvetica", "", 10)
		for _, n := range b.Notes {
			p.MultiCell(0, 5.5, latin1("- "+n), "", "L", false)
		}
	}
	if b.SnapshotDigest != "" || len(b.Checkpoint) > 0 {
		p.Ln(4)
		p.SetFont("Courier", "", 8)
		if b.SnapshotDigest != "" {
			p.MultiCell(0, 4.5, latin1("snapshot digest: "+b.SnapshotDigest), "", "L", false)
		}
		if len(b.Checkpoint) > 0 {
			p.MultiCell(0, 4.5, latin1("audit checkpoint: "+string(b.Checkpoint)), "", "L", false)
		}
	}
	return p.Output(w)
}

func digest(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, fmt.Errorf("evidence: reading %s: %w", filepath.Base(path), err)
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// ErrTampered: a file of the bundle differs from its manifest.
var ErrTampered = errors.New("the bundle does not match its manifest")

// CheckpointCheck verifies a bundle's signed checkpoint; nil skips it.
type CheckpointCheck func(raw json.RawMessage) error

// Verify checks a bundle offline: every file the manifest lists exists with
// its SHA-256 and size, no other file is in the directory, and the
// checkpoint verifies (when check is given). The error names the first
// file that differs.
func Verify(dir string, check CheckpointCheck) (Manifest, error) {
	var m Manifest
	f, err := os.Open(filepath.Join(dir, ManifestName))
	if err != nil {
		return m, fmt.Errorf("evidence: %s: %w", dir, err)
	}
	defer f.Close()
	raw, err := io.ReadAll(io.LimitReader(f, maxManifest+1))
	if err != nil {
		return m, fmt.Errorf("evidence: reading %s: %w", ManifestName, err)
	}
	if len(raw) > maxManifest {
		return m, fmt.Errorf("%w: %s is larger than %d bytes", ErrTampered, ManifestName, maxManifest)
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		return m, fmt.Errorf("%w: %s does not parse: %v", ErrTampered, ManifestName, err)
	}
	if m.Format != Format {
		return m, fmt.Errorf("%w: %s has format %q, want %q", ErrTampered, ManifestName, m.Format, Format)
	}
	if len(m.Files) == 0 {
		return m, fmt.Errorf("%w: %s lists no file", ErrTampered, ManifestName)
	}
	listed := map[string]bool{ManifestName: true}
	for _, file := range m.Files {
		if file.Name != filepath.Base(file.Name) || file.Name == "." || file.Name == ".." || strings.ContainsAny(file.Name, `/\`) {
			return m, fmt.Errorf("%w: %s names %q, which is not a file of the bundle's directory", ErrTampered, ManifestName, file.Name)
		}
		listed[file.Name] = true
		sum, size, err := digest(filepath.Join(dir, file.Name))
		if errors.Is(err, os.ErrNotExist) {
			return m, fmt.Errorf("%w: %s is missing", ErrTampered, file.Name)
		}
		if err != nil {
			return m, err
		}
		if sum != file.SHA256 || size != file.Bytes {
			return m, fmt.Errorf("%w: %s has SHA-256 %s (%d bytes), the manifest says %s (%d bytes)", ErrTampered, file.Name, sum, size, file.SHA256, file.Bytes)
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return m, err
	}
	var extra []string
	for _, e := range entries {
		if !listed[e.Name()] {
			extra = append(extra, e.Name())
		}
	}
	if len(extra) > 0 {
		slices.Sort(extra)
		return m, fmt.Errorf("%w: %s not listed in %s", ErrTampered, strings.Join(extra, ", "), ManifestName)
	}
	if check != nil && len(m.Checkpoint) > 0 {
		if err := check(m.Checkpoint); err != nil {
			return m, fmt.Errorf("%w: the audit checkpoint: %v", ErrTampered, err)
		}
	}
	return m, nil
}
