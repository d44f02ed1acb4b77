package main

import (
	"slices"
	"testing"

	"github.com/spf13/cobra"

	"github.com/tango-iga/tango/internal/authz"
)

// Every command that runs names the permission it needs in cliPerms.
func TestEveryCommandNamesAPermission(t *testing.T) {
	root := newRoot()
	var walk func(c *cobra.Command)
	seen := map[string]bool{}
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			walk(sub)
		}
		if !c.Runnable() || c.HasSubCommands() || c.Name() == "help" || c.HasParent() && c.Parent().Name() == "completion" || c.Name() == "completion" {
			return
		}
		path := c.CommandPath()
		seen[path] = true
		perm, ok := cliPerms[path]
		if !ok {
			t.Errorf("%s names no permission: add it to cliPerms", path)
		} else if !slices.Contains(authz.Permissions, perm) {
			t.Errorf("%s: unknown permission %q", path, perm)
		}
	}
	walk(root)
	for path := range cliPerms {
		if !seen[path] {
			t.Errorf("cliPerms lists %s, which is not a command", path)
		}
	}
}
