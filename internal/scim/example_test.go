package scim

import (
	"os"
	"testing"

	"github.com/tango-iga/tango/internal/config"
)

// The scim source of examples/tango.yaml compiles against the paths a
// User has.
func TestExampleConfigSCIMMapping(t *testing.T) {
	t.Setenv("LDAP_PASSWORD", "x")
	t.Setenv("CRM_SCIM_TOKEN", "x")
	b, err := os.ReadFile("../../examples/tango.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Parse(b, "examples/tango.yaml")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for i := range cfg.Sources {
		if src := &cfg.Sources[i]; src.Kind == "scim" {
			n++
			um, err := newUserMapper(src)
			if err != nil || um.m == nil {
				t.Fatalf("source %s: %v", src.Name, err)
			}
		}
	}
	if n == 0 {
		t.Fatal("the example has no scim source")
	}
}
