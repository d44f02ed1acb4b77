package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/tango-iga/tango/internal/app"
	"github.com/tango-iga/tango/internal/config"
	"github.com/tango-iga/tango/internal/request"
	"github.com/tango-iga/tango/internal/store"
)

// requestsCmd is `tango requests create|approve|reject|list|away`. The CLI
// runs with database access, so its operator says whom they act as with
// --as; the API takes the person from the token instead.
func requestsCmd(g *globals) *cobra.Command {
	c := &cobra.Command{Use: "requests", Short: "Access requests: ask for a requestable entitlement, approve, reject, list"}
	var as string
	// open opens the store (only an existing one when readOnly) and the
	// request service, and finds the person of --as when needAs.
	open := func(cmd *cobra.Command, needAs, readOnly bool) (store.Store, *request.Service, request.Caller, error) {
		if needAs && strings.TrimSpace(as) == "" {
			return nil, nil, request.Caller{}, usageErr{errors.New("--as EMPLOYEE_ID is required: the person who acts")}
		}
		cfg, err := app.LoadConfig(g.config)
		if err != nil {
			return nil, nil, request.Caller{}, err
		}
		openStore := app.OpenStore
		if readOnly {
			openStore = app.OpenExistingStore
		}
		st, err := openStore(cmd.Context(), app.DSN(g.db))
		if err != nil {
			return nil, nil, request.Caller{}, err
		}
		svc, err := request.NewService(st, cfg, time.Now)
		if err != nil {
			st.Close()
			return nil, nil, request.Caller{}, err
		}
		var who request.Caller
		if needAs {
			p, err := svc.Person(cmd.Context(), strings.TrimSpace(as))
			if err != nil {
				st.Close()
				return nil, nil, request.Caller{}, fmt.Errorf("--as %s: %w", as, err)
			}
			if err := asPerson(cmd.Context(), st, cfg, p, cliPerms[cmd.CommandPath()], cmd.CommandPath()); err != nil {
				st.Close()
				return nil, nil, request.Caller{}, err
			}
			who = request.Caller{Person: p, Via: cliActor()}
		}
		return st, svc, who, nil
	}
	var asJSON bool
	show := func(cmd *cobra.Command, r store.Request) error {
		if asJSON {
			return json.NewEncoder(cmd.OutOrStdout()).Encode(r)
		}
		msg := fmt.Sprintf("request %d (%s:%s for %s) is %s", r.ID, r.App, r.Entitlement, r.Beneficiary, r.State)
		switch {
		case r.State == store.RequestPending:
			msg += "; next: the " + r.NextStep() + " approval"
		case r.State == store.RequestApproved && !r.ExpiresAt.IsZero():
			msg += " until " + r.ExpiresAt.Format(time.RFC3339)
		case r.Reason != "":
			msg += ": " + r.Reason
		}
		fmt.Fprintln(cmd.OutOrStdout(), msg)
		return nil
	}
	id := func(s string) (int64, error) {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n <= 0 {
			return 0, usageErr{fmt.Errorf("request ID %q: want a number from `tango requests list`", s)}
		}
		return n, nil
	}

	var in request.New
	var duration string
	create := &cobra.Command{
		Use:   "create --as EMPLOYEE_ID --app APP --entitlement E --justification TEXT [--for EMPLOYEE_ID] [--duration 7d]",
		Short: "Request an entitlement for yourself or one of your reports", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if duration != "" {
				d, err := config.ParseDuration(duration)
				if err != nil {
					return usageErr{fmt.Errorf("--duration: %v", err)}
				}
				in.Duration = d
			}
			st, svc, who, err := open(cmd, true, false)
			if err != nil {
				return err
			}
			defer st.Close()
			r, err := svc.Create(cmd.Context(), who, in)
			if err != nil {
				return err
			}
			return show(cmd, r)
		},
	}
	create.Flags().StringVar(&in.App, "app", "", "the app")
	create.Flags().StringVar(&in.Entitlement, "entitlement", "", "a requestable entitlement of the app")
	create.Flags().StringVar(&in.Justification, "justification", "", "why it is needed")
	create.Flags().StringVar(&in.Beneficiary, "for", "", "employee ID of one of your reports (default: yourself)")
	create.Flags().StringVar(&duration, "duration", "", "how long (\"7d\", \"36h\"); default and limit: the entitlement's max_duration")
	create.Flags().BoolVar(&asJSON, "json", false, "print the request as JSON")

	var note string
	decide := func(approve bool) *cobra.Command {
		verb, short := "approve", "Approve the current step of a request"
		if !approve {
			verb, short = "reject", "Reject a pending request (or withdraw your own)"
		}
		d := &cobra.Command{
			Use: verb + " REQUEST_ID --as EMPLOYEE_ID", Short: short, Args: cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				n, err := id(args[0])
				if err != nil {
					return err
				}
				st, svc, who, err := open(cmd, true, false)
				if err != nil {
					return err
				}
				defer st.Close()
				var r store.Request
				if approve {
					r, err = svc.Approve(cmd.Context(), who, n, note)
				} else {
					r, err = svc.Reject(cmd.Context(), who, n, note)
				}
				if err != nil {
					return err
				}
				return show(cmd, r)
			},
		}
		d.Flags().StringVar(&note, "note", "", "why (kept with the approval, or as the rejection reason)")
		d.Flags().BoolVar(&asJSON, "json", false, "print the request as JSON")
		return d
	}

	var f store.RequestFilter
	var pending, overdue bool
	var approver string
	list := &cobra.Command{
		Use: "list [--pending] [--overdue] [--escalated] [--approver EMPLOYEE_ID] [--json]", Short: "List access requests", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			st, svc, _, err := open(cmd, false, true)
			if err != nil {
				return err
			}
			defer st.Close()
			if pending {
				f.State = store.RequestPending
			}
			now := time.Now()
			if overdue {
				f.DueBefore = now
			}
			rs, err := st.Requests(cmd.Context(), f)
			if err == nil && approver != "" {
				rs, err = svc.AwaitingApprover(cmd.Context(), rs, approver)
			}
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if asJSON {
				return json.NewEncoder(out).Encode(rs)
			}
			w := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
			fmt.Fprintln(w, "ID\tFOR\tBY\tACCESS\tRISK\tSTATE\tNEXT\tDUE\tEXPIRES")
			for _, r := range rs {
				exp := "-"
				if !r.ExpiresAt.IsZero() {
					exp = r.ExpiresAt.Local().Format("2006-01-02 15:04")
				}
				next := r.NextStep()
				if next == "" {
					next = "-"
				}
				due := "-"
				if r.State == store.RequestPending && !r.Due.IsZero() {
					due = r.Due.Local().Format("2006-01-02 15:04")
					if r.Overdue(now) {
						due += " OVERDUE"
					}
					if r.EscalatedTo != "" {
						due += " escalated to " + r.EscalatedTo
					}
				}
				fmt.Fprintf(w, "%d\t%s\t%s\t%s:%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.Beneficiary, r.Requester, r.App, r.Entitlement, r.Risk, r.State, next, due, exp)
			}
			return w.Flush()
		},
	}
	list.Flags().BoolVar(&pending, "pending", false, "only pending requests")
	list.Flags().StringVar(&f.State, "state", "", "pending, approved, rejected or expired")
	list.Flags().StringVar(&f.Beneficiary, "for", "", "only requests for this employee ID")
	list.Flags().StringVar(&approver, "approver", "", "only pending requests this employee ID may approve now (as approver, stand-in or the one an overdue step was escalated to)")
	list.Flags().BoolVar(&overdue, "overdue", false, "only pending requests whose current step is past its deadline")
	list.Flags().BoolVar(&f.Escalated, "escalated", false, "only pending requests whose overdue step was escalated")
	list.Flags().BoolVar(&asJSON, "json", false, "print a JSON array")

	var until string
	away := &cobra.Command{
		Use: "away EMPLOYEE_ID --until YYYY-MM-DD", Short: "Mark a person away: their manager approves in their place until then (--until '' : back)",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			st, svc, _, err := open(cmd, false, false)
			if err != nil {
				return err
			}
			defer st.Close()
			p, err := svc.Person(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			var t time.Time
			if until != "" {
				cfg, err := app.LoadConfig(g.config)
				if err != nil {
					return err
				}
				t, err = time.ParseInLocation("2006-01-02", until, cfg.Location())
				if err != nil {
					return usageErr{fmt.Errorf("--until %q: want a date such as 2026-04-01", until)}
				}
			}
			if err := request.SetAway(cmd.Context(), st, p.EmployeeID, t, cliActor(), time.Now()); err != nil {
				return err
			}
			if t.IsZero() {
				fmt.Fprintf(cmd.OutOrStdout(), "%s is back\n", p.EmployeeID)
			} else {
				fmt.Fprintf(cmd.OutOrStdout(), "%s is away until %s\n", p.EmployeeID, until)
			}
			return nil
		},
	}
	away.Flags().StringVar(&until, "until", "", "the day they are back (empty: back now)")

	c.PersistentFlags().StringVar(&as, "as", "", "employee ID of the person who acts (create, approve, reject)")
	c.AddCommand(create, decide(true), decide(false), list, away)
	return c
}
