package workflow

import (
	"fmt"
	"os"
	"strings"

	"github.com/tango-iga/tango/internal/table"
)

// Asset is one item of the asset register.
type Asset struct {
	Tag, Type, Serial, AssignedTo string
}

func (a Asset) String() string {
	s := strings.TrimSpace(a.Type + " " + a.Tag)
	if a.Serial != "" {
		s += " (serial " + a.Serial + ")"
	}
	return s
}

var assetColumns = map[string][]string{
	"tag":         {"asset_tag", "tag", "asset"},
	"type":        {"type", "asset_type", "kind"},
	"serial":      {"serial", "serial_number"},
	"assigned_to": {"assigned_to", "assigned_person", "employee_id", "user_id"},
}

// LoadAssets reads an asset register CSV export: a header row with
// asset_tag, type, serial and assigned_to (the employee ID).
func LoadAssets(path string) ([]Asset, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("asset register: %w", err)
	}
	t, err := table.ParseCSV(b)
	if err != nil {
		return nil, fmt.Errorf("asset register %s: %w", path, err)
	}
	col := map[string]string{}
	for field, names := range assetColumns {
		for _, n := range names {
			for _, c := range t.Columns {
				if strings.EqualFold(strings.TrimSpace(c), n) && col[field] == "" {
					col[field] = c
				}
			}
		}
	}
	if col["tag"] == "" || col["assigned_to"] == "" {
		return nil, fmt.Errorf("asset register %s: needs the columns asset_tag and assigned_to (found %s)", path, strings.Join(t.Columns, ", "))
	}
	var out []Asset
	for _, r := range t.Rows {
		get := func(f string) string {
			if col[f] == "" {
				return ""
			}
			return strings.TrimSpace(t.Value(r, col[f]))
		}
		a := Asset{Tag: get("tag"), Type: get("type"), Serial: get("serial"), AssignedTo: get("assigned_to")}
		if a.Tag != "" && a.AssignedTo != "" {
			out = append(out, a)
		}
	}
	return out, nil
}
