package main

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/tango-iga/tango/internal/api"
	"github.com/tango-iga/tango/internal/app"
	"github.com/tango-iga/tango/internal/config"
	"github.com/tango-iga/tango/internal/hr"
	"github.com/tango-iga/tango/internal/provision"
	"github.com/tango-iga/tango/internal/store"
)

// Read-only lists of what Tango holds, next to the API's.

func stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Local().Format("2006-01-02 15:04")
}

// hrImportsCmd is `tango hr imports [--status S] [--source NAME] [--json]`.
func hrImportsCmd(g *globals) *cobra.Command {
	var f store.ImportFilter
	var asJSON bool
	c := &cobra.Command{
		Use: "imports", Short: "List imports, newest first: applied, held, and rejected feeds with their errors", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := oneOfFlag("status", f.Status, store.ImportApplied, store.ImportHeld, store.ImportRejected); err != nil {
				return err
			}
			ctx := cmd.Context()
			st, err := app.OpenExistingStore(ctx, app.DSN(g.db))
			if err != nil {
				return err
			}
			defer st.Close()
			is, err := st.ImportsBy(ctx, f)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if asJSON {
				if is == nil {
					is = []store.Import{}
				}
				return json.NewEncoder(out).Encode(is)
			}
			w := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
			fmt.Fprintln(w, "ID\tSOURCE\tSTATUS\tCREATED\tACTOR\tFILE\tROWS\tJOINERS\tMOVERS\tLEAVERS\tREASON")
			for _, i := range is {
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%d\t%d\t%d\t%d\t%s\n", i.ID, i.Source, i.Status, stamp(i.CreatedAt), i.Actor, cmp.Or(i.File, "-"), i.Rows, i.Joiners, i.Movers, i.Leavers, cmp.Or(i.Reason, "-"))
			}
			if err := w.Flush(); err != nil {
				return err
			}
			// A rejected feed's errors, under the table (the first few of each).
			for _, i := range is {
				for n, e := range i.Errors {
					if n == 5 {
						fmt.Fprintf(out, "%s: … %d more (--json shows all)\n", i.ID, len(i.Errors)-n)
						break
					}
					fmt.Fprintf(out, "%s: %s\n", i.ID, rowError(e))
				}
			}
			return nil
		},
	}
	c.Flags().StringVar(&f.Status, "status", "", "applied, held or rejected")
	c.Flags().StringVar(&f.Source, "source", "", "only imports of this source")
	c.Flags().IntVar(&f.Limit, "limit", 100, "at most this many (up to 1000)")
	c.Flags().BoolVar(&asJSON, "json", false, "print a JSON array")
	return c
}

func rowError(e store.ImportError) string {
	return hr.RowError{Row: e.Row, Column: e.Column, Message: e.Message}.Error()
}

func oneOfFlag(name, v string, allowed ...string) error {
	if v == "" {
		return nil
	}
	for _, a := range allowed {
		if v == a {
			return nil
		}
	}
	return &exitError{code: exitUsage, err: fmt.Errorf("--%s %q: want one of %s", name, v, strings.Join(allowed, ", "))}
}

// auditListCmd is `tango audit list [--actor] [--action] [--subject] [--source] [--since] [--json]`.
func auditListCmd(g *globals) *cobra.Command {
	var f store.AuditFilter
	var since string
	var asJSON bool
	c := &cobra.Command{
		Use: "list", Short: "Read the audit trail, oldest first, by actor, action and time", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if since != "" {
				t, err := store.ParseSince(since, time.Now())
				if err != nil {
					return &exitError{code: exitUsage, err: err}
				}
				f.Since = t
			}
			ctx := cmd.Context()
			st, err := app.OpenExistingStore(ctx, app.DSN(g.db))
			if err != nil {
				return err
			}
			defer st.Close()
			out := cmd.OutOrStdout()
			var w *tabwriter.Writer
			if asJSON {
				fmt.Fprint(out, "[")
			} else {
				w = tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
				fmt.Fprintln(w, "SEQ\tAT\tACTOR\tACTION\tSOURCE\tIMPORT\tSUBJECT")
			}
			// Page through the trail: it may hold millions of entries.
			q, n := f, 0
			q.Limit = 5000
			for {
				page, err := st.AuditQuery(ctx, q)
				if err != nil {
					return err
				}
				for _, e := range page {
					if asJSON {
						if n > 0 {
							fmt.Fprint(out, ",")
						}
						b, err := json.Marshal(e)
						if err != nil {
							return err
						}
						out.Write(b)
					} else {
						fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", e.Seq, e.At.Local().Format("2006-01-02 15:04:05"), e.Actor, e.Action, cmp.Or(e.Source, "-"), cmp.Or(e.ImportID, "-"), cmp.Or(e.Subject, "-"))
					}
					n++
				}
				if len(page) < q.Limit {
					break
				}
				q.After = page[len(page)-1].Seq
			}
			if asJSON {
				fmt.Fprintln(out, "]")
				return nil
			}
			return w.Flush()
		},
	}
	c.Flags().StringVar(&f.Actor, "actor", "", "only entries of this actor (cli:USER, token:NAME, system:…)")
	c.Flags().StringVar(&f.Action, "action", "", "an action or a dotted prefix (hr matches hr.joiner, hr.import.rejected, …)")
	c.Flags().StringVar(&f.Subject, "subject", "", "only entries about this subject, exactly: a person's employee ID (their events, who read their data: person.read, scim.read), an app, a task…")
	c.Flags().StringVar(&f.Source, "source", "", "only entries of this HR source")
	c.Flags().StringVar(&since, "since", "", "only entries since a time (RFC 3339), a date (YYYY-MM-DD) or a duration back (24h, 7d)")
	c.Flags().BoolVar(&asJSON, "json", false, "print a JSON array of entries")
	return c
}

// findingsCmd is `tango findings list [--team] [--state] [--kind] [--app] [--json]`.
func findingsCmd(g *globals) *cobra.Command {
	c := &cobra.Command{Use: "findings", Short: "What reconcile and provisioning found: orphans, leavers still active, drift, failures"}
	var team, state, kind, appName string
	var asJSON bool
	list := &cobra.Command{
		Use: "list", Short: "List findings", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := oneOfFlag("state", state, "open", "resolved"); err != nil {
				return err
			}
			ctx := cmd.Context()
			st, err := app.OpenExistingStore(ctx, app.DSN(g.db))
			if err != nil {
				return err
			}
			defer st.Close()
			all, err := st.Findings(ctx, kind, appName, state)
			if err != nil {
				return err
			}
			fs := []store.Finding{}
			for _, f := range all {
				if team == "" || f.Team == team {
					fs = append(fs, f)
				}
			}
			out := cmd.OutOrStdout()
			if asJSON {
				return json.NewEncoder(out).Encode(fs)
			}
			w := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
			fmt.Fprintln(w, "ID\tKIND\tAPP\tTEAM\tSTATE\tSUBJECT\tLAST SEEN\tDETAIL")
			for _, f := range fs {
				fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", f.ID, f.Kind, cmp.Or(f.App, "-"), f.Team, f.Status, f.Subject, stamp(f.LastSeen), f.Detail)
			}
			return w.Flush()
		},
	}
	list.Flags().StringVar(&team, "team", "", "only this team's findings (it, security, …)")
	list.Flags().StringVar(&state, "state", "", "open or resolved")
	list.Flags().StringVar(&kind, "kind", "", "orphan-account, leaver-active, entitlement-drift, account-missing, operation-failed, …")
	list.Flags().StringVar(&appName, "app", "", "only findings about this app")
	list.Flags().BoolVar(&asJSON, "json", false, "print a JSON array")
	c.AddCommand(list)
	return c
}

// appsCmd is `tango apps list [--json]`.
func appsCmd(g *globals) *cobra.Command {
	c := &cobra.Command{Use: "apps", Short: "The apps Tango provisions, with the health of their connectors and queues"}
	var asJSON bool
	list := &cobra.Command{
		Use: "list", Short: "List apps with connector health and operations by state", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			cfg, err := app.LoadConfig(g.config)
			if err != nil {
				return err
			}
			st, err := app.OpenExistingStore(ctx, app.DSN(g.db))
			if err != nil {
				return err
			}
			defer st.Close()
			as, err := api.AppStatuses(ctx, st, cfg, time.Now())
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if asJSON {
				return json.NewEncoder(out).Encode(as)
			}
			w := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
			fmt.Fprintln(w, "APP\tCONNECTOR\tOWNER\tHEALTH\tOPERATIONS\tLAST ERROR")
			for _, a := range as {
				health := "ok"
				if a.Quarantined {
					health = "quarantined until " + stamp(a.Health.QuarantinedUntil)
				} else if a.Health.Failures > 0 {
					health = fmt.Sprintf("%d failures", a.Health.Failures)
				}
				var ops []string
				for _, s := range []string{store.OpPending, store.OpRunning, store.OpDone, store.OpFailed} {
					if n := a.Operations[s]; n > 0 {
						ops = append(ops, fmt.Sprintf("%s %d", s, n))
					}
				}
				for s, n := range a.Operations { // states this list does not know yet
					if s != store.OpPending && s != store.OpRunning && s != store.OpDone && s != store.OpFailed && n > 0 {
						ops = append(ops, fmt.Sprintf("%s %d", s, n))
					}
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", a.Name, cmp.Or(a.Connector, "(removed)"), cmp.Or(a.Owner, "-"), health, cmp.Or(strings.Join(ops, ", "), "-"), cmp.Or(a.Health.LastError, "-"))
			}
			return w.Flush()
		},
	}
	list.Flags().BoolVar(&asJSON, "json", false, "print a JSON array")
	c.AddCommand(list, appsReleaseCmd(g))
	return c
}

// appsReleaseCmd is `tango apps release APP [--json]`: a quarantined
// app's quarantine ended now (provision.Release).
func appsReleaseCmd(g *globals) *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use: "release APP", Short: "End a quarantined app's quarantine now, forgetting its consecutive failures", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			cfg, err := app.LoadConfig(g.config)
			if err != nil {
				return err
			}
			st, err := app.OpenExistingStore(ctx, app.DSN(g.db))
			if err != nil {
				return err
			}
			defer st.Close()
			configured := slices.ContainsFunc(cfg.Apps, func(a config.App) bool { return a.Name == args[0] })
			h, err := provision.Release(ctx, st, args[0], configured, cliActor(), time.Now())
			if err != nil {
				return err
			}
			if asJSON {
				return json.NewEncoder(cmd.OutOrStdout()).Encode(h)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "app %s is released: its operations run at the engine's next poll\n", h.App)
			return nil
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print the app's health as JSON")
	return c
}
