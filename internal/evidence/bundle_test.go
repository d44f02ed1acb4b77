package evidence

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestVerifyRefusesForeignManifests(t *testing.T) {
	dir := t.TempDir()
	b := Bundle{Kind: "test", Title: "Test", Tables: []Table{{Name: "items", Header: []string{"a"}, Rows: [][]string{{"=1+1"}}}}}
	m, err := Write(dir, b, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Verify(dir, nil); err != nil {
		t.Fatalf("a fresh bundle: %v", err)
	}
	for name, edit := range map[string]func(*Manifest){
		"a path outside":   func(m *Manifest) { m.Files[0].Name = "../secret" },
		"an absolute path": func(m *Manifest) { m.Files[0].Name = "/etc/passwd" },
		"another format":   func(m *Manifest) { m.Format = "other" },
		"no file":          func(m *Manifest) { m.Files = nil },
		"a wrong size":     func(m *Manifest) { m.Files[1].Bytes++ },
	} {
		bad := m
		bad.Files = append([]File(nil), m.Files...)
		edit(&bad)
		raw, _ := json.Marshal(bad)
		d := t.TempDir()
		for _, f := range m.Files {
			data, _ := os.ReadFile(filepath.Join(dir, f.Name))
			os.WriteFile(filepath.Join(d, f.Name), data, 0o600)
		}
		os.WriteFile(filepath.Join(d, ManifestName), raw, 0o600)
		if _, err := Verify(d, nil); err == nil || !strings.Contains(err.Error(), "manifest") {
			t.Errorf("%s: %v, want a refusal naming the manifest", name, err)
		}
	}
	huge := t.TempDir()
	os.WriteFile(filepath.Join(huge, ManifestName), make([]byte, maxManifest+10), 0o600)
	if _, err := Verify(huge, nil); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("a huge manifest: %v", err)
	}
	rows, _ := os.ReadFile(filepath.Join(dir, "items.csv"))
	if !strings.Contains(string(rows), "'=1+1") {
		t.Errorf("items.csv keeps a formula: %s", rows)
	}
}

// FuzzVerify: whatever manifest.json holds, Verify answers without
// panicking and never accepts a manifest naming a file outside the bundle.
func FuzzVerify(f *testing.F) {
	f.Add([]byte(`{"format":"tango-evidence/1","files":[{"name":"a.csv","sha256":"00","bytes":1}]}`))
	f.Add([]byte(`{"format":"tango-evidence/1","files":[{"name":"../a.csv"}]}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, ManifestName), raw, 0o600)
		m, err := Verify(dir, nil)
		if err == nil {
			for _, file := range m.Files {
				if strings.ContainsAny(file.Name, `/\`) {
					t.Fatalf("accepted %q", file.Name)
				}
			}
		}
	})
}
