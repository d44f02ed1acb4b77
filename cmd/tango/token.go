package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/tango-iga/tango/internal/app"
	"github.com/tango-iga/tango/internal/auth"
	"github.com/tango-iga/tango/internal/authz"
	"github.com/tango-iga/tango/internal/request"
)

func tokenCmd(g *globals) *cobra.Command {
	c := &cobra.Command{Use: "token", Short: "API and SCIM bearer tokens"}
	var scope, name, person string
	var roles []string
	create := &cobra.Command{
		Use:   "create --scope api|scim|admin --name NAME [--person EMPLOYEE_ID] [--role ROLE]...",
		Short: "Create a bearer token, printed once as the last line of stdout",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			st, err := app.OpenStore(ctx, app.DSN(g.db))
			if err != nil {
				return err
			}
			defer st.Close()
			if person != "" {
				cfg, err := app.LoadConfig(g.config)
				if err != nil {
					return err
				}
				if _, err := request.FindPerson(ctx, st, cfg, person); err != nil {
					return fmt.Errorf("--person %s: %w", person, err)
				}
			}
			if person == "" && scope != "scim" && len(roles) == 0 {
				return fmt.Errorf("--role: a service token carries its roles explicitly; give at least one --role (%s), or --person for a token that acts as a person", serviceRoleNames())
			}
			tok, _, err := auth.CreateFor(ctx, st, name, scope, person, time.Now(), roles...)
			if err != nil {
				return err
			}
			if scope == "scim" {
				warnNoSCIMSource(cmd, g)
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "token %q (scope %s) created; it is shown only once:\n", name, scope)
			fmt.Fprintln(cmd.OutOrStdout(), tok)
			return nil
		},
	}
	create.Flags().StringVar(&scope, "scope", "", "api, scim or admin")
	create.Flags().StringVar(&name, "name", "", "who uses the token (shown in the audit trail)")
	create.Flags().StringVar(&person, "person", "", "employee ID the token acts as (access requests and approvals through the API)")
	create.Flags().StringArrayVar(&roles, "role", nil, "a role the token carries ("+serviceRoleNames()+"); repeat for more; on a --person token it narrows the person's roles")
	_ = create.MarkFlagRequired("scope")
	_ = create.MarkFlagRequired("name")

	var asJSON bool
	list := &cobra.Command{
		Use: "list", Short: "List tokens with their last use", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			st, err := app.OpenExistingStore(ctx, app.DSN(g.db))
			if err != nil {
				return err
			}
			defer st.Close()
			ts, err := st.Tokens(ctx)
			if err != nil {
				return err
			}
			if asJSON {
				return json.NewEncoder(cmd.OutOrStdout()).Encode(ts)
			}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 2, 4, 2, ' ', 0)
			fmt.Fprintln(w, "NAME\tSCOPE\tPERSON\tROLES\tCREATED\tLAST USED\tREVOKED")
			f := func(t time.Time) string {
				if t.IsZero() {
					return "-"
				}
				return t.Format(time.RFC3339)
			}
			for _, t := range ts {
				person := t.Person
				if person == "" {
					person = "-"
				}
				rs := strings.Join(t.Roles, ",")
				if rs == "" {
					rs = "-"
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t.Name, t.Scope, person, rs, f(t.CreatedAt), f(t.LastUsed), f(t.Revoked))
			}
			return w.Flush()
		},
	}
	list.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	revoke := &cobra.Command{
		Use: "revoke NAME", Short: "Revoke a token at once", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			st, err := app.OpenStore(ctx, app.DSN(g.db))
			if err != nil {
				return err
			}
			defer st.Close()
			if err := auth.RevokeToken(ctx, st, args[0], time.Now()); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "token %q revoked\n", args[0])
			return nil
		},
	}
	c.AddCommand(create, list, revoke)
	return c
}

// warnNoSCIMSource warns on stderr when a scim token is made that nothing
// can use: without a source of kind scim, every User push is refused.
func warnNoSCIMSource(cmd *cobra.Command, g *globals) {
	cfg, err := app.LoadConfig(g.config)
	if err != nil {
		fmt.Fprintf(cmd.ErrOrStderr(), "warning: cannot check for a SCIM source (%v); pushes to /scim/v2/Users need a source with `kind: scim`\n", err)
		return
	}
	for _, s := range cfg.Sources {
		if s.Kind == "scim" {
			return
		}
	}
	what := "the built-in config"
	if path, explicit := app.ConfigPath(g.config); explicit {
		what = path
	} else if _, err := os.Stat(path); err == nil {
		what = path
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "warning: %s has no source with `kind: scim`: SCIM pushes with this token are answered 404 until one is added\n", what)
}

func serviceRoleNames() string {
	names := make([]string, len(authz.ServiceRoles))
	for i, r := range authz.ServiceRoles {
		names[i] = string(r)
	}
	return strings.Join(names, ", ")
}
