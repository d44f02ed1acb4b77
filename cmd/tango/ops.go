package main

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/tango-iga/tango/internal/app"
	"github.com/tango-iga/tango/internal/provision"
	"github.com/tango-iga/tango/internal/store"
)

// opsCmd is `tango ops list [--state S] [--app A] [--person ID] [--json]`.
func opsCmd(g *globals) *cobra.Command {
	c := &cobra.Command{Use: "ops", Short: "Provisioning operations: what is queued, retrying, waiting for a person or failed"}
	var f store.OpFilter
	var asJSON bool
	list := &cobra.Command{
		Use: "list", Short: "List provisioning operations, oldest first", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if f.State != "" && !slices.Contains(store.OpStates, f.State) {
				return usageErr{fmt.Errorf("--state %q: want one of %s", f.State, strings.Join(store.OpStates, ", "))}
			}
			if f.Limit < 0 {
				return usageErr{fmt.Errorf("--limit %d: want 0 (all) or more", f.Limit)}
			}
			ctx := cmd.Context()
			st, err := app.OpenExistingStore(ctx, app.DSN(g.db))
			if err != nil {
				return err
			}
			defer st.Close()
			ops, err := st.Ops(ctx, f)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if asJSON {
				return json.NewEncoder(out).Encode(ops)
			}
			w := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
			fmt.Fprintln(w, "ID\tAPP\tKIND\tPERSON\tSTATE\tATTEMPTS\tNEXT TRY\tTASK\tLAST ERROR")
			for _, o := range ops {
				next, task := "-", "-"
				if o.State == store.OpPending || o.State == store.OpRetrying {
					next = o.NotBefore.Local().Format("2006-01-02 15:04:05")
				}
				if o.TaskID > 0 {
					task = strconv.FormatInt(o.TaskID, 10)
				}
				what := o.Kind
				if o.Entitlement != "" {
					what += " " + o.Entitlement
				}
				fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\n", o.ID, o.App, what, o.EmployeeID, o.State, o.Attempts,
					next, task, cmp.Or(opError(o.LastError), "-"))
			}
			return w.Flush()
		},
	}
	list.Flags().StringVar(&f.State, "state", "", strings.Join(store.OpStates, ", "))
	list.Flags().StringVar(&f.App, "app", "", "only this app's operations")
	list.Flags().StringVar(&f.EmployeeID, "person", "", "only operations for this employee ID")
	list.Flags().IntVar(&f.Limit, "limit", 0, "at most this many (0: all)")
	list.Flags().BoolVar(&asJSON, "json", false, "print a JSON array")
	c.AddCommand(list, opsRetryCmd(g))
	return c
}

// opsRetryCmd is `tango ops retry OP_ID [--json]`: a failed or retrying
// operation pending again, due now (provision.Retry); a running
// `tango serve` picks it up at its next poll.
func opsRetryCmd(g *globals) *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use: "retry OP_ID", Short: "Retry a failed or retrying operation now, its attempts reset", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := strconv.ParseInt(args[0], 10, 64)
			if err != nil || id <= 0 {
				return usageErr{fmt.Errorf("operation id %q: want a number (see tango ops list --state failed)", args[0])}
			}
			ctx := cmd.Context()
			st, err := app.OpenExistingStore(ctx, app.DSN(g.db))
			if err != nil {
				return err
			}
			defer st.Close()
			op, err := provision.Retry(ctx, st, id, cliActor(), time.Now())
			if err != nil {
				return err
			}
			if asJSON {
				return json.NewEncoder(cmd.OutOrStdout()).Encode(op)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "operation %d (%s %s for %s) is pending again, due now\n", op.ID, op.App, strings.TrimSpace(op.Kind+" "+op.Entitlement), op.EmployeeID)
			return nil
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print the operation as JSON")
	return c
}

// opError keeps an operation's error to one line of a table.
func opError(s string) string {
	r := []rune(strings.Join(strings.Fields(s), " "))
	if len(r) > 120 {
		return string(r[:117]) + "..."
	}
	return string(r)
}
