package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/tango-iga/tango/internal/app"
	"github.com/tango-iga/tango/internal/policy"
	"github.com/tango-iga/tango/internal/provision"
	"github.com/tango-iga/tango/internal/store"
)

func policyCmd(g *globals) *cobra.Command {
	c := &cobra.Command{Use: "policy", Short: "Roles, birthright rules and separation of duties"}
	var asJSON bool
	plan := &cobra.Command{
		Use:   "plan",
		Short: "Show who would gain and lose what under the current config, and why, without changing anything",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			cfg, err := app.LoadConfig(g.config)
			if err != nil {
				return err
			}
			pol, err := policy.Compile(cfg)
			if err != nil {
				return err
			}
			st, err := app.OpenExistingStore(ctx, app.DSN(g.db))
			if err != nil {
				return err
			}
			defer st.Close()
			persons, err := st.Persons(ctx, store.PersonFilter{})
			if err != nil {
				return err
			}
			rows, err := st.Grants(ctx, "")
			if err != nil {
				return err
			}
			held := map[string][]policy.Grant{}
			for _, r := range rows {
				if r.State == "active" {
					held[r.Source+"\x00"+r.EmployeeID] = append(held[r.Source+"\x00"+r.EmployeeID], policy.Grant{App: r.App, Entitlement: r.Entitlement})
				}
			}
			approved, err := st.Requests(ctx, store.RequestFilter{State: store.RequestApproved})
			if err != nil {
				return err
			}
			requested := map[string][]store.Request{}
			for _, r := range approved {
				requested[r.Source+"\x00"+r.Beneficiary] = append(requested[r.Source+"\x00"+r.Beneficiary], r)
			}
			revs, err := st.Revocations(ctx, "", false)
			if err != nil {
				return err
			}
			revoked := map[string][]store.Revocation{}
			for _, r := range revs {
				revoked[r.Source+"\x00"+r.EmployeeID] = append(revoked[r.Source+"\x00"+r.EmployeeID], r)
			}
			res, err := pol.PlanReviewed(persons, func(src, id string) []policy.Grant { return held[src+"\x00"+id] },
				func(src, id string) []policy.Requested { return policy.FromRequests(requested[src+"\x00"+id]) },
				func(src, id string) []store.Revocation { return revoked[src+"\x00"+id] }, time.Now())
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if asJSON {
				return json.NewEncoder(out).Encode(res)
			}
			w := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
			fmt.Fprintln(w, "PERSON\tNAME\tCHANGE\tACCESS\tWHY")
			for _, c := range res.Changes {
				for _, gn := range c.Gains {
					why := []string{}
					if len(gn.Roles) > 0 {
						why = append(why, "role "+strings.Join(gn.Roles, ", "))
					}
					for _, id := range gn.Requests {
						why = append(why, fmt.Sprintf("request #%d", id))
					}
					fmt.Fprintf(w, "%s\t%s\t+ gain\t%s\t%s\n", c.EmployeeID, c.Name, gn, strings.Join(why, "; "))
				}
				for _, l := range c.Losses {
					fmt.Fprintf(w, "%s\t%s\t- lose\t%s\t%s\n", c.EmployeeID, c.Name, l.Grant, l.Reason)
				}
				for _, v := range c.Violations {
					fmt.Fprintf(w, "%s\t%s\t! withheld\t%s\tseparation of duties %q (role %s)\n", c.EmployeeID, c.Name, v.Withheld, v.Rule, v.Role)
				}
			}
			w.Flush()
			t := res.Totals
			fmt.Fprintf(out, "\n%d persons, %d change: %d gains, %d losses, %d withheld by separation of duties\n", t.Persons, t.Changed, t.Gains, t.Losses, t.Violations)
			return nil
		},
	}
	plan.Flags().BoolVar(&asJSON, "json", false, "print the plan as JSON")
	c.AddCommand(plan)
	return c
}

func reconcileCmd(g *globals) *cobra.Command {
	var apps []string
	var asJSON bool
	var timeout time.Duration
	c := &cobra.Command{
		Use:   "reconcile",
		Short: "Apply the plan, wait for its operations, read accounts back and report drift and orphans",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			cfg, err := app.LoadConfig(g.config)
			if err != nil {
				return err
			}
			if len(cfg.Apps) == 0 {
				return fmt.Errorf("the config has no apps to reconcile")
			}
			st, err := app.OpenStore(ctx, app.DSN(g.db))
			if err != nil {
				return err
			}
			defer st.Close()
			// Progress lines say what happens to each app (with the app's last
			// error when it is quarantined); one warning per failed operation
			// would bury them.
			eng, err := app.Engine(st, cfg, slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: slog.LevelError})), time.Now)
			if err != nil {
				return err
			}
			defer eng.Close()
			stderr := cmd.ErrOrStderr()
			rep, err := eng.ReconcileWith(ctx, provision.ReconcileOptions{Apps: apps, Progress: func(app, msg string) {
				fmt.Fprintf(stderr, "reconcile %s: %s\n", app, msg)
			}})
			if err != nil {
				return err
			}
			// Access reviews: read back what closed campaigns revoked.
			if err := verifyReviews(ctx, st, cfg, eng, stderr); err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if asJSON {
				if err := json.NewEncoder(out).Encode(rep); err != nil {
					return err
				}
			} else {
				w := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
				fmt.Fprintln(w, "APP\tSTATUS\tACCOUNTS\tCREATED\tUPDATED\tDISABLED\tORPHANS\tLEAVERS ACTIVE\tDRIFT\tMISSING\tFAILED")
				for _, r := range rep.Apps {
					status := "ok"
					switch {
					case r.Unreadable:
						status = "unreadable"
					case r.Quarantined:
						status = "quarantined"
					}
					fmt.Fprintf(w, "%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\n", r.App, status, r.Accounts, r.Created, r.Updated, r.Disabled, r.Orphans, r.LeaverActive, r.Drift, r.Missing, r.Failed)
				}
				w.Flush()
			}
			var failed []string
			for _, r := range rep.Apps {
				if r.Error != "" {
					fmt.Fprintf(stderr, "tango: app %s: %s\n", r.App, r.Error)
					failed = append(failed, r.App)
				}
			}
			if len(failed) > 0 {
				return &exitError{code: exitFail, err: fmt.Errorf("%d of %d app(s) could not be read: %s", len(failed), len(rep.Apps), strings.Join(failed, ", "))}
			}
			return nil
		},
	}
	c.Flags().StringSliceVar(&apps, "app", nil, "reconcile only these apps (repeat or comma-separate)")
	c.Flags().BoolVar(&asJSON, "json", false, "print one JSON object")
	c.Flags().DurationVar(&timeout, "timeout", 30*time.Minute, "give up on the whole run after this long (each app has its own reconcile_timeout, default 5m)")
	return c
}
