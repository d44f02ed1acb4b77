package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tango-iga/tango/internal/app"
)

// configCmd is `tango config check`.
func configCmd(g *globals) *cobra.Command {
	c := &cobra.Command{Use: "config", Short: "The config file (tango.yaml)"}
	check := &cobra.Command{
		Use:   "check",
		Short: "Check the whole config and report every error at once",
		Long: `Runs the check every command runs on the config: keys and values, secret
references, source mappings, role conditions, app connectors and
expressions, playbooks. Exit 0 with a summary when it is valid, 1 listing
every error with where it is.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, path, err := app.CheckConfig(g.config)
			if err != nil {
				return &exitError{code: exitFail, err: err}
			}
			if path == "" {
				path = "(built-in; no " + app.DefaultConfig + ")"
			}
			fmt.Fprintf(cmd.OutOrStdout(), "config %s OK: %d source(s), %d app(s), %d role(s), %d separation-of-duties rule(s)\n",
				path, len(cfg.Sources), len(cfg.Apps), len(cfg.Roles), len(cfg.SoD))
			return nil
		},
	}
	c.AddCommand(check)
	return c
}
