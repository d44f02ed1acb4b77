package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/tango-iga/tango/internal/app"
	"github.com/tango-iga/tango/internal/authz"
	"github.com/tango-iga/tango/internal/config"
	"github.com/tango-iga/tango/internal/request"
	"github.com/tango-iga/tango/internal/review"
	"github.com/tango-iga/tango/internal/store"
)

// reviewsCmd is `tango reviews start|list|items|decide|close`: access
// reviews whose revocations really remove the access.
func reviewsCmd(g *globals) *cobra.Command {
	c := &cobra.Command{Use: "reviews", Short: "Access reviews: start a campaign, decide its items, close it once the revoked access is gone"}
	var asJSON bool
	open := func(cmd *cobra.Command, readOnly bool) (store.Store, *config.Config, *review.Service, error) {
		cfg, err := app.LoadConfig(g.config)
		if err != nil {
			return nil, nil, nil, err
		}
		openStore := app.OpenStore
		if readOnly {
			openStore = app.OpenExistingStore
		}
		st, err := openStore(cmd.Context(), app.DSN(g.db))
		if err != nil {
			return nil, nil, nil, err
		}
		svc, err := review.New(st, cfg, review.Options{Now: time.Now})
		if err != nil {
			st.Close()
			return nil, nil, nil, err
		}
		return st, cfg, svc, nil
	}
	id := func(what, s string) (int64, error) {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n <= 0 {
			return 0, usageErr{fmt.Errorf("%s ID %q: want a number from `tango reviews %s`", what, s, map[string]string{"campaign": "list", "item": "items"}[what])}
		}
		return n, nil
	}
	engine := func(cmd *cobra.Command, st store.Store, cfg *config.Config) (interface {
		PlanRevocations(context.Context) (int, error)
		PlanRequests(context.Context) (int, error)
	}, func(), error) {
		eng, err := app.Engine(st, cfg, slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: slog.LevelError})), time.Now)
		if err != nil {
			return nil, nil, err
		}
		return eng, eng.Close, nil
	}

	var o review.StartOptions
	var due string
	start := &cobra.Command{
		Use:   "start --kind manager|app|entitlement [--app NAME] [--entitlement X] [--team TEAM] [--undecided keep|revoke] [--due 14d] [--json]",
		Short: "Snapshot who holds what and open a campaign for its reviewers", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if due != "" {
				d, err := config.ParseDuration(due)
				if err != nil || d <= 0 {
					return usageErr{fmt.Errorf("--due %q: want a length of time such as 14d", due)}
				}
				o.Due = d
			}
			st, _, svc, err := open(cmd, false)
			if err != nil {
				return err
			}
			defer st.Close()
			o.Actor = cliActor()
			camp, items, err := svc.Start(cmd.Context(), o)
			if err != nil {
				return err
			}
			if asJSON {
				return json.NewEncoder(cmd.OutOrStdout()).Encode(map[string]any{"campaign": camp, "items": items})
			}
			fmt.Fprintf(cmd.OutOrStdout(), "campaign %d (%s) started: %d item(s), due %s, undecided items %s; snapshot %s\n",
				camp.ID, describe(camp), camp.Items, camp.DueAt.Local().Format("2006-01-02 15:04"), verbOf(camp.Policy), camp.Digest)
			return nil
		},
	}
	start.Flags().StringVar(&o.Kind, "kind", "", "manager (each person's manager reviews), app or entitlement (the app's owner reviews)")
	start.Flags().StringVar(&o.App, "app", "", "the app (required for app and entitlement; narrows a manager campaign)")
	start.Flags().StringVar(&o.Entitlement, "entitlement", "", "the entitlement (required for entitlement; narrows the others)")
	start.Flags().StringVar(&o.Team, "team", "", "a named team reviews every item instead")
	start.Flags().StringVar(&o.Undecided, "undecided", "keep", "what undecided items become at the close: keep or revoke")
	start.Flags().StringVar(&due, "due", "14d", "the deadline, from now")
	start.Flags().BoolVar(&asJSON, "json", false, "print the campaign and its items as JSON")

	var state string
	list := &cobra.Command{
		Use: "list [--state open|closed|complete] [--json]", Short: "List campaigns, newest first", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			st, _, _, err := open(cmd, true)
			if err != nil {
				return err
			}
			defer st.Close()
			cs, err := st.Campaigns(cmd.Context(), state)
			if err != nil {
				return err
			}
			if asJSON {
				if cs == nil {
					cs = []store.Campaign{}
				}
				return json.NewEncoder(cmd.OutOrStdout()).Encode(cs)
			}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 2, 4, 2, ' ', 0)
			fmt.Fprintln(w, "ID\tKIND\tSCOPE\tITEMS\tSTATE\tDUE\tUNDECIDED")
			for _, c := range cs {
				fmt.Fprintf(w, "%d\t%s\t%s\t%d\t%s\t%s\t%s\n", c.ID, c.Kind, scope(c), c.Items, c.State, c.DueAt.Local().Format("2006-01-02 15:04"), c.Policy)
			}
			return w.Flush()
		},
	}
	list.Flags().StringVar(&state, "state", "", "only campaigns in this state")
	list.Flags().BoolVar(&asJSON, "json", false, "print JSON")

	var f store.ReviewItemFilter
	items := &cobra.Command{
		Use: "items CAMPAIGN [--reviewer EMPLOYEE_ID] [--state pending|kept|revoking|waiting|verified] [--json]", Short: "List a campaign's items with their origin, recommendation and decision", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			n, err := id("campaign", args[0])
			if err != nil {
				return err
			}
			st, _, _, err := open(cmd, true)
			if err != nil {
				return err
			}
			defer st.Close()
			if _, err := st.Campaign(cmd.Context(), n); err != nil {
				return err
			}
			f.Campaign = n
			its, err := st.ReviewItems(cmd.Context(), f)
			if err != nil {
				return err
			}
			if asJSON {
				if its == nil {
					its = []store.ReviewItem{}
				}
				return json.NewEncoder(cmd.OutOrStdout()).Encode(its)
			}
			printItems(cmd.OutOrStdout(), its)
			return nil
		},
	}
	items.Flags().StringVar(&f.Reviewer, "reviewer", "", "only the items this employee reviews")
	items.Flags().StringVar(&f.State, "state", "", "only items in this state")
	items.Flags().BoolVar(&asJSON, "json", false, "print JSON")

	var as, decision, reason, narrower string
	decide := &cobra.Command{
		Use:   "decide ITEM --decision keep|revoke|modify [--entitlement NARROWER] [--reason TEXT] --as EMPLOYEE_ID [--json]",
		Short: "Keep, revoke or modify one item (revoke and modify need a reason; modify names the narrower entitlement of the same app that replaces it); a revocation and a modify's grant are queued for provisioning at once",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			n, err := id("item", args[0])
			if err != nil {
				return err
			}
			if strings.TrimSpace(as) == "" {
				return usageErr{errors.New("--as EMPLOYEE_ID is required: the reviewer who decides")}
			}
			st, cfg, svc, err := open(cmd, false)
			if err != nil {
				return err
			}
			defer st.Close()
			p, err := request.FindPerson(cmd.Context(), st, cfg, strings.TrimSpace(as))
			if err != nil {
				return fmt.Errorf("--as %s: %w", as, err)
			}
			res, err := authz.NewResolver(cfg, st, time.Now)
			if err != nil {
				return err
			}
			who, err := res.ForPerson(cmd.Context(), p, nil, cliActor())
			if err != nil {
				return fmt.Errorf("--as %s: %w", p.EmployeeID, err)
			}
			it, err := svc.DecideItem(cmd.Context(), who, n, review.Decision{Decision: decision, Reason: reason, Entitlement: narrower})
			if err != nil {
				return err
			}
			queued := 0
			if it.Removes() && len(cfg.Apps) > 0 {
				eng, done, err := engine(cmd, st, cfg)
				if err != nil {
					return err
				}
				defer done()
				if queued, err = eng.PlanRevocations(cmd.Context()); err != nil {
					return fmt.Errorf("item %d is %sd, but planning its removal failed (the next provisioning pass plans it): %w", it.ID, it.Decision, err)
				}
				if it.Decision == store.DecisionModify {
					granted, err := eng.PlanRequests(cmd.Context())
					if err != nil {
						return fmt.Errorf("item %d is modified, but planning the grant of %s failed (the next provisioning pass plans it): %w", it.ID, it.NewEntitlement, err)
					}
					queued += granted
				}
			}
			if asJSON {
				return json.NewEncoder(cmd.OutOrStdout()).Encode(it)
			}
			msg := fmt.Sprintf("item %d (%s for %s): %s", it.ID, access(it), it.EmployeeID, it.Decision)
			switch it.Decision {
			case store.DecisionRevoke:
				msg += fmt.Sprintf("; %d operation(s) queued to remove it", queued)
			case store.DecisionModify:
				msg += fmt.Sprintf(" to %s (request %d); %d operation(s) queued to remove it and grant %s", it.NewEntitlement, it.Request, queued, it.NewEntitlement)
			}
			fmt.Fprintln(cmd.OutOrStdout(), msg)
			return nil
		},
	}
	decide.Flags().StringVar(&as, "as", "", "the reviewer's employee ID")
	decide.Flags().StringVar(&decision, "decision", "", "keep, revoke or modify")
	decide.Flags().StringVar(&narrower, "entitlement", "", "modify only: the narrower entitlement of the same app that replaces the reviewed one")
	decide.Flags().StringVar(&reason, "reason", "", "why (required to revoke or modify)")
	decide.Flags().BoolVar(&asJSON, "json", false, "print the item as JSON")

	var timeout time.Duration
	closeCmd := &cobra.Command{
		Use:   "close CAMPAIGN [--timeout 10m] [--json]",
		Short: "Close a campaign (undecided items follow its policy), run the removals and read them back; complete once every revoked access is gone",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			n, err := id("campaign", args[0])
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			st, cfg, svc, err := open(cmd, false)
			if err != nil {
				return err
			}
			defer st.Close()
			camp, err := st.Campaign(ctx, n)
			if err != nil {
				return err
			}
			if camp.State == store.CampaignOpen {
				if camp, err = svc.Close(ctx, n, cliActor()); err != nil {
					return err
				}
			}
			eng, err := app.Engine(st, cfg, slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: slog.LevelError})), time.Now)
			if err != nil {
				return err
			}
			defer eng.Close()
			if camp.State == store.CampaignClosed {
				var apps []string
				if camp.App != "" {
					apps = []string{camp.App}
				}
				// Run the removals now (those waiting for a person's task
				// are not due and do not hold this up).
				if err := eng.Drain(ctx, apps); err != nil {
					return fmt.Errorf("campaign %d is closed, but running its removals failed: %w", n, err)
				}
				if _, err := eng.SettleWaiting(ctx); err != nil {
					return err
				}
			}
			prs, err := svc.Verify(ctx, eng, n, cliActor())
			if err != nil {
				return err
			}
			pr := prs[0]
			if asJSON {
				return json.NewEncoder(cmd.OutOrStdout()).Encode(pr)
			}
			printProgress(cmd.OutOrStdout(), pr)
			return nil
		},
	}
	closeCmd.Flags().DurationVar(&timeout, "timeout", 10*time.Minute, "give up waiting for the removals after this long")
	closeCmd.Flags().BoolVar(&asJSON, "json", false, "print the campaign's progress as JSON")

	c.AddCommand(start, list, items, decide, closeCmd)
	return c
}

func printProgress(w io.Writer, pr review.Progress) {
	c := pr.Campaign
	switch c.State {
	case store.CampaignComplete:
		fmt.Fprintf(w, "campaign %d is complete: %d revocation(s), every one read back and gone\n", c.ID, pr.Revoked)
	default:
		fmt.Fprintf(w, "campaign %d is %s: %d of %d revocation(s) verified; %d waiting for a task of the owning team, %d not removed yet (run `tango reviews close %d` or `tango reconcile` again)\n",
			c.ID, c.State, pr.Verified, pr.Revoked, pr.Waiting, pr.Pending, c.ID)
	}
}

func printItems(out io.Writer, its []store.ReviewItem) {
	w := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tPERSON\tACCESS\tORIGIN\tWHY\tREVIEWER\tLAST ACTIVITY\tRECOMMENDATION\tSTATE\tDECISION\tEVIDENCE")
	for _, it := range its {
		rev := it.Reviewer
		if rev == "" {
			rev = "team " + it.Team
		}
		if it.EscalatedTo != "" {
			rev += " (escalated to " + it.EscalatedTo + ")"
		}
		dec := "-"
		if it.Decision != "" {
			dec = it.Decision + " by " + it.DecidedBy
			if it.NewEntitlement != "" {
				dec = it.Decision + " to " + it.NewEntitlement + " by " + it.DecidedBy
			}
			if it.Reason != "" {
				dec += ": " + it.Reason
			}
		}
		ev := it.Evidence
		if ev == "" {
			ev = "-"
		}
		fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", it.ID, it.EmployeeID, access(it), it.Origin, it.Why, rev, lastActivity(it), it.Recommendation, it.State, dec, ev)
	}
	w.Flush()
}

// lastActivity is when the account was last used, as the campaign's
// snapshot read it ("-" when the app does not report it).
func lastActivity(it store.ReviewItem) string {
	if it.LastActivity.IsZero() {
		return "-"
	}
	return fmt.Sprintf("%s (%d days before the start)", it.LastActivity.UTC().Format(time.DateOnly), it.InactiveDays)
}

func access(it store.ReviewItem) string {
	if it.Entitlement == "" {
		return it.App + " (account)"
	}
	return it.App + ":" + it.Entitlement
}

func scope(c store.Campaign) string {
	s := c.App
	if c.Entitlement != "" {
		s += ":" + c.Entitlement
	}
	if s == "" {
		s = "all apps"
	}
	if c.Team != "" {
		s += " (team " + c.Team + ")"
	}
	return s
}

func describe(c store.Campaign) string { return c.Kind + " review of " + scope(c) }

func verbOf(policy string) string {
	if policy == store.DecisionRevoke {
		return "are revoked"
	}
	return "are kept"
}

// verifyReviews is reconcile's step for access reviews: every closed
// campaign's revocations are read back, and a campaign whose every one is
// gone becomes complete; one line per campaign on w.
func verifyReviews(ctx context.Context, st store.Store, cfg *config.Config, r review.Reader, w io.Writer) error {
	svc, err := review.New(st, cfg, review.Options{Now: time.Now})
	if err != nil {
		return err
	}
	prs, err := svc.Verify(ctx, r, 0, cliActor())
	if err != nil {
		return fmt.Errorf("verifying access reviews: %w", err)
	}
	for _, pr := range prs {
		fmt.Fprint(w, "reconcile: review ")
		printProgress(w, pr)
	}
	return nil
}
